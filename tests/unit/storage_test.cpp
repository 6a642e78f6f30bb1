// Storage, migrations and the task queue against a real SQLite file and, when
// PLUGHOST_TEST_POSTGRES_URL is set (tests/scripts/with_postgres.sh, run by ctest), a real
// PostgreSQL server. Every test runs on every backend.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "plugin/host_api.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"
#include "storage/statement.hpp"
#include "tasks/task_queue.hpp"

namespace plughost {
namespace {

std::vector<std::string> backends() {
  std::vector<std::string> out = {"sqlite"};
  if (std::getenv("PLUGHOST_TEST_POSTGRES_URL")) out.push_back("postgresql");
  return out;
}

Value text(std::string s) {
  Value v;
  v.type = ValueType::kText;
  v.bytes = std::move(s);
  return v;
}
Value integer(int64_t i) {
  Value v;
  v.type = ValueType::kInt64;
  v.i = i;
  return v;
}

class StorageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string error;
    if (GetParam() == "sqlite") {
      char tmpl[] = "/tmp/plughost-storage-XXXXXX";
      dir_ = mkdtemp(tmpl);
      url_ = *parse_storage_url("sqlite://" + dir_ + "/test.db", "", error);
    } else {
      url_ = *parse_storage_url(std::getenv("PLUGHOST_TEST_POSTGRES_URL"), "", error);
    }
    db_ = std::make_unique<Database>(url_, 4);
    for (const char* t :
         {"plughost_migrations", "plughost_tasks", "plughost_events", "t_items", "t_runs"}) {
      Statement(*db_, std::string("DROP TABLE IF EXISTS ") + t).step();
    }
    ensure_host_schema(*db_);
  }

  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void exec(const std::string& sql) { Statement(*db_, sql).step(); }

  std::string dir_;
  StorageUrl url_;
  std::unique_ptr<Database> db_;
};

TEST(SqliteStorage, SessionsUseWalAndForeignKeys) {
  char tmpl[] = "/tmp/plughost-storage-XXXXXX";
  std::string error;
  auto url = parse_storage_url(std::string("sqlite://") + mkdtemp(tmpl) + "/wal.db", "", error);
  auto db_ = std::make_unique<Database>(*url, 2);
  Statement wal(*db_, "PRAGMA journal_mode");
  ASSERT_TRUE(wal.step());
  EXPECT_EQ(wal.column_bytes(0), "wal");
  Statement fk(*db_, "PRAGMA foreign_keys");
  ASSERT_TRUE(fk.step());
  EXPECT_EQ(fk.column_int64(0), 1);
}

TEST_P(StorageTest, StatementRoundTripsEveryType) {
  exec(GetParam() == "sqlite"
           ? "CREATE TABLE t_items (i INTEGER, d DOUBLE PRECISION, s TEXT, b BLOB, n TEXT)"
           : "CREATE TABLE t_items (i BIGINT, d DOUBLE PRECISION, s TEXT, b BYTEA, n TEXT)");
  {
    Statement ins(*db_, "INSERT INTO t_items (i, d, s, b, n) VALUES (:i, :d, :s, :b, :n)");
    ins.bind("i", integer(-9007199254740993LL));
    Value d;
    d.type = ValueType::kDouble;
    d.d = 0.1;
    ins.bind("d", d);
    ins.bind("s", text("grüße 'quoted' :notparam"));
    Value b;
    b.type = ValueType::kBlob;
    b.bytes = std::string("\x00\x01\xff\x00", 4);
    ins.bind("b", b);
    ins.bind("n", Value());
    EXPECT_FALSE(ins.step());
    EXPECT_EQ(ins.affected_rows(), 1);
  }
  Statement sel(*db_, "SELECT i, d, s, b, n FROM t_items");
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.column_type(0), ValueType::kInt64);
  EXPECT_EQ(sel.column_int64(0), -9007199254740993LL);
  EXPECT_EQ(sel.column_type(1), ValueType::kDouble);
  EXPECT_DOUBLE_EQ(sel.column_double(1), 0.1);
  EXPECT_EQ(sel.column_bytes(2), "grüße 'quoted' :notparam");
  EXPECT_EQ(sel.column_type(3), ValueType::kBlob);
  EXPECT_EQ(sel.column_bytes(3), std::string("\x00\x01\xff\x00", 4));
  EXPECT_EQ(sel.column_type(4), ValueType::kNull);
  EXPECT_EQ(sel.column_name(2), "s");
  EXPECT_FALSE(sel.step());
}

