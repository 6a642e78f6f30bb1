// Syncs over HTTP against the real host: CSV files in temp folders loaded into the SQLite
// warehouse, incremental and full refresh rules, malformed input, 409 while a source syncs, jobs,
// events on the host's SSE stream.
#include <gtest/gtest.h>

#include "lab.hpp"

namespace {

using namespace dango_test;

std::string csv_source(const std::string& name, const std::string& extra = "") {
  return "{name: " + name + ", type: csv" + extra + "}";
}

TEST(dango_sync, LoadsCsvFilesIntoATypedRawTable) {
  Lab lab(LabSetup("[" + csv_source("Sales") + "]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("sales") + "/jan.csv",
             "order_id;amount;ordered_on;note\n1;9.5;2026-01-02;\"a; b\"\n2;10;2026-01-03;\n");
  write_text(lab.folder("sales") + "/feb.csv", "order_id,amount,ordered_on\n3,7.25,2026-02-01\n");
  EXPECT_EQ(lab.sync_and_wait("sales"), "success");

  const std::string db = lab.warehouse();
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_sales__sales"), "3");
  std::map<std::string, std::string> types;
  for (const auto& row :
       query(db, "SELECT name, type FROM pragma_table_info('raw_sales__sales')")) {
    types[row[0]] = row[1];
  }
  EXPECT_EQ(types["order_id"], "INTEGER");
  EXPECT_EQ(types["amount"], "REAL");
  EXPECT_EQ(types["ordered_on"], "DATE");
  EXPECT_EQ(types["note"], "TEXT");
  EXPECT_EQ(types["_dango_filename"], "TEXT");
  EXPECT_EQ(types["_dango_file_mtime"], "TIMESTAMP");
  EXPECT_EQ(types["_dango_loaded_at"], "TIMESTAMP");
  EXPECT_EQ(scalar(db, "SELECT note FROM raw_sales__sales WHERE order_id = 1"), "a; b");
  EXPECT_EQ(scalar(db, "SELECT note FROM raw_sales__sales WHERE order_id = 3"), "NULL");
  EXPECT_EQ(scalar(db, "SELECT _dango_filename FROM raw_sales__sales WHERE order_id = 3"),
            "feb.csv");
  EXPECT_EQ(scalar(db, "SELECT typeof(amount) FROM raw_sales__sales WHERE order_id = 2"), "real");

  auto list = json(lab.get("/api/sources"));
  ASSERT_EQ(list.Size(), 1u);
  EXPECT_STREQ(list[0]["status"].GetString(), "synced");
  EXPECT_EQ(list[0]["row_count"].GetInt64(), 3);
  EXPECT_EQ(list[0]["freshness"]["days_old"].GetInt64(), 0);
  EXPECT_STREQ(list[0]["freshness"]["last_sync_status"].GetString(), "success");
  ASSERT_EQ(list[0]["tables"].Size(), 1u);
  EXPECT_STREQ(list[0]["tables"][0]["schema"].GetString(), "raw_sales");
  EXPECT_STREQ(list[0]["tables"][0]["name"].GetString(), "sales");

  auto details = json(lab.get("/api/sources/SALES/details"));
  const auto& run = details["sync_history"][0];
  EXPECT_EQ(run["rows_loaded"].GetInt64(), 3);
  EXPECT_TRUE(run["duration_ms"].IsInt64());
  EXPECT_TRUE(run["error"].IsNull());

  auto logs = json(lab.get("/api/sources/sales/logs"));
  std::set<std::string> events;
  for (const auto& e : logs["logs"].GetArray()) events.insert(e["event"].GetString());
  EXPECT_TRUE(events.count("sync_started"));
  EXPECT_TRUE(events.count("sync_completed"));
}

TEST(dango_sync, IncrementalSyncFollowsNewUpdatedDeletedAndEmptyFiles) {
  Lab lab(LabSetup("[" + csv_source("shop") + "]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  const std::string f = lab.folder("shop");
  const std::string db = lab.warehouse();
  write_text(f + "/a.csv", "id,qty\n1,1\n2,2\n");
  write_text(f + "/b.csv", "id,qty\n3,3\n");
  ASSERT_EQ(lab.sync_and_wait("shop"), "success");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_shop__shop"), "3");

  write_text(f + "/a.csv", "id,qty,color\n1,10,red\n");
  bump_mtime(f + "/a.csv", 5);
  fs::remove(f + "/b.csv");
  write_text(f + "/c.csv", "id,qty\n");  // header only: skipped
  write_text(f + "/d.csv", "id,qty\n4,4\n");
  ASSERT_EQ(lab.sync_and_wait("shop"), "success");
  EXPECT_EQ(scalar(db,
                   "SELECT group_concat(id || ':' || qty, ' ') FROM (SELECT * FROM "
                   "raw_shop__shop ORDER BY id)"),
            "1:10 4:4");
  EXPECT_EQ(scalar(db, "SELECT color FROM raw_shop__shop WHERE id = 1"), "red");
  EXPECT_EQ(scalar(db, "SELECT color FROM raw_shop__shop WHERE id = 4"), "NULL");

  auto logs = json(lab.get("/api/logs?limit=50"));
  bool skipped = false;
  for (const auto& e : logs["logs"].GetArray()) {
    skipped = skipped || std::string(e["message"].GetString()) == "skipped c.csv: no rows";
  }
  EXPECT_TRUE(skipped);
  EXPECT_EQ(json(lab.get("/api/logs?limit=1"))["logs"].Size(), 1u);
  EXPECT_EQ(json(lab.get("/api/logs?limit=0"))["logs"].Size(), 1u);  // clamped to 1..10000
  EXPECT_EQ(json(lab.get("/api/logs?limit=-3"))["count"].GetInt64(), 1);
  auto bad_limit = lab.get("/api/logs?limit=ten");
  EXPECT_EQ(bad_limit.status, 400);
  EXPECT_STREQ(json(bad_limit)["error_code"].GetString(), "DANGO-V001");
}

TEST(dango_sync, FullRefreshWithoutRowsKeepsTheOldRows) {
  Lab lab(LabSetup("[" + csv_source("keep") + "]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  const std::string f = lab.folder("keep");
  write_text(f + "/a.csv", "id\n1\n2\n");
  ASSERT_EQ(lab.sync_and_wait("keep"), "success");
  fs::remove(f + "/a.csv");
  write_text(f + "/empty.csv", "id\n");
  ASSERT_EQ(lab.sync_and_wait("keep", "{\"full_refresh\": true}"), "success");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_keep__keep"), "2");
  // With allow_empty_replace the empty refresh does replace them.
  ASSERT_EQ(lab.sync_and_wait("keep", "{\"full_refresh\": true, \"allow_empty_replace\": true}"),
            "success");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_keep__keep"), "0");
  EXPECT_STREQ(json(lab.get("/api/sources"))[0]["status"].GetString(), "empty");
}

TEST(dango_sync, FullRefreshSourcesReloadEveryFile) {
  Lab lab(LabSetup("[{name: snap, type: csv, options: {sync_mode: full_refresh}}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  const std::string file = lab.folder("snap") + "/a.csv";
  write_text(file, "id\n1\n2\n");
  ASSERT_EQ(lab.sync_and_wait("snap"), "success");
  auto mtime = fs::last_write_time(file);
  // Same mtime, other content: an incremental sync would not look at it; a full refresh does.
  write_text(file, "id\n7\n");
  fs::last_write_time(file, mtime);
  ASSERT_EQ(lab.sync_and_wait("snap"), "success");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT group_concat(id) FROM raw_snap__snap"), "7");
  EXPECT_STREQ(json(lab.get("/api/sources/snap/details"))["sync_mode"].GetString(), "full_refresh");
}

TEST(dango_sync, MalformedCsvFailsWithLineNumbersAndLoadsNothing) {
  Lab lab(LabSetup("[" + csv_source("orders") + "]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  const std::string f = lab.folder("orders");
  write_text(f + "/good.csv", "id,name\n1,a\n");
  ASSERT_EQ(lab.sync_and_wait("orders"), "success");
  write_text(f + "/more.csv", "id,name\n2,b\n");
  write_text(f + "/bad.csv", "id,name\n3,c\n4,d,extra\n5,\"e\n");
  EXPECT_EQ(lab.sync_and_wait("orders"), "failed");
  // Neither more.csv nor the good lines of bad.csv were loaded.
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_orders__orders"), "1");

  auto details = json(lab.get("/api/sources/orders/details"));
  std::string error = details["sync_history"][0]["error"].GetString();
  EXPECT_NE(error.find("bad.csv:3: expected 2 fields, found 3"), std::string::npos) << error;
  EXPECT_NE(error.find("bad.csv:4: unterminated"), std::string::npos) << error;
  EXPECT_STREQ(details["status"].GetString(), "failed");
  auto logs = json(lab.get("/api/sources/orders/logs"));
  int input_errors = 0;
  for (const auto& e : logs["logs"].GetArray()) {
    if (std::string(e["event"].GetString()) == "input_error") ++input_errors;
  }
  EXPECT_EQ(input_errors, 2);

  // Fixed, the next sync loads both pending files.
  write_text(f + "/bad.csv", "id,name\n3,c\n");
  EXPECT_EQ(lab.sync_and_wait("orders"), "success");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_orders__orders"), "3");
}

TEST(dango_sync, LoadsJsonArraysAndNdjson) {
  Lab lab(LabSetup("[{name: events, type: json}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(
      lab.folder("events") + "/a.json",
      "[{\"id\": 1, \"kind\": \"click\", \"meta\": {\"x\": 1}}, {\"id\": 2, \"kind\": null}]");
  write_text(lab.folder("events") + "/b.ndjson", "{\"id\": 3, \"kind\": \"view\", \"ms\": 1.5}\n");
  ASSERT_EQ(lab.sync_and_wait("events"), "success");
  const std::string db = lab.warehouse();
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_events__events"), "3");
  EXPECT_EQ(scalar(db, "SELECT meta FROM raw_events__events WHERE id = 1"), "{\"x\":1}");
  EXPECT_EQ(scalar(db, "SELECT kind FROM raw_events__events WHERE id = 2"), "NULL");
  EXPECT_EQ(
      scalar(db, "SELECT type FROM pragma_table_info('raw_events__events') WHERE name = 'ms'"),
      "REAL");
  EXPECT_EQ(scalar(db, "SELECT _dango_filename FROM raw_events__events WHERE id = 3"), "b.ndjson");
}

int entered(Lab& lab) {
  return json(lab.get("/api/test-source/state"))["entered"].GetInt();
}

TEST(dango_sync, SecondSyncOfASyncingSourceIs409) {
  Lab lab(
      LabSetup("[{name: slow, type: blocking, options: {rows: 3}}, " + csv_source("other") + "]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto first = lab.post("/api/sources/slow/sync");
  ASSERT_EQ(first.status, 200) << first.body;
  auto d = json(first);
  EXPECT_EQ(std::string(d["message"].GetString()), "Sync started for slow");
  EXPECT_STREQ(d["source_name"].GetString(), "slow");
  EXPECT_TRUE(d["success"].GetBool());
  ASSERT_TRUE(eventually([&] { return entered(lab) == 1; }, 20));  // the read is now held

  auto again = lab.post("/api/sources/slow/sync", "{\"full_refresh\": true}");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_STREQ(json(again)["error_code"].GetString(), "DANGO-SYNC-004");
  auto trigger = lab.post("/api/sync/trigger", "{\"sources\": [\"slow\"]}");
  EXPECT_EQ(trigger.status, 409) << trigger.body;
  EXPECT_STREQ(json(lab.get("/api/sources"))[1]["status"].GetString(), "syncing");
  // Another source is not held by it.
  EXPECT_EQ(lab.post("/api/sources/other/sync").status, 200);

  ASSERT_EQ(lab.post("/api/test-source/release").status, 200);
  std::string status;
  ASSERT_TRUE(eventually(
      [&] {
        status =
            json(lab.get("/api/sources/slow/details"))["sync_history"][0]["status"].GetString();
        return status != "running";
      },
      20));
  EXPECT_EQ(status, "success");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_slow__items"), "3");
  EXPECT_EQ(entered(lab), 1);  // the refused requests never ran a read

  // Finished, it may sync again.
  EXPECT_EQ(lab.post("/api/sources/slow/sync").status, 200);
  ASSERT_TRUE(eventually([&] { return entered(lab) == 2; }, 20));
  ASSERT_EQ(lab.post("/api/test-source/release").status, 200);
  EXPECT_TRUE(eventually(
      [&] {
        return std::string(json(lab.get("/api/sources/slow/details"))["sync_history"][0]["status"]
                               .GetString()) == "success";
      },
      20));
}

TEST(dango_sync, TriggerCreatesAPollableJob) {
  Lab lab(LabSetup("[" + csv_source("a") + ", " + csv_source("b") + ", " +
                   csv_source("off", ", enabled: false") + "]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("a") + "/x.csv", "id\n1\n");
  write_text(lab.folder("b") + "/y.csv", "id\n1\n2\n");
  auto r = lab.post("/api/sync/trigger", "{\"sources\": [\"a\", \"B\"], \"backfill\": \"2w\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  EXPECT_STREQ(d["status"].GetString(), "started");
  ASSERT_EQ(d["sources"].Size(), 2u);
  std::string job = std::to_string(d["job_id"].GetInt64());
  std::string status;
  ASSERT_TRUE(eventually(
      [&] {
        status = json(lab.get("/api/sync/status/" + job))["status"].GetString();
        return status != "running";
      },
      20));
  EXPECT_EQ(status, "success");
  auto s = json(lab.get("/api/sync/status/" + job));
  EXPECT_EQ(s["rows_loaded"].GetInt64(), 3);
  EXPECT_EQ(s["sources"].Size(), 2u);

  auto unknown = lab.post("/api/sync/trigger", "{\"sources\": [\"nope\"]}");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_STREQ(json(unknown)["error_code"].GetString(), "DANGO-SYNC-001");
  EXPECT_EQ(lab.post("/api/sync/trigger", "{\"sources\": []}").status, 422);
  EXPECT_STREQ(
      json(lab.post("/api/sync/trigger", "{\"sources\": [\"off\"]}"))["error_code"].GetString(),
      "DANGO-SYNC-002");
  EXPECT_EQ(lab.post("/api/sync/trigger", "{\"sources\": [\"a\"], \"backfill\": \"3y\"}").status,
            422);
  auto missing = lab.get("/api/sync/status/99999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_STREQ(json(missing)["error_code"].GetString(), "DANGO-SYNC-003");
  EXPECT_EQ(lab.get("/api/sync/status/abc").status, 404);
}

TEST(dango_sync, SingleSyncValidatesItsRequest) {
  Lab lab(LabSetup("[" + csv_source("a") + ", " + csv_source("off", ", enabled: false") + "]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto no_body = http(lab.port(), "POST", "/api/sources/a/sync");
  EXPECT_EQ(no_body.status, 422) << no_body.body;
  auto bad_date = lab.post("/api/sources/a/sync", "{\"start_date\": \"2026-1-5\"}");
  EXPECT_EQ(bad_date.status, 400);
  EXPECT_STREQ(json(bad_date)["error_code"].GetString(), "DANGO-V003");
  auto bad_name = lab.post("/api/sources/a-b/sync");
  EXPECT_EQ(bad_name.status, 400);
  EXPECT_STREQ(json(bad_name)["error_code"].GetString(), "DANGO-V002");
  auto unknown = lab.post("/api/sources/zzz/sync");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_STREQ(json(unknown)["detail"].GetString(), "Source 'zzz' not found");
  EXPECT_EQ(lab.post("/api/sources/off/sync").status, 400);
  EXPECT_EQ(lab.post("/api/sources/a/sync", "{\"start_date\": \"2026-01-05\"}").status, 200);
}

TEST(dango_sync, PublishesSyncEventsOnTheHostBus) {
  Lab lab(LabSetup("[" + csv_source("ev") + ", " + csv_source("broken") + "]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("ev") + "/a.csv", "id\n1\n2\n");
  write_text(lab.folder("broken") + "/a.csv", "id,x\n1\n");
  ASSERT_EQ(lab.sync_and_wait("ev"), "success");
  ASSERT_EQ(lab.sync_and_wait("broken"), "failed");
  // The test plugin subscribed to sync_* on the bus at start, so it saw every event.
  rapidjson::Document events;
  ASSERT_TRUE(eventually(
      [&] {
        events = json(lab.get("/api/test-source/events"));
        return events.IsArray() && events.Size() == 4;
      },
      10))
      << lab.get("/api/test-source/events").body;
  auto find = [&](const std::string& type, const std::string& source) -> const rapidjson::Value* {
    for (const auto& e : events.GetArray()) {
      if (type == e["type"].GetString() && source == e["source"].GetString()) return &e;
    }
    return nullptr;
  };
  ASSERT_TRUE(find("sync_started", "ev"));
  const auto* done = find("sync_completed", "ev");
  ASSERT_TRUE(done);
  EXPECT_STREQ((*done)["event"].GetString(), "sync_completed");
  EXPECT_EQ((*done)["rows"].GetInt64(), 2);
  EXPECT_EQ((*done)["rows_loaded"].GetInt64(), 2);
  EXPECT_TRUE((*done)["timestamp"].IsString());
  const auto* failed = find("sync_failed", "broken");
  ASSERT_TRUE(failed);
  EXPECT_NE(std::string((*failed)["error"].GetString()).find("a.csv:2: expected 2 fields, found 1"),
            std::string::npos);
}

}  // namespace
