// Durable tasks through the real binary: the fixture_store plugin enqueues and inspects tasks
// over HTTP. Crash safety on SQLite: SIGKILL with tasks queued and running, restart, nothing lost.
#include <gtest/gtest.h>
#include <plughost/abi.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "support.hpp"

namespace itest {
namespace {

std::string store_config(const std::string& storage_url, const std::string& node, int workers,
                         double lease_seconds) {
  return "version: 1\n"
         "auth: {enabled: false}\n"
         "rate_limits: {enabled: false}\n"
         "server: {listen: 127.0.0.1:0}\n"
         "log: {format: json, access: false}\n"
         "storage: {url: \"" +
         storage_url +
         "\"}\n"
         "tasks: {workers: " +
         std::to_string(workers) + ", lease_seconds: " + std::to_string(lease_seconds) +
         ", poll_interval_seconds: 0.02, node: " + node +
         "}\n"
         "plugins_dir: " FIXTURE_PLUGIN_DIR
         "\n"
         "plugins:\n"
         "  fixture_store: {required: true}\n";
}

int64_t enqueue(int port, const std::string& body) {
  auto r = http(port, "POST", "/api/tasks", {}, body);
  EXPECT_EQ(r.status, 202) << r.body;
  return json(r)["id"].GetInt64();
}

std::string task_status(int port, int64_t id) {
  return json(http(port, "GET", "/api/tasks/" + std::to_string(id)))["status"].GetString();
}

constexpr double kPatience = 60;  // seconds; a safety net for eventually()

TEST(Tasks, TaskRunsAndReportsProgressLogAndResult) {
  std::string dir = make_temp_dir();
  Host host(store_config("sqlite://" + dir + "/t.db", "solo", 2, 30));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  http(host.port(), "POST", "/api/notes", {}, "{\"body\":\"a\"}");
  int64_t id = enqueue(host.port(), "{\"kind\":\"count\"}");
  ASSERT_TRUE(eventually([&] { return task_status(host.port(), id) == "succeeded"; }, kPatience));
  auto t = json(http(host.port(), "GET", "/api/tasks/" + std::to_string(id)));
  EXPECT_EQ(t["result"]["notes"].GetInt(), 1);
  EXPECT_EQ(t["progress"].GetInt(), 100);
  EXPECT_EQ(t["log"].Size(), 3u);
}

TEST(Tasks, SigkillLosesNoTaskOnSqlite) {
  std::string dir = make_temp_dir();
  std::string url = "sqlite://" + dir + "/crash.db";
  std::vector<int64_t> ids;
  int64_t blocker = 0;
  {
    Host first(store_config(url, "first", 1, 0.5));
    ASSERT_TRUE(first.wait_ready()) << first.output();
    // The only worker is busy with a task that never ends by itself; everything behind it waits.
    blocker = enqueue(first.port(), "{\"kind\":\"wait_cancel\"}");
    ASSERT_TRUE(
        eventually([&] { return task_status(first.port(), blocker) == "running"; }, kPatience));
    for (int i = 0; i < 100; ++i) ids.push_back(enqueue(first.port(), "{\"kind\":\"record\"}"));
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait_exit(), 128 + SIGKILL);
  }
  Host second(store_config(url, "second", 2, 0.5));
  ASSERT_TRUE(second.wait_ready()) << second.output();
  int port = second.port();
  ASSERT_TRUE(eventually(
      [&] {
        auto runs = json(http(port, "GET", "/api/runs"));
        return runs["distinct"].GetInt() == 100;
      },
      kPatience));
  auto runs = json(http(port, "GET", "/api/runs"));
  EXPECT_EQ(runs["runs"].GetInt(), 100);  // queued tasks ran once each: none lost, none doubled
  // A task's row is written by the handler before the task itself is marked done: wait for it.
  for (int64_t id : ids) {
    ASSERT_TRUE(eventually([&] { return task_status(port, id) == "succeeded"; }, kPatience)) << id;
  }
  // The task that was running when the host died is taken again once its lease lapsed.
  ASSERT_TRUE(eventually(
      [&] {
        auto b = json(http(port, "GET", "/api/tasks/" + std::to_string(blocker)));
        return b["node"].IsString() && std::string(b["node"].GetString()) == "second";
      },
      kPatience));
  auto b = json(http(port, "GET", "/api/tasks/" + std::to_string(blocker)));
  EXPECT_STREQ(b["status"].GetString(), "running");
  EXPECT_EQ(b["attempts"].GetInt(), 2);
  EXPECT_EQ(http(port, "DELETE", "/api/tasks/" + std::to_string(blocker)).status, 202);
  ASSERT_TRUE(eventually([&] { return task_status(port, blocker) == "cancelled"; }, kPatience));
}

size_t count_lines(const std::string& out, const std::string& needle) {
  size_t n = 0;
  for (size_t at = out.find(needle); at != std::string::npos; at = out.find(needle, at + 1)) ++n;
  return n;
}

TEST(Schedules, SighupReplacesTheConfigSchedulesOrRejectsTheFileWhole) {
  std::string dir = make_temp_dir();
  const std::string base = store_config("sqlite://" + dir + "/t.db", "solo", 1, 30);
  Host host(base +
            "schedules:\n"
            "  - {name: nightly, cron: \"0 2 * * *\", task: fixture_store/count}\n");
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto nightly = http(host.port(), "GET", "/api/schedules/nightly");
  ASSERT_EQ(nightly.status, 200) << nightly.body;
  EXPECT_STREQ(json(nightly)["cron"].GetString(), "0 2 * * *");

  write_file(host.dir() + "/plughost.yaml",
             base +
                 "schedules:\n"
                 "  - {name: hourly, cron: \"15 * * * *\", timezone: Europe/Berlin,"
                 " task: fixture_store/record, payload: {from: reload}}\n");
  host.signal(SIGHUP);
  ASSERT_TRUE(
      eventually([&] { return count_lines(host.output(), "config reloaded") == 1; }, kPatience))
      << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/api/schedules/nightly").status, 404);
  auto hourly = http(host.port(), "GET", "/api/schedules/hourly");
  ASSERT_EQ(hourly.status, 200) << hourly.body;
  auto h = json(hourly);
  EXPECT_STREQ(h["timezone"].GetString(), "Europe/Berlin");
  EXPECT_STREQ(h["owner"].GetString(), "config");
  ASSERT_TRUE(h["next_run"].IsString());
  EXPECT_EQ(std::string(h["next_run"].GetString()).substr(13), ":15:00Z");
  auto ready = json(http(host.port(), "GET", "/readyz"));
  for (const auto& c : ready["checks"].GetArray()) {
    if (std::string(c["name"].GetString()) != "config") continue;
    EXPECT_STREQ(c["status"].GetString(), "ok");
  }
  EXPECT_EQ(count_lines(host.output(), "take effect only after a restart"), 0u);

  // A task kind no plugin runs, then a bad cron: each file is rejected and "hourly" stays.
  write_file(host.dir() + "/plughost.yaml",
             base + "schedules:\n  - {name: x, cron: \"@daily\", task: fixture_store/nope}\n");
  host.signal(SIGHUP);
  ASSERT_TRUE(
      eventually([&] { return count_lines(host.output(), "reload rejected") == 1; }, kPatience));
  write_file(host.dir() + "/plughost.yaml",
             base + "schedules:\n  - {name: x, cron: \"61 * * * *\", task: fixture_store/count}\n");
  host.signal(SIGHUP);
  ASSERT_TRUE(
      eventually([&] { return count_lines(host.output(), "reload rejected") == 2; }, kPatience));
  EXPECT_NE(host.output().find("no running plugin has task kind \\\"fixture_store/nope\\\""),
            std::string::npos)
      << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/api/schedules/hourly").status, 200);
  EXPECT_EQ(http(host.port(), "GET", "/api/schedules/x").status, 404);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0);
}

