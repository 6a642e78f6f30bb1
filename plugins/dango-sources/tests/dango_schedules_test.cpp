// Schedules: cron next-run times in time zones (in process), and over HTTP against the real host
// the schedules file's reload (good and bad), manual trigger, cancelling a running sync held open
// by the blocking test source, history paging and unscheduled sources; and the tick a due time
// brings — enqueued through the host exactly as the host scheduler would enqueue it, so no test
// waits for the clock — with its syncs, history, notifications and the schedule's models.
#include <gtest/gtest.h>

#include <plughost/json.hpp>
#include <set>

#include "cron.hpp"
#include "lab.hpp"
#include "schedules.hpp"
#include "time_text.hpp"

namespace {

using namespace dango_test;
using plughost::sdk::to_json;

int64_t at(const std::string& iso) {
  return *dango::parse_iso_utc(iso);
}

std::string next(const std::string& cron, const std::string& zone, const std::string& after) {
  std::string error;
  auto spec = dango::parse_cron(cron, error);
  EXPECT_TRUE(spec) << error;
  auto tz = dango::find_time_zone(zone, error);
  EXPECT_TRUE(tz) << error;
  if (!spec || !tz) return "";
  auto t = dango::next_fire(*spec, tz, at(after));
  return t ? dango::iso_utc(*t) : "never";
}

TEST(dango_schedules, NextRunFollowsTheTimeZonesWallClock) {
  // 02:00 Berlin is 00:00 UTC in summer, 01:00 UTC in winter.
  EXPECT_EQ(next("0 2 * * *", "Europe/Berlin", "2026-07-01T12:00:00Z"), "2026-07-02T00:00:00Z");
  EXPECT_EQ(next("0 2 * * *", "Europe/Berlin", "2026-01-01T12:00:00Z"), "2026-01-02T01:00:00Z");
  // Weekdays only: Friday evening in New York → Monday 09:00 EDT.
  EXPECT_EQ(next("0 9 * * MON-FRI", "America/New_York", "2026-05-15T20:00:00Z"),
            "2026-05-18T13:00:00Z");
  // Spring forward (Berlin, 2026-03-29): 02:30 does not exist and fires at 03:00 CEST.
  EXPECT_EQ(next("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z"), "2026-03-29T01:00:00Z");
  // Fall back (New York, 2026-11-01): 01:30 happens twice and fires only at the first.
  EXPECT_EQ(next("30 1 * * *", "America/New_York", "2026-11-01T00:00:00Z"), "2026-11-01T05:30:00Z");
  EXPECT_EQ(next("30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z"), "2026-11-02T06:30:00Z");
  // Vixie day rule: the 13th or a Friday; and macros.
  EXPECT_EQ(next("0 0 13 * FRI", "UTC", "2026-02-10T00:00:00Z"), "2026-02-13T00:00:00Z");
  EXPECT_EQ(next("@hourly", "UTC", "2026-02-10T10:00:00Z"), "2026-02-10T11:00:00Z");
  EXPECT_EQ(next("*/15 * * * *", "Asia/Kolkata", "2026-02-10T10:05:00Z"), "2026-02-10T10:15:00Z");
  EXPECT_EQ(next("0 0 30 2 *", "UTC", "2026-02-10T10:00:00Z"), "never");
}

TEST(dango_schedules, RejectsBadCronAndZonesWithTheFieldNamed) {
  std::string error;
  EXPECT_FALSE(dango::parse_cron("0 24 * * *", error));
  EXPECT_EQ(error, "hour field: value 24 out of range 0-23");
  EXPECT_FALSE(dango::parse_cron("0 * * *", error));
  EXPECT_EQ(error, "expected 5 fields, got 4");
  EXPECT_FALSE(dango::parse_cron("0 0 * * FRI-MON", error));
  EXPECT_EQ(error, "day-of-week field: range 'FRI-MON' does not ascend");
  EXPECT_FALSE(dango::parse_cron("@reboot", error));
  EXPECT_FALSE(dango::find_time_zone("Mars/Olympus", error));
  EXPECT_EQ(error, "unknown time zone 'Mars/Olympus'");
}

TEST(dango_schedules, ParsesTheSchedulesFileAgainstTheSources) {
  dango::Settings settings;
  settings.sources.push_back({"sales", "csv", true, "{}", "", "/tmp", "incremental"});
  auto file = dango::parse_schedule_file(
      "schedules:\n"
      "  - {name: Nightly, cron: '0 2 * * *', timezone: Europe/Berlin, sources: [SALES],\n"
      "     models: [daily_revenue], full_refresh: true}\n"
      "  - {name: adhoc, cron: '@daily', sources: [sales], enabled: false}\n",
      settings);
  ASSERT_EQ(file.schedules.size(), 2u);
  EXPECT_EQ(file.schedules[0].name, "adhoc");
  EXPECT_FALSE(file.schedules[0].enabled);
  EXPECT_EQ(file.schedules[1].name, "nightly");
  EXPECT_EQ(file.schedules[1].sources, std::vector<std::string>{"sales"});
  EXPECT_EQ(file.schedules[1].models, std::vector<std::string>{"daily_revenue"});
  EXPECT_TRUE(file.schedules[1].full_refresh);
  EXPECT_EQ(file.version.size(), 16u);
  auto fails = [&](const std::string& yaml) {
    try {
      dango::parse_schedule_file(yaml, settings);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(fails("schedules:\n  - {name: a, cron: '0 2 * * *', sources: [nope]}\n"),
            "schedules[0] (a).sources: no configured source 'nope'");
  EXPECT_EQ(fails("schedules:\n  - {name: a, cron: '0 2 * *', sources: [sales]}\n"),
            "schedules[0] (a).cron: expected 5 fields, got 4 (line 2)");
  EXPECT_EQ(fails("schedules:\n  - {name: a, cron: '@daily', timezone: Nowhere, sources: [sales]}"),
            "schedules[0] (a).timezone: unknown time zone 'Nowhere' (line 2)");
  EXPECT_EQ(fails("schedules:\n  - name: a\n    cron: '@daily'\n    sorces: [sales]\n"),
            "schedules[0]: unknown key 'sorces' (line 4)");
  EXPECT_EQ(fails("schedules:\n  - {name: a, cron: '@daily', sources: [sales]}\n"
                  "  - {name: A, cron: '@daily', sources: [sales]}\n"),
            "schedules: duplicate name a");
  EXPECT_EQ(dango::parse_schedule_file("", settings).schedules.size(), 0u);
}

// A lab whose schedules file lives at `file` (written by the test before and during the run).
struct ScheduleLab {
  std::string dir = make_temp_dir();
  std::string file = dir + "/schedules.yml";
  std::unique_ptr<Lab> lab;
  ScheduleLab(const std::string& sources, const std::string& yaml) {
    write_file(file, yaml);
    lab = std::make_unique<Lab>(LabSetup(sources, false, "schedules_file: \"" + file + "\""));
  }
};

TEST(dango_schedules, ReloadTakesAGoodFileAndRejectsABadOneKeepingTheOld) {
  ScheduleLab s("[{name: sales, type: csv}, {name: orders, type: csv}, {name: misc, type: csv}]",
                "schedules:\n  - {name: hourly, cron: '0 * * * *', sources: [sales]}\n");
  Lab& lab = *s.lab;
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto list = json(lab.get("/api/schedules"));
  ASSERT_EQ(list["schedules"].Size(), 1u);
  const auto& hourly = list["schedules"][0];
  EXPECT_STREQ(hourly["name"].GetString(), "hourly");
  EXPECT_STREQ(hourly["timezone"].GetString(), "UTC");
  ASSERT_TRUE(hourly["next_run"].IsString());
  int64_t next_run = at(hourly["next_run"].GetString());
  int64_t now = dango::now_ms() / 1000;
  EXPECT_GT(next_run, now);
  EXPECT_LE(next_run, now + 3600);
  EXPECT_EQ(next_run % 3600, 0);
  EXPECT_TRUE(hourly["last_run"].IsNull());
  EXPECT_EQ(hourly["active_jobs"].Size(), 0u);

  auto unscheduled = json(lab.get("/api/sources/unscheduled"));
  ASSERT_EQ(unscheduled["count"].GetInt64(), 2);
  EXPECT_STREQ(unscheduled["sources"][0]["name"].GetString(), "misc");
  EXPECT_STREQ(unscheduled["sources"][1]["name"].GetString(), "orders");

  write_file(s.file, "schedules:\n  - {name: hourly, cron: '0 25 * * *', sources: [sales]}\n");
  auto bad = lab.post("/api/schedules/reload");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_STREQ(json(bad)["error_code"].GetString(), "DANGO-SCHED-001");
  EXPECT_NE(
      std::string(json(bad)["message"].GetString()).find("hour field: value 25 out of range 0-23"),
      std::string::npos)
      << bad.body;
  auto still = json(lab.get("/api/schedules"));
  ASSERT_EQ(still["schedules"].Size(), 1u);
  EXPECT_STREQ(still["schedules"][0]["cron"].GetString(), "0 * * * *");

  write_file(s.file,
             "schedules:\n"
             "  - {name: hourly, cron: '30 * * * *', sources: [sales]}\n"
             "  - {name: berlin, cron: '0 2 * * *', timezone: Europe/Berlin, sources: [orders]}\n");
  auto good = lab.post("/api/schedules/reload");
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(json(good)["count"].GetInt64(), 2);
  auto now_list = json(lab.get("/api/schedules"));
  ASSERT_EQ(now_list["schedules"].Size(), 2u);
  EXPECT_STREQ(now_list["schedules"][0]["name"].GetString(), "berlin");
  EXPECT_EQ(at(now_list["schedules"][1]["next_run"].GetString()) % 3600, 1800);
  // Berlin's 02:00 is 00:00 or 01:00 UTC.
  int64_t berlin = at(now_list["schedules"][0]["next_run"].GetString());
  EXPECT_TRUE(berlin % 86400 == 0 || berlin % 86400 == 3600) << berlin;
  EXPECT_EQ(json(lab.get("/api/sources/unscheduled"))["count"].GetInt64(), 1);
  EXPECT_EQ(lab.get("/api/schedules/nope").status, 404);
  EXPECT_STREQ(json(lab.get("/api/schedules/nope"))["detail"].GetString(),
               "Schedule 'nope' not found");
}

TEST(dango_schedules, CancellingARunningJobStopsItBeforeAnythingIsLoaded) {
  ScheduleLab s("[{name: blk, type: blocking}]",
                "schedules:\n  - {name: held, cron: '0 3 * * *', sources: [blk]}\n");
  Lab& lab = *s.lab;
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto fired = lab.post("/api/schedules/held/trigger");
  ASSERT_EQ(fired.status, 200) << fired.body;
  int64_t job = json(fired)["job_id"].GetInt64();
  int64_t execution = json(fired)["execution_id"].GetInt64();
  ASSERT_TRUE(eventually(
      [&] { return json(lab.get("/api/test-source/state"))["entered"].GetInt() == 1; }, 20));
  auto list = json(lab.get("/api/schedules"));
  ASSERT_EQ(list["schedules"][0]["active_jobs"].Size(), 1u);
  EXPECT_EQ(list["schedules"][0]["active_jobs"][0]["job_id"].GetInt64(), job);
  EXPECT_TRUE(list["schedules"][0]["is_running"].GetBool());

  auto cancel = lab.post("/api/schedules/jobs/" + std::to_string(job) + "/cancel");
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_STREQ(json(cancel)["cancelled_sources"][0].GetString(), "blk");
  lab.post("/api/test-source/release");
  std::string status;
  ASSERT_TRUE(eventually(
      [&] {
        auto h = json(lab.get("/api/schedules/held/history"));
        status = h["executions"][0]["status"].GetString();
        return status != "running";
      },
      20));
  EXPECT_EQ(status, "cancelled");
  auto h = json(lab.get("/api/schedules/held/history"));
  EXPECT_EQ(h["executions"][0]["id"].GetInt64(), execution);
  EXPECT_EQ(h["executions"][0]["rows_loaded"].GetInt64(), 0);
  // Nothing reached the warehouse, and the sync job says so too.
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_blk__items"), "<none>");
  EXPECT_STREQ(json(lab.get("/api/sync/status/" + std::to_string(job)))["status"].GetString(),
               "cancelled");
  EXPECT_EQ(lab.post("/api/schedules/jobs/" + std::to_string(job) + "/cancel").status, 409);
  EXPECT_EQ(lab.post("/api/schedules/jobs/999/cancel").status, 404);

  // The next run goes through and loads.
  auto again = lab.post("/api/schedules/held/trigger");
  ASSERT_EQ(again.status, 200) << again.body;
  lab.post("/api/test-source/release");
  ASSERT_TRUE(eventually(
      [&] {
        auto d = json(lab.get("/api/schedules/held"));
        return std::string(d["recent_executions"][0]["status"].GetString()) == "success";
      },
      20));
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_blk__items"), "2");
  auto last = json(lab.get("/api/schedules/held"));
  EXPECT_STREQ(last["last_status"].GetString(), "success");
  EXPECT_STREQ(last["recent_executions"][0]["trigger"].GetString(), "manual");
}

TEST(dango_schedules, HistoryPagesNewestFirst) {
  ScheduleLab s("[{name: sales, type: csv}]",
                "schedules:\n  - {name: sweep, cron: '0 4 * * *', sources: [sales]}\n");
  Lab& lab = *s.lab;
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("sales") + "/a.csv", "id\n1\n");
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = lab.post("/api/schedules/sweep/trigger");
    ASSERT_EQ(r.status, 200) << r.body;
    ids.push_back(json(r)["execution_id"].GetInt64());
    ASSERT_TRUE(eventually(
        [&] {
          auto h = json(lab.get("/api/schedules/sweep/history?limit=1"));
          return std::string(h["executions"][0]["status"].GetString()) == "success";
        },
        20));
  }
  auto first = json(lab.get("/api/schedules/sweep/history?limit=2"));
  EXPECT_EQ(first["total"].GetInt64(), 3);
  ASSERT_EQ(first["executions"].Size(), 2u);
  EXPECT_EQ(first["executions"][0]["id"].GetInt64(), ids[2]);
  EXPECT_EQ(first["executions"][1]["id"].GetInt64(), ids[1]);
  EXPECT_TRUE(first["has_more"].GetBool());
  auto second = json(lab.get("/api/schedules/sweep/history?limit=2&offset=2"));
  ASSERT_EQ(second["executions"].Size(), 1u);
  EXPECT_EQ(second["executions"][0]["id"].GetInt64(), ids[0]);
  EXPECT_FALSE(second["has_more"].GetBool());
  EXPECT_EQ(lab.get("/api/schedules/sweep/history?offset=x").status, 400);
  auto recent = json(lab.get("/api/schedules/history/recent?limit=2"));
  ASSERT_EQ(recent["executions"].Size(), 2u);
  EXPECT_EQ(recent["executions"][0]["id"].GetInt64(), ids[2]);
  EXPECT_STREQ(recent["executions"][0]["schedule"].GetString(), "sweep");
}

// A lab with two CSV sources, the fixture dbt project, a webhook target for every sync outcome
// and a schedules file that syncs both sources and then builds the staging models (and, the
// seed's cascade, everything downstream of them).
struct TickLab {
  StubServer hook{[](const StubRequest&) { return StubReply(200, "{}"); }};
  std::string dir = make_temp_dir();
  std::string file = dir + "/schedules.yml";
  std::unique_ptr<Lab> lab;
  TickLab() {
    write_file(file,
               "schedules:\n"
               "  - {name: nightly, cron: '0 3 * * *', timezone: Europe/Berlin,\n"
               "     sources: [customers, orders], models: [stg_customers, stg_orders]}\n");
    lab = std::make_unique<Lab>(
        LabSetup("[{name: customers, type: csv}, {name: orders, type: csv}]", false,
                 "schedules_file: \"" + file +
                     "\", dbt: {project_dir: \"" DANGO_FIXTURES_DIR
                     "/dbt_shop\"}, notifications: {webhooks: [{name: ops, url: \"" +
                     hook.url() + "/hook\", on: [failure, success]}]}"));
  }
};

// The newest execution of `schedule` once it (models included) is no longer running.
rapidjson::Document settled_execution(Lab& lab, const std::string& schedule, int64_t id) {
  rapidjson::Document found;
  eventually(
      [&] {
        auto h = json(lab.get("/api/schedules/" + schedule + "/history?limit=1"));
        if (h["executions"].Empty()) return false;
        const auto& e = h["executions"][0];
        if (e["id"].GetInt64() != id || std::string(e["status"].GetString()) == "running") {
          return false;
        }
        found.CopyFrom(e, found.GetAllocator());
        return true;
      },
      60);
  return found;
}

TEST(dango_schedules, ADueTickSyncsRecordsNotifiesAndBuildsTheModels) {
  TickLab t;
  Lab& lab = *t.lab;
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("customers") + "/c.csv",
             "id,email,country\n1,ada@example.com,UK\n2,grace@example.org,US\n"
             "3,alan@example.net,UK\n");
  write_text(lab.folder("orders") + "/o.csv",
             "order_id,customer_id,amount,status\n10,1,5,placed\n11,1,7,shipped\n"
             "12,2,9,returned\n13,3,4,placed\n");

