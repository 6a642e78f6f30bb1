// Several hosts on one PostgreSQL queue. Run through tests/scripts/with_postgres.sh, which sets
// PLUGHOST_TEST_POSTGRES_URL; without it every test here fails (it is never skipped).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>

#include "support.hpp"

namespace itest {
namespace {

std::string pg_url() {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  if (!url) ADD_FAILURE() << "PLUGHOST_TEST_POSTGRES_URL is not set; run via with_postgres.sh";
  return url ? url : "";
}

std::string config(const std::string& node, int workers) {
  return "version: 1\n"
         "auth: {enabled: false}\n"
         "rate_limits: {enabled: false}\n"
         "server: {listen: 127.0.0.1:0}\n"
         "log: {format: json, access: false}\n"
         "storage: {url: \"" +
         pg_url() +
         "\", pool_size: 6}\n"
         "tasks: {workers: " +
         std::to_string(workers) +
         ", lease_seconds: 3, poll_interval_seconds: 0.02, node: " + node +
         "}\n"
         "plugins_dir: " FIXTURE_PLUGIN_DIR
         "\n"
         "plugins:\n"
         "  fixture_store: {required: true}\n";
}

constexpr double kPatience = 120;  // seconds; a safety net for eventually()

int count(int port, const std::string& status) {
  return static_cast<int>(json(http(port, "GET", "/api/tasks?status=" + status)).Size());
}

// 1,000 tasks, two hosts claiming from one queue with FOR UPDATE SKIP LOCKED; one host is
// SIGKILLed mid-run. Every task completes, and none runs twice except a task that was running on
// the killed host (at-least-once: it is re-run after its lease).
TEST(TwoHosts, ThousandTasksRunOnceEvenWhenOneHostIsKilled) {
  const int kTasks = 1000;
  {
    // An enqueue-only host (workers: 0) fills the queue before any worker exists, so the kill
    // below lands mid-run however slow this machine is.
    Host producer(config("producer", 0));
    ASSERT_TRUE(producer.wait_ready()) << producer.output();
    for (int i = 0; i < kTasks; ++i) {
      auto r = http(producer.port(), "POST", "/api/tasks", {},
                    "{\"kind\":\"record\",\"payload\":{\"tag\":\"t\",\"ms\":20}}");
      ASSERT_EQ(r.status, 202) << r.body;
    }
  }
  auto a = std::make_unique<Host>(config("host-a", 4));
  ASSERT_TRUE(a->wait_ready()) << a->output();
  Host b(config("host-b", 4));
  ASSERT_TRUE(b.wait_ready()) << b.output();
  ASSERT_TRUE(eventually(
      [&] { return json(http(b.port(), "GET", "/api/runs"))["runs"].GetInt() >= 100; }, kPatience));
  a->signal(SIGKILL);
  EXPECT_EQ(a->wait_exit(), 128 + SIGKILL);
  a.reset();
  int done_at_kill = json(http(b.port(), "GET", "/api/runs"))["distinct"].GetInt();
  EXPECT_LT(done_at_kill, kTasks);  // the kill must land mid-run for the test to mean anything
  // Everything settles: the killed host's in-flight tasks come back after their lease.
  ASSERT_TRUE(eventually(
      [&] {
        return count(b.port(), "queued") == 0 && count(b.port(), "running") == 0 &&
               json(http(b.port(), "GET", "/api/runs"))["distinct"].GetInt() == kTasks;
      },
      kPatience));
  auto runs = json(http(b.port(), "GET", "/api/runs"));
  int doubled = runs["runs"].GetInt() - runs["distinct"].GetInt();
  // Only tasks in flight on the killed host (at most its 4 workers) may have run twice. (The
  // 3 s lease keeps a live but CPU-starved host's heartbeats from lapsing in a loaded CI run.)
  EXPECT_LE(doubled, 4) << "runs=" << runs["runs"].GetInt();
  EXPECT_EQ(count(b.port(), "failed"), 0);
}

}  // namespace
}  // namespace itest