// ABI 1.6 schedules_replace through the real binary: fixture_store replaces its own schedules
// after init; each bad set is refused whole with its status code and the previous set stays.
TEST(scheduler_abi, PluginReplacesItsSchedulesAfterInitAllOrNothing) {
  std::string dir = make_temp_dir();
  Host host(store_config("sqlite://" + dir + "/t.db", "solo", 1, 30) +
            "schedules:\n  - {name: nightly, cron: \"0 2 * * *\", task: fixture_store/count}\n");
  ASSERT_TRUE(host.wait_ready()) << host.output();
  const int port = host.port();
  auto put = [&](const std::string& body) {
    auto r = http(port, "PUT", "/api/schedules", {}, body);
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r);
  };
  auto ok = put(R"([{"name":"fx.daily","cron":"0 3 * * *","timezone":"Europe/Berlin",)"
                R"("task":"fixture_store/record","payload":{"tag":"abi"},"with_due":true}])");
  EXPECT_EQ(ok["code"].GetInt(), PH_OK) << ok["error"].GetString();
  auto d = json(http(port, "GET", "/api/schedules/fx.daily"));
  EXPECT_STREQ(d["owner"].GetString(), "fixture_store");
  EXPECT_STREQ(d["timezone"].GetString(), "Europe/Berlin");
  EXPECT_STREQ(d["payload"]["tag"].GetString(), "abi");
  EXPECT_TRUE(d["payload_with_due"].GetBool());
  ASSERT_TRUE(d["next_run"].IsString());
  const std::string next = d["next_run"].GetString();
  EXPECT_TRUE(next.substr(11) == "02:00:00Z" || next.substr(11) == "01:00:00Z") << next;

  struct Bad {
    const char* body;
    int code;
    const char* says;
  };
  const Bad bad[] = {
      {R"([{"name":"fx.b","cron":"0 24 * * *","task":"fixture_store/count"}])",
       PH_ERR_INVALID_ARGUMENT, "hour field"},
      {R"([{"name":"fx.b","cron":"@daily","timezone":"Mars/Olympus","task":"fixture_store/count"}])",
       PH_ERR_INVALID_ARGUMENT, "Mars/Olympus"},
      {R"([{"name":"fx.b","cron":"@daily","task":"fixture_store/nope"}])", PH_ERR_INVALID_ARGUMENT,
       "no plugin has task kind"},
      {R"([{"name":"fx.b","cron":"@daily","task":"fixture_store/count","payload":[1],"with_due":true}])",
       PH_ERR_INVALID_ARGUMENT, "must be an object"},
      {R"([{"name":"fx.b","cron":"@daily","task":"fixture_store/count"},)"
       R"({"name":"fx.b","cron":"@hourly","task":"fixture_store/count"}])",
       PH_ERR_CONFLICT, "defined twice"},
      {R"([{"name":"nightly","cron":"@daily","task":"fixture_store/count"}])", PH_ERR_CONFLICT,
       "already defined by config"},
  };
  for (const auto& b : bad) {
    auto r = put(b.body);
    EXPECT_EQ(r["code"].GetInt(), b.code) << b.body;
    EXPECT_NE(std::string(r["error"].GetString()).find(b.says), std::string::npos)
        << r["error"].GetString();
    EXPECT_EQ(json(http(port, "GET", "/api/schedules/fx.daily"))["next_run"].GetString(), next);
    EXPECT_EQ(http(port, "GET", "/api/schedules/fx.b").status, 404);
  }

  // A new set drops what it leaves out; an empty one drops everything the plugin owns, and the
  // config file's schedule is never touched.
  EXPECT_EQ(put(R"([{"name":"fx.hourly","cron":"@hourly","task":"fixture_store/count"}])")["code"]
                .GetInt(),
            PH_OK);
  EXPECT_EQ(http(port, "GET", "/api/schedules/fx.daily").status, 404);
  EXPECT_EQ(http(port, "GET", "/api/schedules/fx.hourly").status, 200);
  EXPECT_EQ(put("[]")["code"].GetInt(), PH_OK);
  EXPECT_EQ(http(port, "GET", "/api/schedules/fx.hourly").status, 404);
  EXPECT_EQ(http(port, "GET", "/api/schedules/nightly").status, 200);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0);
}