  // The schedule lives on the host scheduler, and the plugin reports the host's next run.
  const std::string host_name = "dango-sources.schedule.nightly";
  auto held = lab.get("/api/test-source/schedule?name=" + host_name);
  ASSERT_EQ(held.status, 200) << held.body;
  auto h = json(held);
  EXPECT_STREQ(h["owner"].GetString(), "dango-sources");
  EXPECT_STREQ(h["task"].GetString(), "dango-sources/schedule_tick");
  EXPECT_STREQ(h["timezone"].GetString(), "Europe/Berlin");
  EXPECT_TRUE(h["payload_with_due"].GetBool());
  ASSERT_TRUE(h["next_run"].IsString());
  const std::string next_run = h["next_run"].GetString();
  auto listed = json(lab.get("/api/schedules"));
  EXPECT_EQ(std::string(listed["schedules"][0]["next_run"].GetString()), next_run);
  EXPECT_TRUE(listed["schedules"][0]["last_run"].IsNull());

  // The due time comes: the tick the host scheduler enqueues, enqueued now.
  auto fired = lab.post("/api/test-source/fire?name=" + host_name, "");
  ASSERT_EQ(fired.status, 200) << fired.body;
  const int64_t task = json(fired)["task_id"].GetInt64();
  EXPECT_EQ(dango::iso_utc(json(fired)["due"].GetInt64()), next_run);
  int64_t id = 0;
  ASSERT_TRUE(eventually(
      [&] {
        auto list = json(lab.get("/api/schedules/nightly/history"));
        if (list["executions"].Empty()) return false;
        id = list["executions"][0]["id"].GetInt64();
        return true;
      },
      30));
  auto e = settled_execution(lab, "nightly", id);
  ASSERT_TRUE(e.IsObject()) << lab.host().output();
  EXPECT_STREQ(e["status"].GetString(), "success") << to_json(e);
  EXPECT_STREQ(e["trigger"].GetString(), "cron");
  EXPECT_STREQ(e["triggered_by"].GetString(), "scheduler");
  EXPECT_EQ(std::string(e["due_at"].GetString()), next_run);
  EXPECT_EQ(e["sources"].Size(), 2u);
  EXPECT_EQ(e["rows_loaded"].GetInt64(), 7);
  EXPECT_TRUE(e["error"].IsNull());
  // The staging models and everything downstream, in dependency order, all built.
  EXPECT_STREQ(e["models_status"].GetString(), "success");
  std::vector<std::string> built;
  for (const auto& m : e["model_results"].GetObject()) {
    built.push_back(m.name.GetString());
    EXPECT_STREQ(m.value.GetString(), "success") << m.name.GetString();
  }
  ASSERT_EQ(built.size(), 5u) << to_json(e);
  EXPECT_EQ(built.back(), "country_summary");
  EXPECT_TRUE(e["models_finished_at"].IsString());
  EXPECT_GE(std::string(e["finished_at"].GetString()), std::string(e["started_at"].GetString()));