TEST_P(StorageTest, BindingAParameterTheSqlLacksFails) {
  Statement st(*db_, "SELECT :a");
  EXPECT_THROW(st.bind("b", integer(1)), std::runtime_error);
}

TEST_P(StorageTest, SqlErrorsCarryTheDatabaseMessage) {
  try {
    Statement st(*db_, "SELECT * FROM no_such_table");
    st.step();
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_table"), std::string::npos) << e.what();
  }
}

TEST_P(StorageTest, TransactionsCommitOrRollBack) {
  exec("CREATE TABLE t_items (i INTEGER)");
  {
    Transaction txn(*db_);
    Statement(txn, "INSERT INTO t_items (i) VALUES (1)").step();
    txn.rollback();
  }
  {
    Transaction txn(*db_);
    Statement(txn, "INSERT INTO t_items (i) VALUES (2)").step();
  }  // destroyed without commit: rolled back
  {
    Transaction txn(*db_);
    Statement(txn, "INSERT INTO t_items (i) VALUES (3)").step();
    txn.commit();
  }
  Statement sel(*db_, "SELECT i FROM t_items");
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.column_int64(0), 3);
  EXPECT_FALSE(sel.step());
}

TEST_P(StorageTest, MigrationsApplyOnceAndAreRecorded) {
  auto r1 = apply_migration(*db_, "p", "0001", "CREATE TABLE t_items (i INTEGER)");
  EXPECT_EQ(r1.outcome, MigrationOutcome::kApplied);
  auto r2 = apply_migration(*db_, "p", "0001", "CREATE TABLE t_items (i INTEGER)");
  EXPECT_EQ(r2.outcome, MigrationOutcome::kAlreadyApplied);
  auto ledger = read_ledger(*db_);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].plugin, "p");
  EXPECT_EQ(ledger[0].name, "0001");
  EXPECT_EQ(ledger[0].checksum, migration_checksum("CREATE TABLE t_items (i INTEGER)"));
  EXPECT_EQ(ledger[0].applied_at.size(), 24u);
}

TEST_P(StorageTest, ChangedMigrationIsDetected) {
  apply_migration(*db_, "p", "0001", "CREATE TABLE t_items (i INTEGER)");
  auto r = apply_migration(*db_, "p", "0001", "CREATE TABLE t_items (i INTEGER, j INTEGER)");
  EXPECT_EQ(r.outcome, MigrationOutcome::kChecksumMismatch);
  EXPECT_NE(r.message.find("p/0001 changed after it was applied"), std::string::npos);
}

TEST_P(StorageTest, FailedMigrationLeavesNoTraceAndNoLedgerRow) {
  EXPECT_THROW(
      apply_migration(*db_, "p", "0001", "CREATE TABLE t_items (i INTEGER); THIS IS NOT SQL"),
      std::runtime_error);
  EXPECT_TRUE(read_ledger(*db_).empty());
  // The first statement was rolled back with the second.
  EXPECT_EQ(apply_migration(*db_, "p", "0001", "CREATE TABLE t_items (i INTEGER)").outcome,
            MigrationOutcome::kApplied);
}

TEST(PostgresPlaceholders, RewritesNamedParamsOnly) {
  std::vector<std::string> names;
  std::string sql = to_postgres_placeholders(
      "SELECT ':x', \"a:b\", 1::int, :a, :b, :a -- :c\n /* :d */ FROM t", names);
  EXPECT_EQ(sql, "SELECT ':x', \"a:b\", 1::int, $1, $2, $1 -- :c\n /* :d */ FROM t");
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
}

TEST(StorageUrl, ParsesAndRedacts) {
  std::string error;
  auto pg =
      parse_storage_url("postgresql://bob:s3cr%40t@db.local:6543/app?sslmode=disable", "", error);
  ASSERT_TRUE(pg);
  EXPECT_EQ(pg->dialect, Dialect::kPostgres);
  EXPECT_NE(pg->postgres_conninfo.find("password='s3cr@t'"), std::string::npos);
  EXPECT_NE(pg->postgres_conninfo.find("sslmode='disable'"), std::string::npos);
  EXPECT_EQ(pg->redacted.find("s3cr"), std::string::npos) << pg->redacted;
  auto q = parse_storage_url("postgresql://h:1/db?password=hunter2&sslmode=require", "", error);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->redacted, "postgresql://h:1/db?password=***&sslmode=require");
  auto rel = parse_storage_url("sqlite://data/x.db", "/etc/plughost", error);
  ASSERT_TRUE(rel);
  EXPECT_EQ(rel->sqlite_path, "/etc/plughost/data/x.db");
  EXPECT_FALSE(parse_storage_url("mysql://x", "", error));
  EXPECT_FALSE(parse_storage_url("postgresql://host:5432", "", error));
}

