// The live parts over the real host: the inotify file watcher starting (and coalescing) syncs,
// /api/health/platform against the real warehouse file and disk, freshness_update on the SSE
// stream, and WS /ws with a real websocketpp client (sign-in, refusals, events, ping timeout).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/statvfs.h>

#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <thread>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

#include "lab.hpp"

namespace {

using namespace dango_test;

std::string status_of(Lab& lab) {
  return lab.get("/api/watcher/status").body;
}

int64_t member_int(Lab& lab, const std::string& target, const char* key) {
  auto r = lab.get(target);
  if (r.status != 200) return -1;
  auto d = json(r);
  return d.HasMember(key) && d[key].IsInt64() ? d[key].GetInt64() : -1;
}

std::vector<std::string> run_triggers(Lab& lab, const std::string& source) {
  std::vector<std::string> out;
  auto d = json(lab.get("/api/sources/" + source + "/details"));
  for (const auto& r : d["sync_history"].GetArray()) {
    out.push_back(std::string(r["status"].GetString()) + "/" + r["triggered_by"].GetString());
  }
  return out;
}

TEST(dango_live, WatcherSyncsAFileOnceItHasSettled) {
  Lab lab(LabSetup("[{name: drop, type: csv, auto_sync: true}, {name: manual, type: csv}]", false,
                   "watcher: {debounce_seconds: 2.5}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto st = json(lab.get("/api/watcher/status"));
  EXPECT_TRUE(st["running"].GetBool());
  ASSERT_EQ(st["watched_folders"].Size(), 1u) << status_of(lab);  // only the auto_sync source
  EXPECT_EQ(std::string(st["watched_folders"][0]["source"].GetString()), "drop");
  EXPECT_EQ(std::string(st["watched_folders"][0]["folder"].GetString()), lab.folder("drop"));
  EXPECT_TRUE(st["watched_folders"][0]["watching"].GetBool());

  // A file written in two steps: the first half alone would be a malformed CSV.
  std::ofstream out(lab.folder("drop") + "/orders.csv");
  out << "id,amount\n1,10\n2,2" << std::flush;
  ASSERT_TRUE(
      eventually([&] { return status_of(lab).find("\"orders.csv\"") != std::string::npos; }, 10));
  st = json(lab.get("/api/watcher/status"));
  ASSERT_EQ(st["pending"].Size(), 1u);
  EXPECT_EQ(st["syncs_triggered"].GetInt64(), 0);
  out << "0\n3,30\n";
  out.close();

  ASSERT_TRUE(eventually(
      [&] { return scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_drop__drop") == "3"; }, 20))
      << status_of(lab) << lab.get("/api/sources/drop/logs").body;
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT amount FROM raw_drop__drop WHERE id = 2"), "20");
  ASSERT_TRUE(eventually(
      [&] {
        return run_triggers(lab, "drop").size() == 1 &&
               run_triggers(lab, "drop")[0] == "success/watcher";
      },
      10));
  st = json(lab.get("/api/watcher/status"));
  EXPECT_EQ(st["syncs_triggered"].GetInt64(), 1);
  EXPECT_EQ(st["pending"].Size(), 0u);
  ASSERT_GE(st["last_events"].Size(), 1u);
  EXPECT_EQ(std::string(st["last_events"][0]["file"].GetString()), "orders.csv");
  EXPECT_TRUE(run_triggers(lab, "manual").empty());
}

TEST(dango_live, WatcherCoalescesChangesWhileItsSourceSyncs) {
  Lab lab(LabSetup("[{name: held, type: blocking, auto_sync: true}]", false,
                   "watcher: {debounce_seconds: 0.1}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto entered = [&] { return member_int(lab, "/api/test-source/state", "entered"); };
  write_text(lab.folder("held") + "/a.txt", "one");
  ASSERT_TRUE(eventually([&] { return entered() == 1; }, 20)) << status_of(lab);
  // A change while that sync is held open waits for it instead of failing with 409.
  write_text(lab.folder("held") + "/b.txt", "two");
  ASSERT_TRUE(eventually(
      [&] { return member_int(lab, "/api/watcher/status", "syncs_coalesced") >= 1; }, 20))
      << status_of(lab);
  EXPECT_NE(status_of(lab).find("\"b.txt\""), std::string::npos);
  EXPECT_EQ(entered(), 1);
  EXPECT_EQ(lab.post("/api/test-source/release").status, 200);
  // Once it is done, one more sync carries the change.
  ASSERT_TRUE(eventually([&] { return entered() == 2; }, 20)) << status_of(lab);
  EXPECT_EQ(lab.post("/api/test-source/release").status, 200);
  ASSERT_TRUE(eventually(
      [&] {
        auto t = run_triggers(lab, "held");
        return t == std::vector<std::string>{"success/watcher", "success/watcher"};
      },
      20))
      << lab.get("/api/sources/held/details").body;
  EXPECT_EQ(member_int(lab, "/api/watcher/status", "syncs_triggered"), 2);
}

void exec_sql(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  sqlite3_busy_timeout(h, 5000);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(h);
}

int64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

TEST(dango_live, PlatformHealthMeasuresWarehouseDiskAndFailures) {
  Lab lab(
      LabSetup("[{name: good, type: csv}, {name: bad, type: csv}, {name: off, type: csv, "
               "enabled: false}]",
               false, "health: {disk_warning_percent: 0, disk_critical_percent: 0}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto h = json(lab.get("/api/health/platform"));
  EXPECT_EQ(std::string(h["status"].GetString()), "healthy")
      << lab.get("/api/health/platform").body;
  EXPECT_EQ(h["database"]["tables"].GetInt64(), 0);
  EXPECT_EQ(h["total_sources"].GetInt64(), 3);
  EXPECT_EQ(h["enabled_sources"].GetInt64(), 2);
  EXPECT_EQ(h["sync_failures"].Size(), 0u);

  write_text(lab.folder("good") + "/a.csv", "id\n1\n2\n");
  ASSERT_EQ(lab.sync_and_wait("good"), "success");
  write_text(lab.folder("bad") + "/b.csv", "id,name\n1,x\n2,y,z\n");
  ASSERT_EQ(lab.sync_and_wait("bad"), "failed");
  exec_sql(lab.warehouse(),
           "CREATE TABLE staging__stg_orders (id INTEGER); CREATE TABLE marts__daily (d TEXT);"
           "CREATE VIEW marts__weekly AS SELECT 1 AS w; CREATE TABLE scratch (x INTEGER);");

  auto r = lab.get("/api/health/platform");
  ASSERT_EQ(r.status, 200);
  h = json(r);
  EXPECT_EQ(std::string(h["status"].GetString()), "warning") << r.body;
  const auto& db = h["database"];
  EXPECT_EQ(db["raw_tables"].GetInt64(), 1) << r.body;  // raw_good__good; `scratch` is no layer
  EXPECT_EQ(db["staging_tables"].GetInt64(), 1);
  EXPECT_EQ(db["marts_tables"].GetInt64(), 2);
  EXPECT_EQ(db["tables"].GetInt64(), 4);
  EXPECT_EQ(std::string(db["status"].GetString()), "small");
  int64_t on_disk =
      file_size_or_zero(lab.warehouse()) + file_size_or_zero(lab.warehouse() + "-wal");
  EXPECT_GT(on_disk, 0);
  EXPECT_EQ(db["size_bytes"].GetInt64(), on_disk);

  struct statvfs vfs {};
  ASSERT_EQ(statvfs((lab.dir() + "/data").c_str(), &vfs), 0);
  double gib = 1024.0 * 1024.0 * 1024.0;
  double total = static_cast<double>(vfs.f_blocks) * vfs.f_frsize / gib;
  double free_now = static_cast<double>(vfs.f_bavail) * vfs.f_frsize / gib;
  EXPECT_NEAR(h["disk"]["total_gb"].GetDouble(), total, 0.06);
  EXPECT_NEAR(h["disk"]["free_gb"].GetDouble(), free_now, 0.5);  // others write meanwhile
  EXPECT_EQ(std::string(h["disk"]["status"].GetString()), "ok");

  ASSERT_EQ(h["sync_failures"].Size(), 1u) << r.body;
  EXPECT_EQ(std::string(h["sync_failures"][0]["source"].GetString()), "bad");
  EXPECT_NE(std::string(h["sync_failures"][0]["error"].GetString()).find("b.csv:3"),
            std::string::npos)
      << r.body;
  ASSERT_EQ(h["warnings"].Size(), 1u) << r.body;
  EXPECT_EQ(std::string(h["warnings"][0].GetString()).rfind("Source 'bad' is failing: ", 0), 0u);
  EXPECT_EQ(h["critical_issues"].Size(), 0u);
  EXPECT_TRUE(h["dbt_failures"].IsArray());
}

TEST(dango_live, PlatformHealthWarnsOfLowDisk) {
  // Every disk has less than 100 % free: the warning threshold at 100 must fire.
  Lab lab(LabSetup("[]", false, "health: {disk_warning_percent: 100, disk_critical_percent: 0}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto r = lab.get("/api/health/platform");
  auto h = json(r);
  EXPECT_EQ(std::string(h["status"].GetString()), "warning") << r.body;
  EXPECT_EQ(std::string(h["disk"]["status"].GetString()), "warning");
  ASSERT_EQ(h["warnings"].Size(), 1u);
  EXPECT_EQ(std::string(h["warnings"][0].GetString()).rfind("Disk space low: ", 0), 0u);
}

// Under tests/scripts/with_postgres.sh (ctest dango_postgres): layers are schemas there, and the
// size is pg_database_size. Other dango_postgres tests may share the database: lower bounds.
TEST(dango_postgres, PlatformHealthCountsSchemasAndSizesTheDatabase) {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  if (!url || !*url) GTEST_SKIP() << "PLUGHOST_TEST_POSTGRES_URL is not set";
  LabSetup setup("[{name: PgHealth, type: csv}]", false,
                 "warehouse: {url: \"" + std::string(url) + "\"}");
  setup.storage_url = url;
  Lab lab(setup);
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto before = json(lab.get("/api/health/platform"));
  write_text(lab.folder("pghealth") + "/a.csv", "id\n1\n");
  ASSERT_EQ(lab.sync_and_wait("pghealth"), "success");
  auto r = lab.get("/api/health/platform");
  auto h = json(r);
  EXPECT_STREQ(h["database"]["dialect"].GetString(), "postgresql");
  EXPECT_EQ(h["database"]["raw_tables"].GetInt64(), before["database"]["raw_tables"].GetInt64() + 1)
      << r.body;
  EXPECT_GT(h["database"]["size_bytes"].GetInt64(), 1024 * 1024);  // an empty PG database is ~7 MB
  EXPECT_EQ(h["critical_issues"].Size(), 0u) << r.body;
}

TEST(dango_live, FreshnessUpdateReachesTheSseStreamAfterASync) {
  Lab lab(LabSetup("[{name: fr, type: csv}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  Connection sse(lab.port());
  ASSERT_TRUE(
      sse.send_raw("GET /api/events/stream?types=freshness_update HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got;
  ASSERT_TRUE(sse.read_until(": connected", got)) << got;
  write_text(lab.folder("fr") + "/a.csv", "id\n1\n");
  ASSERT_EQ(lab.sync_and_wait("fr"), "success");
  ASSERT_TRUE(sse.read_until("event: freshness_update", got)) << got;
  ASSERT_TRUE(sse.read_until("\n\n", got)) << got;
  EXPECT_NE(got.find("\"type\":\"freshness_update\""), std::string::npos) << got;
  EXPECT_NE(got.find("\"source\":\"fr\""), std::string::npos) << got;
  EXPECT_NE(got.find("\"status\":\"fresh\""), std::string::npos) << got;
  EXPECT_NE(got.find("\"days_old\":0"), std::string::npos) << got;
}

TEST(dango_live, TimeAloneMakesASourceStaleOnTheStreamAndInHealth) {
  Lab lab(LabSetup("[{name: old, type: csv}]", false,
                   "freshness_check_seconds: 1, health: {disk_warning_percent: 0, "
                   "disk_critical_percent: 0}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  Connection sse(lab.port());
  ASSERT_TRUE(
      sse.send_raw("GET /api/events/stream?types=freshness_update HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got;
  ASSERT_TRUE(sse.read_until(": connected", got)) << got;
  // A successful sync that ended three days ago, as a host restored from a backup would find.
  std::time_t then = std::time(nullptr) - 3 * 86400;
  char at[32];
  std::strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&then));
  exec_sql(lab.dir() + "/host.db",
           std::string("INSERT INTO dango_sync_runs (source, status, full_refresh, triggered_by,"
                       " started_at, finished_at, duration_ms, rows_loaded) VALUES ('old',"
                       " 'success', 0, 'api', '") +
               at + "', '" + at + "', 1000, 5)");
  // No sync ran: the periodic check notices the change.
  ASSERT_TRUE(sse.read_until("\"status\":\"stale\"", got)) << got;
  EXPECT_NE(got.find("\"days_old\":3"), std::string::npos) << got;
  EXPECT_NE(got.find(std::string("\"last_update\":\"") + at + "\""), std::string::npos) << got;

  auto r = lab.get("/api/health/platform");
  auto h = json(r);
  EXPECT_EQ(std::string(h["status"].GetString()), "warning") << r.body;
  ASSERT_EQ(h["warnings"].Size(), 1u) << r.body;
  EXPECT_EQ(std::string(h["warnings"][0].GetString()),
            "Source 'old' is stale: last successful sync 72 hours ago");
}

// ---- WS /ws ----------------------------------------------------------------------------------

using WsClient = websocketpp::client<websocketpp::config::asio_client>;

// A real WebSocket client on its own thread, recording what happens to its connection.
class TestSocket {
 public:
  // `stall`: after its first frame the client stops reading (its I/O thread waits until the
  // socket is destroyed) and its receive buffer is small, so the server's sends back up.
  TestSocket(int port, const Headers& headers, bool answer_pings = true, bool stall = false) {
    client_.clear_access_channels(websocketpp::log::alevel::all);
    client_.clear_error_channels(websocketpp::log::elevel::all);
    client_.init_asio();
    client_.set_open_handler([this](websocketpp::connection_hdl h) {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
      hdl_ = h;
    });
    client_.set_fail_handler([this](websocketpp::connection_hdl h) {
      auto con = client_.get_con_from_hdl(h);
      std::lock_guard<std::mutex> lock(mu_);
      failed_ = true;
      http_status_ = con->get_response().get_status_code();
      body_ = con->get_response().get_body();
    });
    client_.set_close_handler([this](websocketpp::connection_hdl h) {
      auto con = client_.get_con_from_hdl(h);
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      close_code_ = con->get_remote_close_code();
      close_reason_ = con->get_remote_close_reason();
    });
    client_.set_message_handler(
        [this, stall](websocketpp::connection_hdl, WsClient::message_ptr m) {
          std::unique_lock<std::mutex> lock(mu_);
          frames_.push_back(m->get_payload());
          if (stall) released_.wait(lock, [&] { return release_; });
        });
    if (stall) {
      client_.set_tcp_pre_init_handler([this](websocketpp::connection_hdl h) {
        client_.get_con_from_hdl(h)->get_socket().set_option(
            boost::asio::socket_base::receive_buffer_size(4096));
      });
    }
    client_.set_ping_handler(
        [answer_pings](websocketpp::connection_hdl, std::string) { return answer_pings; });
    websocketpp::lib::error_code ec;
    auto con = client_.get_connection("ws://127.0.0.1:" + std::to_string(port) + "/ws", ec);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) return;
    for (const auto& [k, v] : headers) con->append_header(k, v);
    client_.connect(con);
    thread_ = std::thread([this] { client_.run(); });
  }
  ~TestSocket() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      release_ = true;
      released_.notify_all();
      if (open_ && !closed_) {
        websocketpp::lib::error_code ec;
        client_.close(hdl_, websocketpp::close::status::normal, "bye", ec);
      }
    }
    client_.stop();
    if (thread_.joinable()) thread_.join();
  }

  bool open() {
    return locked([&] { return open_; });
  }
  bool failed() {
    return locked([&] { return failed_; });
  }
  bool closed() {
    return locked([&] { return closed_; });
  }
  int http_status() {
    return locked([&] { return static_cast<int>(http_status_); });
  }
  std::string body() {
    return locked([&] { return body_; });
  }
  int close_code() {
    return locked([&] { return static_cast<int>(close_code_); });
  }
  std::string close_reason() {
    return locked([&] { return close_reason_; });
  }
  std::vector<std::string> frames() {
    return locked([&] { return frames_; });
  }
  // The first frame whose type is `type`; empty when none came.
  std::string frame(const std::string& type) {
    for (const auto& f : frames()) {
      if (f.find("\"type\":\"" + type + "\"") != std::string::npos) return f;
    }
    return "";
  }

 private:
  template <typename F>
  auto locked(F&& f) -> decltype(f()) {
    std::lock_guard<std::mutex> lock(mu_);
    return f();
  }

  WsClient client_;
  std::thread thread_;
  std::mutex mu_;
  websocketpp::connection_hdl hdl_;
  bool open_ = false, failed_ = false, closed_ = false;
  websocketpp::http::status_code::value http_status_ =
      websocketpp::http::status_code::uninitialized;
  std::string body_, close_reason_;
  websocketpp::close::status::value close_code_ = 0;
  std::vector<std::string> frames_;
  std::condition_variable released_;
  bool release_ = false;
};

size_t count_frames(TestSocket& ws, const std::string& needle) {
  size_t n = 0;
  for (const auto& f : ws.frames()) n += f.find(needle) != std::string::npos;
  return n;
}

// The bound port of WS /ws (websocket.port 0), from the plugin's start-up log line.
int websocket_port(Lab& lab) {
  const std::string marker = "WS /ws listening on ws://127.0.0.1:";
  if (!lab.host().wait_for_output(marker)) return 0;
  std::string out = lab.host().output();
  size_t at = out.find(marker);
  return std::atoi(out.c_str() + at + marker.size());
}

TEST(dango_live, WebSocketDropsAClientThatStopsReadingAndServesTheOthers) {
  // auth.enabled false: anyone may connect, as on HTTP.
  Lab lab(LabSetup("[]", false, "websocket: {enabled: true, port: 0, max_buffered_bytes: 262144}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  int port = websocket_port(lab);
  ASSERT_GT(port, 0) << lab.host().output();
  TestSocket reader(port, {});
  TestSocket stalled(port, {}, true, /*stall=*/true);
  ASSERT_TRUE(eventually([&] { return count_frames(reader, "\"connected\"") == 1; }, 10));
  ASSERT_TRUE(eventually([&] { return count_frames(stalled, "\"connected\"") == 1; }, 10));
  // Rounds of 20 events of 8 KB (each burst below the 256 KB allowance): the reader takes each
  // round in full while the stalled client's backlog grows until it is dropped.
  const std::string dropped = "was too slow and was disconnected";
  size_t sent = 0;
  for (int round = 0; round < 100 && lab.host().output().find(dropped) == std::string::npos;
       ++round) {
    ASSERT_EQ(lab.post("/api/test-source/publish?count=20&bytes=8192").status, 200);
    sent += 20;
    ASSERT_TRUE(eventually([&] { return count_frames(reader, "dbt_run_probe") == sent; }, 20))
        << count_frames(reader, "dbt_run_probe") << " of " << sent;
  }
  EXPECT_NE(lab.host().output().find(dropped), std::string::npos) << sent << " events sent";
  EXPECT_FALSE(reader.closed());
  EXPECT_EQ(count_frames(stalled, "dbt_run_probe"), 0u);
}

#ifdef DANGO_WITH_ACCOUNTS

LabSetup socket_lab(const std::string& websocket) {
  LabSetup setup("[{name: live, type: csv}]", true, "websocket: " + websocket);
  setup.plugin_entry = "    allowed_origins: [\"http://good.example\"]\n";
  return setup;
}

TEST(dango_live, WebSocketSendsSyncEventsToASignedInClient) {
  Lab lab(socket_lab("{enabled: true, port: 0}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  int port = websocket_port(lab);
  ASSERT_GT(port, 0) << lab.host().output();
  std::string cookie = admin_cookie(lab);
  ASSERT_FALSE(cookie.empty());

  TestSocket anonymous(port, {});
  ASSERT_TRUE(eventually([&] { return anonymous.failed(); }, 10));
  EXPECT_EQ(anonymous.http_status(), 401);
  EXPECT_NE(anonymous.body().find("DANGO-S001"), std::string::npos) << anonymous.body();

  TestSocket forged(port, {{"Cookie", "dango_session=not-a-session"}});
  ASSERT_TRUE(eventually([&] { return forged.failed(); }, 10));
  EXPECT_EQ(forged.http_status(), 401);

  TestSocket elsewhere(port, {{"Cookie", cookie}, {"Origin", "http://evil.example"}});
  ASSERT_TRUE(eventually([&] { return elsewhere.failed(); }, 10));
  EXPECT_EQ(elsewhere.http_status(), 403);

  TestSocket ws(port, {{"Cookie", cookie}, {"Origin", "http://good.example"}});
  ASSERT_TRUE(eventually([&] { return !ws.frame("connected").empty(); }, 10))
      << ws.failed() << " " << ws.http_status();

  write_text(lab.folder("live") + "/a.csv", "id\n1\n2\n");
  auto r = http(
      lab.port(), "POST", "/api/sources/live/sync",
      {{"Cookie", cookie}, {"X-Requested-With", "t"}, {"Content-Type", "application/json"}}, "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(eventually([&] { return !ws.frame("freshness_update").empty(); }, 20))
      << testing::PrintToString(ws.frames());
  auto started = ws.frame("sync_started");
  auto completed = ws.frame("sync_completed");
  EXPECT_NE(started.find("\"source\":\"live\""), std::string::npos) << started;
  EXPECT_NE(completed.find("\"rows\":2"), std::string::npos) << completed;
  EXPECT_NE(completed.find("\"event\":\"sync_completed\""), std::string::npos) << completed;
  EXPECT_NE(completed.find("\"timestamp\":"), std::string::npos) << completed;
  EXPECT_NE(ws.frame("freshness_update").find("\"source\":\"live\""), std::string::npos);
  EXPECT_FALSE(ws.closed());
}

TEST(dango_live, WebSocketClosesAClientThatDoesNotAnswerPings) {
  Lab lab(socket_lab("{enabled: true, port: 0, ping_interval_seconds: 1}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  int port = websocket_port(lab);
  ASSERT_GT(port, 0) << lab.host().output();
  std::string cookie = admin_cookie(lab);
  TestSocket answering(port, {{"Cookie", cookie}});
  TestSocket silent(port, {{"Cookie", cookie}}, /*answer_pings=*/false);
  ASSERT_TRUE(eventually([&] { return silent.closed(); }, 15));
  EXPECT_EQ(silent.close_code(), 1001);
  EXPECT_EQ(silent.close_reason(), "ping timeout");
  EXPECT_TRUE(answering.open());
  EXPECT_FALSE(answering.closed());
}

#endif

}  // namespace