  // The data and models really are there.
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_orders__orders"), "4");
  auto models = json(lab.get("/api/dbt/models"));
  for (const auto& m : models["models"].GetArray()) {
    if (std::string(m["name"].GetString()) == "country_summary") {
      EXPECT_STREQ(m["status"].GetString(), "success");
      EXPECT_EQ(m["row_count"].GetInt64(), 2);  // UK and US
    }
  }
  // Last run recorded, on the plugin's side and the host scheduler's.
  auto after = json(lab.get("/api/schedules/nightly"));
  EXPECT_STREQ(after["last_status"].GetString(), "success");
  EXPECT_FALSE(after["last_run"].IsNull());
  EXPECT_EQ(
      std::string(
          json(lab.get("/api/test-source/schedule?name=" + host_name))["last_run"].GetString()),
      next_run);
  // The notification rule (every outcome) fired once per synced source.
  ASSERT_TRUE(eventually([&] { return t.hook.requests().size() == 2; }, 20));
  std::set<std::string> notified;
  for (const auto& r : t.hook.requests()) {
    rapidjson::Document body;
    body.Parse(r.body.c_str());
    EXPECT_STREQ(body["event"].GetString(), "sync_completed");
    notified.insert(body["source"].GetString());
  }
  EXPECT_EQ(notified, (std::set<std::string>{"customers", "orders"}));