TEST(StorageUrl, SqliteSynchronousFullIsAnOptionOfTheUrl) {
  std::string error;
  auto normal = parse_storage_url("sqlite:///var/x.db", "", error);
  ASSERT_TRUE(normal);
  EXPECT_FALSE(normal->sqlite_synchronous_full);
  auto full = parse_storage_url("sqlite://x.db?synchronous=full", "/srv", error);
  ASSERT_TRUE(full) << error;
  EXPECT_EQ(full->sqlite_path, "/srv/x.db");
  EXPECT_TRUE(full->sqlite_synchronous_full);
  EXPECT_EQ(full->redacted, "sqlite:///srv/x.db?synchronous=full");
  EXPECT_FALSE(parse_storage_url("sqlite:///x.db?synchronous=off", "", error));
  EXPECT_NE(error.find("unknown option \"synchronous=off\""), std::string::npos) << error;

  char tmpl[] = "/tmp/plughost-storage-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  for (bool want_full : {false, true}) {
    auto url = parse_storage_url(
        "sqlite://" + dir + "/s.db" + (want_full ? "?synchronous=full" : ""), "", error);
    ASSERT_TRUE(url) << error;
    Database db(*url, 2);
    Database::Lease first = db.acquire(), second = db.acquire();  // both sessions, at once
    for (Database::Lease* lease : {&first, &second}) {
      sqlite3_stmt* st = nullptr;
      auto* conn = static_cast<sqlite3*>(lease->native_handle());
      ASSERT_EQ(sqlite3_prepare_v2(conn, "PRAGMA synchronous", -1, &st, nullptr), SQLITE_OK);
      ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
      EXPECT_EQ(sqlite3_column_int(st, 0), want_full ? 2 : 1);  // FULL = 2, NORMAL = 1
      sqlite3_finalize(st);
    }
  }
  std::filesystem::remove_all(dir);
}

// ---- the task queue ----------------------------------------------------------------------------

// Handlers used by the queue tests, driven through the real ABI table.
struct Probe {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  std::atomic<int> runs{0};
};

int succeed(void*, ph_task_context* t, ph_error*) {
  const ph_host_api* api = host_api_table();
  api->task_set_progress(t, 40);
  api->task_log(t, "first line", 10);
  api->task_log(t, "second\nline", 11);
  ph_str payload = api->task_payload(t);
  std::string result = "{\"echo\":" + std::string(payload.data, payload.size) + "}";
  api->task_set_result(t, result.data(), result.size());
  return PH_OK;
}

int fail(void* ud, ph_task_context*, ph_error* err) {
  static_cast<Probe*>(ud)->runs++;
  std::snprintf(err->message, err->message_capacity, "boom");
  return PH_ERR_INTERNAL;
}

int wait_until_cancelled(void* ud, ph_task_context* t, ph_error*) {
  auto* probe = static_cast<Probe*>(ud);
  {
    std::lock_guard<std::mutex> lock(probe->mu);
    probe->started = true;
  }
  probe->cv.notify_all();
  while (!host_api_table()->task_cancelled(t)) std::this_thread::yield();
  return PH_ERR_INTERNAL;  // stopped early: PH_OK would mean the work is done
}