TEST(Events, StreamDeliversMatchingEventsAsServerSentEvents) {
  std::string dir = make_temp_dir();
  Host host(store_config("sqlite://" + dir + "/e.db", "solo", 1, 30));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  Connection sse(host.port());
  ASSERT_TRUE(
      sse.send_raw("GET /api/events/stream?types=note_*,task.succeeded HTTP/1.1\r\n"
                   "Host: x\r\n\r\n"));
  std::string got;
  ASSERT_TRUE(sse.read_until(": connected", got)) << got;
  EXPECT_NE(got.find("Content-Type: text/event-stream"), std::string::npos) << got;
  http(host.port(), "POST", "/api/notes", {}, "{\"body\":\"hello\"}");
  ASSERT_TRUE(sse.read_until("event: note_created", got)) << got;
  int64_t id = enqueue(host.port(), "{\"kind\":\"count\"}");
  ASSERT_TRUE(sse.read_until("event: task.succeeded", got)) << got;
  EXPECT_NE(got.find("\"id\":" + std::to_string(id) + ",\"kind\":\"fixture_store/count\""),
            std::string::npos)
      << got;
  EXPECT_EQ(got.find("event: task.failed"), std::string::npos);
  // The host still shuts down cleanly with a client attached.
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0);
}

}  // namespace
}  // namespace itest

namespace itest {
namespace {

TEST(Tasks, PluginEnqueuesItsOwnKindDuringInitAndItRunsOnceInitSucceeded) {
  std::string dir = make_temp_dir();
  std::string yaml = store_config("sqlite://" + dir + "/init.db", "n1", 1, 5);
  yaml.replace(yaml.find("fixture_store: {required: true}"),
               std::string("fixture_store: {required: true}").size(),
               "fixture_store: {required: true, config: {enqueue_on_init: true}}");
  Host host(yaml);
  ASSERT_TRUE(host.wait_ready()) << host.output();
  ASSERT_TRUE(eventually(
      [&] { return json(http(host.port(), "GET", "/api/runs"))["runs"].GetInt() == 1; }, kPatience))
      << host.output();
  auto tasks = json(http(host.port(), "GET", "/api/tasks?status=succeeded"));
  ASSERT_EQ(tasks.Size(), 1u);
  EXPECT_STREQ(tasks[0]["kind"].GetString(), "fixture_store/record");
}

}  // namespace
}  // namespace itest