  // The same due time again (another host's scheduler): the same task, no second execution.
  auto again = lab.post("/api/test-source/fire?name=" + host_name, "");
  EXPECT_EQ(json(again)["task_id"].GetInt64(), task);
  EXPECT_EQ(json(lab.get("/api/schedules/nightly/history"))["total"].GetInt64(), 1);
}

TEST(dango_schedules, ModelsReportFailedTestsAndAreSkippedAfterAFailedSync) {
  TickLab t;
  Lab& lab = *t.lab;
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("customers") + "/c.csv", "id,email,country\n1,ada@example.com,UK\n");
  // "cancelled" is not an accepted status: stg_orders builds but its test fails.
  write_text(lab.folder("orders") + "/o.csv",
             "order_id,customer_id,amount,status\n10,1,5,cancelled\n");
  auto fired = lab.post("/api/schedules/nightly/trigger");
  ASSERT_EQ(fired.status, 200) << fired.body;
  auto e = settled_execution(lab, "nightly", json(fired)["execution_id"].GetInt64());
  ASSERT_TRUE(e.IsObject()) << lab.host().output();
  EXPECT_STREQ(e["status"].GetString(), "failed") << to_json(e);
  EXPECT_STREQ(e["models_status"].GetString(), "tests_failed");
  EXPECT_STREQ(e["model_results"]["stg_orders"].GetString(), "tests_failed");
  EXPECT_STREQ(e["model_results"]["country_summary"].GetString(), "success");
  EXPECT_NE(std::string(e["error"].GetString()).find("stg_orders tests_failed"), std::string::npos)
      << to_json(e);

  // A source whose file cannot be loaded: the sync fails and no model is built on it.
  write_text(lab.folder("orders") + "/p.csv", "order_id,customer_id\n3,\"unterminated\n");
  auto second = lab.post("/api/schedules/nightly/trigger");
  ASSERT_EQ(second.status, 200) << second.body;
  auto f = settled_execution(lab, "nightly", json(second)["execution_id"].GetInt64());
  ASSERT_TRUE(f.IsObject()) << lab.host().output();
  EXPECT_STREQ(f["status"].GetString(), "failed") << to_json(f);
  EXPECT_STREQ(f["models_status"].GetString(), "skipped");
  EXPECT_EQ(f["model_results"].MemberCount(), 0u);
}