class TaskQueueTest : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    apply_migration(*db_, "plughost", "0001_tasks", task_table_sql(db_->dialect()));
  }
  void TearDown() override {
    if (queue_) queue_->stop();
    queue_.reset();
    StorageTest::TearDown();
  }

  void start(TaskSettings settings = fast()) {
    queue_ = std::make_unique<TaskQueue>(
        *db_, log_, settings, "test-node", [this](const std::string& kind) {
          auto it = kinds_.find(kind);
          return it == kinds_.end() ? std::nullopt : std::optional<TaskHandlerRef>(it->second);
        });
    queue_->start();
  }

  static TaskSettings fast() {
    TaskSettings s;
    s.workers = 2;
    s.poll_interval_seconds = 0.01;
    s.retry_base_seconds = 0.01;
    s.lease_seconds = 0.3;
    return s;
  }

  rapidjson::Document task(int64_t id) {
    rapidjson::Document d;
    auto json = queue_->get_json(id);
    EXPECT_TRUE(json);
    d.Parse(json ? json->c_str() : "{}");
    return d;
  }

  std::string status(int64_t id) { return task(id)["status"].GetString(); }

  Logger log_{LogLevel::kError, LogFormat::kText, std::tmpfile()};
  std::map<std::string, TaskHandlerRef> kinds_;
  std::unique_ptr<TaskQueue> queue_;
  Probe probe_;
};

TEST_P(TaskQueueTest, RunsTaskAndRecordsResultProgressAndLog) {
  kinds_["p/ok"] = {succeed, nullptr};
  start();
  EnqueueRequest r;
  r.kind = "p/ok";
  r.payload_json = "{\"n\":7}";
  int64_t id = queue_->enqueue(r);
  queue_->wait_for_final(id);
  auto t = task(id);
  EXPECT_STREQ(t["status"].GetString(), "succeeded");
  EXPECT_EQ(t["progress"].GetInt(), 100);
  EXPECT_EQ(t["result"]["echo"]["n"].GetInt(), 7);
  ASSERT_EQ(t["log"].Size(), 2u);
  EXPECT_STREQ(t["log"][1].GetString(), "second line");
  EXPECT_EQ(t["attempts"].GetInt(), 1);
  EXPECT_STREQ(t["node"].GetString(), "test-node");
}

TEST_P(TaskQueueTest, RetriesWithBackoffThenFails) {
  kinds_["p/fail"] = {fail, &probe_};
  start();
  EnqueueRequest r;
  r.kind = "p/fail";
  r.max_attempts = 3;
  int64_t id = queue_->enqueue(r);
  queue_->wait_for_final(id);
  auto t = task(id);
  EXPECT_STREQ(t["status"].GetString(), "failed");
  EXPECT_STREQ(t["error"].GetString(), "boom");
  EXPECT_EQ(t["attempts"].GetInt(), 3);
  EXPECT_EQ(probe_.runs.load(), 3);
}

TEST_P(TaskQueueTest, IdempotencyKeyEnqueuesOnce) {
  kinds_["p/ok"] = {succeed, nullptr};
  start(TaskSettings{0, 30, 0.01, 300, 3, 1, 1000});  // no workers: nothing runs
  EnqueueRequest r;
  r.kind = "p/ok";
  r.idempotency_key = "schedule:daily:2026-11-23";
  int64_t a = queue_->enqueue(r);
  int64_t b = queue_->enqueue(r);
  EXPECT_EQ(a, b);
  rapidjson::Document list;
  list.Parse(queue_->list_json({}).c_str());
  EXPECT_EQ(list.Size(), 1u);
}

TEST_P(TaskQueueTest, UnknownKindAndBadPayloadAreRejected) {
  start();
  EnqueueRequest r;
  r.kind = "p/nope";
  EXPECT_THROW(queue_->enqueue(r), std::invalid_argument);
  kinds_["p/ok"] = {succeed, nullptr};
  r.kind = "p/ok";
  r.payload_json = "{broken";
  EXPECT_THROW(queue_->enqueue(r), std::invalid_argument);
}

TEST_P(TaskQueueTest, CancelsQueuedTaskBeforeItRuns) {
  kinds_["p/ok"] = {succeed, nullptr};
  start(TaskSettings{0, 30, 0.01, 300, 3, 1, 1000});
  EnqueueRequest r;
  r.kind = "p/ok";
  int64_t id = queue_->enqueue(r);
  EXPECT_TRUE(queue_->cancel(id));
  EXPECT_EQ(status(id), "cancelled");
  EXPECT_FALSE(queue_->cancel(id));
  EXPECT_FALSE(queue_->cancel(999999));
}

TEST_P(TaskQueueTest, CancelsRunningTaskCooperatively) {
  kinds_["p/wait"] = {wait_until_cancelled, &probe_};
  start();
  EnqueueRequest r;
  r.kind = "p/wait";
  int64_t id = queue_->enqueue(r);
  {
    std::unique_lock<std::mutex> lock(probe_.mu);
    probe_.cv.wait(lock, [&] { return probe_.started; });
  }
  EXPECT_EQ(status(id), "running");
  EXPECT_TRUE(queue_->cancel(id));
  queue_->wait_for_final(id);
  EXPECT_EQ(status(id), "cancelled");
}

TEST_P(TaskQueueTest, TimeoutEndsTheTaskAsTimedOut) {
  kinds_["p/wait"] = {wait_until_cancelled, &probe_};
  start();
  EnqueueRequest r;
  r.kind = "p/wait";
  r.timeout_seconds = 0.05;
  r.max_attempts = 1;
  int64_t id = queue_->enqueue(r);
  queue_->wait_for_final(id);
  auto t = task(id);
  EXPECT_STREQ(t["status"].GetString(), "timed_out");
  EXPECT_STREQ(t["error"].GetString(), "timed out");
}

TEST_P(TaskQueueTest, TaskOfADeadWorkerIsTakenAgainAfterItsLease) {
  kinds_["p/ok"] = {succeed, nullptr};
  // A row as a crashed host leaves it: running, leased to another node, lease expired.
  exec(
      "INSERT INTO plughost_tasks (kind, payload, status, attempts, max_attempts,"
      " timeout_seconds, run_after, lease_until, node, created_at) VALUES ('p/ok', '{}',"
      " 'running', 1, 3, 300, 0, 1, 'dead-node', 0)");
  start();
  Statement st(*db_, "SELECT id FROM plughost_tasks");
  ASSERT_TRUE(st.step());
  int64_t id = st.column_int64(0);
  while (st.step()) {
  }
  queue_->wait_for_final(id);
  auto t = task(id);
  EXPECT_STREQ(t["status"].GetString(), "succeeded");
  EXPECT_EQ(t["attempts"].GetInt(), 2);
  EXPECT_STREQ(t["node"].GetString(), "test-node");
}

TEST_P(TaskQueueTest, ShutdownHandsInterruptedTasksBack) {
  kinds_["p/wait"] = {wait_until_cancelled, &probe_};
  start();
  EnqueueRequest r;
  r.kind = "p/wait";
  int64_t id = queue_->enqueue(r);
  {
    std::unique_lock<std::mutex> lock(probe_.mu);
    probe_.cv.wait(lock, [&] { return probe_.started; });
  }
  queue_->stop();
  auto t = task(id);
  EXPECT_STREQ(t["status"].GetString(), "queued");
  EXPECT_EQ(t["attempts"].GetInt(), 0);  // the interrupted attempt does not count
  EXPECT_TRUE(t["node"].IsNull());
}

TEST_P(TaskQueueTest, ListFiltersByStatusAndKind) {
  kinds_["p/ok"] = {succeed, nullptr};
  kinds_["p/other"] = {succeed, nullptr};
  start(TaskSettings{0, 30, 0.01, 300, 3, 1, 1000});
  EnqueueRequest r;
  r.kind = "p/ok";
  queue_->enqueue(r);
  int64_t b = queue_->enqueue(r);
  r.kind = "p/other";
  queue_->enqueue(r);
  queue_->cancel(b);
  rapidjson::Document d;
  d.Parse(queue_->list_json({"p/ok", "queued", 50, 0}).c_str());
  EXPECT_EQ(d.Size(), 1u);
  d.Parse(queue_->list_json({"", "", 2, 0}).c_str());
  ASSERT_EQ(d.Size(), 2u);
  EXPECT_GT(d[0]["id"].GetInt64(), d[1]["id"].GetInt64());  // newest first
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageTest, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, TaskQueueTest, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace plughost

// ---- events ------------------------------------------------------------------------------------

#include "events/event_bus.hpp"

namespace plughost {
namespace {

TEST(EventTypes, WildcardsMatch) {
  EXPECT_TRUE(event_type_matches("*", "anything"));
  EXPECT_TRUE(event_type_matches("sync_*", "sync_finished"));
  EXPECT_TRUE(event_type_matches("task.*.done", "task.x.y.done"));
  EXPECT_TRUE(event_type_matches("exact", "exact"));
  EXPECT_FALSE(event_type_matches("sync_*", "async_finished"));
  EXPECT_FALSE(event_type_matches("exact", "exactly"));
  EXPECT_FALSE(event_type_matches("a*b", "acd"));
}

// Collects events delivered to a subscriber; waits on a condition variable, never sleeps.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Event> events;
  void add(const Event& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
    cv.notify_all();
  }
  Event wait_for(const std::string& type) {
    std::unique_lock<std::mutex> lock(mu);
    Event found;
    cv.wait(lock, [&] {
      for (const auto& e : events) {
        if (e.type == type) return found = e, true;
      }
      return false;
    });
    return found;
  }
};

class EventBusTest : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    apply_migration(*db_, "plughost", "0002_events", events_table_sql(db_->dialect()));
  }
  Logger log_{LogLevel::kError, LogFormat::kText, std::tmpfile()};
};