// The schedules file is the truth for every host: a tick finds the file changed on disk (another
// host reloaded it), takes the new set on this host too, and a tick whose due time the current
// definition no longer has does nothing.
TEST(dango_schedules, ATickFollowsTheFileOnDiskAndAStaleOneDoesNothing) {
  ScheduleLab s("[{name: sales, type: csv}]",
                "schedules:\n  - {name: nightly, cron: '0 3 * * *', sources: [sales]}\n");
  Lab& lab = *s.lab;
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  const std::string host_name = "dango-sources.schedule.nightly";
  auto before = json(lab.get("/api/test-source/schedule?name=" + host_name));
  const int64_t old_due = at(before["next_run"].GetString());
  EXPECT_EQ(old_due % 86400, 3 * 3600);

  // Another host reloaded a file where the schedule runs at 05:00: this host has not.
  write_file(s.file, "schedules:\n  - {name: nightly, cron: '0 5 * * *', sources: [sales]}\n");
  auto fired = lab.post("/api/test-source/fire?name=" + host_name, "");
  ASSERT_EQ(fired.status, 200) << fired.body;
  EXPECT_EQ(json(fired)["due"].GetInt64(), old_due);
  const std::string task = std::to_string(json(fired)["task_id"].GetInt64());
  std::string status;
  ASSERT_TRUE(eventually(
      [&] {
        status = json(lab.get("/api/test-source/task?id=" + task))["status"].GetString();
        return status != "queued" && status != "running";
      },
      30));
  EXPECT_EQ(status, "succeeded");
  auto t = json(lab.get("/api/test-source/task?id=" + task));
  std::string log;
  for (const auto& line : t["log"].GetArray()) log += to_json(line);
  EXPECT_NE(log.find("stale tick"), std::string::npos) << log;
  EXPECT_EQ(json(lab.get("/api/schedules/nightly/history"))["total"].GetInt64(), 0);
  // …and this host now runs the file's 05:00, as the plugin reports it.
  auto after = json(lab.get("/api/test-source/schedule?name=" + host_name));
  EXPECT_EQ(at(after["next_run"].GetString()) % 86400, 5 * 3600);
  auto listed = json(lab.get("/api/schedules"));
  EXPECT_STREQ(listed["schedules"][0]["cron"].GetString(), "0 5 * * *");
  EXPECT_EQ(std::string(listed["schedules"][0]["next_run"].GetString()),
            std::string(after["next_run"].GetString()));

  // Disabled: the host drops it, and a tick for it does nothing either.
  write_file(
      s.file,
      "schedules:\n  - {name: nightly, cron: '0 5 * * *', sources: [sales], enabled: false}\n");
  ASSERT_EQ(lab.post("/api/schedules/reload").status, 200);
  EXPECT_EQ(lab.get("/api/test-source/schedule?name=" + host_name).status, 404);
  EXPECT_TRUE(json(lab.get("/api/schedules"))["schedules"][0]["next_run"].IsNull());
}

}  // namespace