TEST_P(EventBusTest, DeliversMatchingEventsInOrderAndPersistsOnRequest) {
  EventBus bus(db_.get(), log_, "node-a");
  bus.start();
  Inbox inbox;
  bus.subscribe("sync_*", [&](const Event& e) { inbox.add(e); });
  bus.publish("other", "{}", false);
  bus.publish("sync_started", "{\"n\":1}", false);
  int64_t id = bus.publish("sync_finished", "{\"n\":2}", true);
  Event last = inbox.wait_for("sync_finished");
  EXPECT_EQ(last.id, id);
  EXPECT_GT(id, 0);
  EXPECT_EQ(last.payload_json, "{\"n\":2}");
  {
    std::lock_guard<std::mutex> lock(inbox.mu);
    ASSERT_EQ(inbox.events.size(), 2u);  // "other" did not match
    EXPECT_EQ(inbox.events[0].type, "sync_started");
    EXPECT_EQ(inbox.events[0].id, 0);  // not persisted
  }
  Statement st(*db_, "SELECT type, payload, node FROM plughost_events");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_bytes(0), "sync_finished");
  EXPECT_EQ(st.column_bytes(2), "node-a");
  EXPECT_FALSE(st.step());
  bus.stop();
}

TEST_P(EventBusTest, PersistedEventsReachOtherHostsOnlyOnPostgres) {
  EventBus a(db_.get(), log_, "node-a");
  EventBus b(db_.get(), log_, "node-b");
  a.start();
  b.start();
  Inbox on_b;
  b.subscribe("*", [&](const Event& e) { on_b.add(e); });
  a.publish("cross", "{\"from\":\"a\"}", true);
  // PostgreSQL: wait for the event itself. SQLite (one process per database by design): b never
  // sees a's events; b's own marker shows b's dispatcher ran.
  if (GetParam() == "postgresql") {
    Event e = on_b.wait_for("cross");
    EXPECT_EQ(e.node, "node-a");
    EXPECT_EQ(e.payload_json, "{\"from\":\"a\"}");
  } else {
    b.publish("marker", "{}", false);
    on_b.wait_for("marker");
    std::lock_guard<std::mutex> lock(on_b.mu);
    EXPECT_EQ(on_b.events.size(), 1u);  // SQLite: one process, no cross-host delivery
  }
  a.stop();
  b.stop();
}

INSTANTIATE_TEST_SUITE_P(Backends, EventBusTest, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace plughost

// ---- scheduler ---------------------------------------------------------------------------------

#include "scheduler/scheduler.hpp"

namespace plughost {
namespace {

class SchedulerTest : public TaskQueueTest {};

TEST_P(SchedulerTest, RejectsBadCronZoneAndDuplicateNames) {
  start(TaskSettings{0, 30, 0.01, 300, 3, 1, 1000});
  Scheduler s(*queue_, *db_, log_);
  EXPECT_NE(s.add({"a", "61 * * * *", "", "p/ok", "{}", "config"}).find("minute field"),
            std::string::npos);
  EXPECT_NE(s.add({"a", "@daily", "Mars/Olympus", "p/ok", "{}", "config"}), "");
  EXPECT_EQ(s.add({"a", "@daily", "Europe/Berlin", "p/ok", "{}", "config"}), "");
  EXPECT_NE(s.add({"a", "@hourly", "", "p/ok", "{}", "plugin-x"}).find("already defined"),
            std::string::npos);
  // A plugin whose init fails after registering loses its schedules.
  ASSERT_EQ(s.add({"b", "@hourly", "", "p/ok", "{}", "plugin-x"}), "");
  s.remove_owned_by("plugin-x");
  EXPECT_EQ(s.names(), std::vector<std::string>{"a"});
}

TEST_P(SchedulerTest, SameDueTimeEnqueuesOnceAcrossHosts) {
  kinds_["p/ok"] = {succeed, nullptr};
  start(TaskSettings{0, 30, 0.01, 300, 3, 1, 1000});
  // Two schedulers on one database stand for two hosts with the same schedule.
  Scheduler host_a(*queue_, *db_, log_);
  Scheduler host_b(*queue_, *db_, log_);
  const ScheduleSpec nightly{"nightly", "0 2 * * *", "Europe/Berlin",
                             "p/ok",    "{\"x\":1}", "config"};
  for (Scheduler* s : {&host_a, &host_b}) ASSERT_EQ(s->add(nightly), "");
  const int64_t due = 1795395600;  // 2026-11-23T01:00:00Z = 02:00 in Berlin
  host_a.fire(nightly, due);
  host_b.fire(nightly, due);
  host_a.fire(nightly, due + 86400);
  rapidjson::Document list;
  list.Parse(queue_->list_json({}).c_str());
  ASSERT_EQ(list.Size(), 2u);
  EXPECT_STREQ(list[1]["idempotency_key"].GetString(), "schedule:nightly:1795395600");
  EXPECT_EQ(list[1]["payload"]["x"].GetInt(), 1);
}

TEST_P(SchedulerTest, DescribesNextAndLastRun) {
  kinds_["p/ok"] = {succeed, nullptr};
  start(TaskSettings{0, 30, 0.01, 300, 3, 1, 1000});
  Scheduler s(*queue_, *db_, log_);
  const ScheduleSpec hourly{"hourly", "@hourly", "", "p/ok", "{}", "config"};
  ASSERT_EQ(s.add(hourly), "");
  s.start();
  rapidjson::Document d;
  d.Parse(s.describe("hourly")->c_str());
  EXPECT_TRUE(d["last_run"].IsNull());
  std::string next = d["next_run"].GetString();
  EXPECT_EQ(next.substr(13), ":00:00Z");  // on the hour
  s.fire(hourly, 1795395600);
  d.Parse(s.describe("hourly")->c_str());
  EXPECT_STREQ(d["last_run"].GetString(), "2026-11-23T01:00:00Z");
  EXPECT_STREQ(d["timezone"].GetString(), "UTC");
  EXPECT_FALSE(s.describe("nope"));
  s.stop();
}

TEST_P(SchedulerTest, ReportsLagOfTheLastFire) {
  kinds_["p/ok"] = {succeed, nullptr};
  start(TaskSettings{0, 30, 0.01, 300, 3, 1, 1000});
  Scheduler s(*queue_, *db_, log_);
  const ScheduleSpec hourly{"hourly", "@hourly", "", "p/ok", "{}", "config"};
  ASSERT_EQ(s.add(hourly), "");
  ASSERT_EQ(s.add({"daily", "@daily", "", "p/ok", "{}", "config"}), "");
  EXPECT_TRUE(s.lags().empty());
  double before =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  int64_t due = static_cast<int64_t>(before) - 90;  // fired 90 s late
  s.fire(hourly, due);
  double after =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto lags = s.lags();
  ASSERT_EQ(lags.size(), 1u);  // "daily" never fired
  EXPECT_EQ(lags[0].first, "hourly");
  EXPECT_GE(lags[0].second, before - static_cast<double>(due));
  EXPECT_LE(lags[0].second, after - static_cast<double>(due));
}

TEST_P(SchedulerTest, ReplacesAnOwnersSchedulesWhileRunningAllOrNothing) {
  kinds_["p/ok"] = {succeed, nullptr};
  start(TaskSettings{0, 30, 0.01, 300, 3, 1, 1000});
  Scheduler s(*queue_, *db_, log_);
  ASSERT_EQ(s.add({"keep", "@hourly", "", "p/ok", "{}", "config"}), "");
  ASSERT_EQ(s.add({"drop", "@daily", "", "p/ok", "{}", "config"}), "");
  ASSERT_EQ(s.add({"plugin-owned", "@weekly", "", "p/ok", "{}", "plugin-x"}), "");
  s.start();
  rapidjson::Document d;
  d.Parse(s.describe("keep")->c_str());
  const std::string keep_next = d["next_run"].GetString();

  // A bad spec, a duplicate, or a name another owner holds: nothing changes.
  EXPECT_NE(s.replace_owned_by("config", {{"keep", "@hourly", "", "p/ok", "{}", ""},
                                          {"new", "61 * * * *", "", "p/ok", "{}", ""}}),
            "");
  EXPECT_NE(s.replace_owned_by("config", {{"new", "@hourly", "", "p/ok", "{}", ""},
                                          {"new", "@daily", "", "p/ok", "{}", ""}}),
            "");
  EXPECT_NE(s.replace_owned_by("config", {{"plugin-owned", "@hourly", "", "p/ok", "{}", ""}})
                .find("already defined by plugin-x"),
            std::string::npos);
  EXPECT_NE(s.replace_owned_by("config", {{"tz", "@hourly", "Mars/Olympus", "p/ok", "{}", ""}}),
            "");
  auto names = s.names();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"drop", "keep", "plugin-owned"}));

  // Unchanged "keep" keeps its due time, "drop" goes, "new" gets one in Berlin time.
  ASSERT_EQ(
      s.replace_owned_by("config", {{"keep", "@hourly", "", "p/ok", "{}", ""},
                                    {"new", "30 4 * * *", "Europe/Berlin", "p/ok", "{}", ""}}),
      "");
  names = s.names();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"keep", "new", "plugin-owned"}));
  d.Parse(s.describe("keep")->c_str());
  EXPECT_EQ(d["next_run"].GetString(), keep_next);
  d.Parse(s.describe("new")->c_str());
  EXPECT_STREQ(d["owner"].GetString(), "config");
  EXPECT_STREQ(d["timezone"].GetString(), "Europe/Berlin");
  ASSERT_TRUE(d["next_run"].IsString());
  const std::string next = d["next_run"].GetString();
  // 04:30 in Berlin is 03:30Z in winter and 02:30Z in summer.
  EXPECT_TRUE(next.substr(11) == "03:30:00Z" || next.substr(11) == "02:30:00Z") << next;
  s.stop();
}

// ABI 1.6: a plugin's schedule may ask for the due time in its payload, so its task knows which
// run it is; replacing reports name clashes apart from bad definitions.
TEST_P(SchedulerTest, AddsTheDueTimeToThePayloadWhenAskedAndTellsConflictsApart) {
  kinds_["p/ok"] = {succeed, nullptr};
  start(TaskSettings{0, 30, 0.01, 300, 3, 1, 1000});
  Scheduler s(*queue_, *db_, log_);
  ScheduleSpec tick{
      "p.tick", "0 2 * * *", "Europe/Berlin", "p/ok", "{\"schedule\":\"n\",\"due\":1}", "p"};
  tick.payload_with_due = true;
  bool conflict = true;
  ASSERT_EQ(s.replace_owned_by("p", {tick}, &conflict), "");
  EXPECT_FALSE(conflict);
  rapidjson::Document d;
  d.Parse(s.describe("p.tick")->c_str());
  EXPECT_TRUE(d["payload_with_due"].GetBool());
  EXPECT_STREQ(d["payload"]["schedule"].GetString(), "n");
  const int64_t due = 1795395600;  // 2026-11-23T01:00:00Z = 02:00 in Berlin
  s.fire(tick, due);
  rapidjson::Document list;
  list.Parse(queue_->list_json({}).c_str());
  ASSERT_EQ(list.Size(), 1u);
  EXPECT_STREQ(list[0]["payload"]["schedule"].GetString(), "n");
  EXPECT_EQ(list[0]["payload"]["due"].GetInt64(), due);  // the host's, not the one given
  EXPECT_EQ(list[0]["payload"].MemberCount(), 2u);

  ScheduleSpec not_object = tick;
  not_object.payload_json = "[1]";
  EXPECT_NE(s.replace_owned_by("p", {not_object}, &conflict).find("must be an object"),
            std::string::npos);
  EXPECT_FALSE(conflict);
  ASSERT_EQ(s.add({"cfg", "@daily", "", "p/ok", "{}", "config"}), "");
  ScheduleSpec taken = tick;
  taken.name = "cfg";
  EXPECT_NE(s.replace_owned_by("p", {taken}, &conflict), "");
  EXPECT_TRUE(conflict);
  EXPECT_NE(s.replace_owned_by("p", {tick, tick}, &conflict), "");
  EXPECT_TRUE(conflict);
  // The failed calls left the set as it was.
  auto names = s.names();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"cfg", "p.tick"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, SchedulerTest, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace plughost
