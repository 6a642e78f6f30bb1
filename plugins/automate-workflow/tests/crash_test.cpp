// Durability of acknowledged webhooks: thousands of signed webhooks sent concurrently over HTTP,
// the host SIGKILLed in the middle, restarted on the same storage, the rest sent. Every event
// that got its 202 must be stored, and every stored event must have run its workflow.
#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lab.hpp"
#include "signature.hpp"

namespace automate_test {
namespace {

using plughost::testing::Connection;
using plughost::testing::eventually;

int event_count() {
  if (const char* n = std::getenv("AUTOMATE_CRASH_EVENTS")) return std::max(100, std::atoi(n));
#if defined(__SANITIZE_ADDRESS__)
  return 2000;  // ASan runs about 10x slower; release runs the full 10,000
#else
  return 10000;
#endif
}

// Sends webhooks for the indexes in `todo` on `clients` keep-alive connections until all got a
// 202 or the host went away; returns the event ids acknowledged, and leaves in `todo` the
// indexes that were not.
std::vector<std::string> send_webhooks(Lab& lab, std::vector<int>& todo, int clients,
                                       std::atomic<int>& acknowledged) {
  std::mutex mu;
  std::vector<std::string> ids;
  std::vector<int> left;
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      Connection conn(lab.port());
      std::vector<std::string> mine;
      std::vector<int> failed;
      bool alive = true;
      for (size_t i; (i = next++) < todo.size();) {
        if (!alive) {
          failed.push_back(todo[i]);
          continue;
        }
        std::string body =
            R"({"event_type":"order.created","data":{"n":)" + std::to_string(todo[i]) + "}}";
        auto r = conn.request(
            "POST", "/api/automate/webhooks/stripe/",
            {{"Content-Type", "application/json"},
             {"X-Tenant-ID", lab.tenant_header()},
             {"X-Webhook-Signature", "sha256=" + automate::webhook_signature("whsec", body)}},
            body);
        if (r.status == 202) {
          rapidjson::Document d;
          d.Parse(r.body.c_str());
          mine.push_back(d["event_id"].GetString());
          ++acknowledged;
        } else {
          alive = r.status != 0;
          failed.push_back(todo[i]);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(ids.end(), mine.begin(), mine.end());
      left.insert(left.end(), failed.begin(), failed.end());
    });
  }
  for (auto& t : threads) t.join();
  todo = left;
  return ids;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Every id of a paginated list (page_size 100), with `field` of each row.
std::set<std::string> collect(Lab& lab, const std::string& path, const char* field) {
  std::set<std::string> out;
  for (int page = 1;; ++page) {
    auto r = lab.call("GET", path + "&page_size=100&page=" + std::to_string(page));
    if (r.status != 200) break;
    auto d = json(r);
    for (const auto& row : d["results"].GetArray()) out.insert(row[field].GetString());
    if (d["next"].IsNull()) break;
  }
  return out;
}

TEST(automate_durability, AcknowledgedWebhooksSurviveSigkillAndRun) {
  ASSERT_GE(sodium_init(), 0);
  const int total = event_count();
  Lab lab(R"({"webhooks": {"stripe": {"secret": "whsec"}}})",
          LabOptions{false, "{workers: 4, poll_interval_seconds: 0.05, lease_seconds: 2}"});
  ASSERT_TRUE(lab.ready()) << lab.output();
  lab.create(R"({"name":"Count orders","trigger_type":"webhook",
                 "trigger_config":{"source":"stripe","event_type":"order.created"},
                 "graph":{"nodes":[{"id":"log","type":"logging",
                                    "config":{"message":"order {{ event.payload.n }}"}}]}})");

  auto started = std::chrono::steady_clock::now();
  std::vector<int> todo;
  for (int i = 0; i < total; ++i) todo.push_back(i);
  std::atomic<int> acknowledged{0};
  std::vector<std::string> acked;
  std::thread sender([&] { acked = send_webhooks(lab, todo, 8, acknowledged); });
  ASSERT_TRUE(eventually([&] { return acknowledged >= total / 2; }, 120));
  lab.kill();  // mid-stream: requests in flight, executions queued and running
  sender.join();
  ASSERT_GT(todo.size(), 0u) << "the host died after the last request";
  ASSERT_TRUE(lab.start()) << lab.output();
  auto rest = send_webhooks(lab, todo, 8, acknowledged);
  acked.insert(acked.end(), rest.begin(), rest.end());
  ASSERT_TRUE(todo.empty());
  ASSERT_EQ(static_cast<int>(acked.size()), total);
  double ingest_seconds = seconds_since(started);

  auto stored = collect(lab, "/api/automate/events/?source=stripe", "id");
  for (const auto& id : acked) ASSERT_TRUE(stored.count(id)) << "acknowledged event lost: " << id;
  // At most the requests in flight at the kill were stored without their 202.
  EXPECT_LE(stored.size(), acked.size() + 8);

  // Every stored event runs exactly once to SUCCESS (executions queued before the kill included).
  size_t succeeded = 0;
  bool done = eventually(
      [&] {
        auto d = json(lab.call("GET", executions_path("?status=SUCCESS&page_size=1")));
        succeeded = static_cast<size_t>(d["count"].GetInt());
        return succeeded >= stored.size();
      },
      240);
  ASSERT_TRUE(done) << succeeded << " of " << stored.size() << " executions succeeded";
  std::cout << "[ info     ] " << total << " webhooks acknowledged (" << stored.size()
            << " stored) in " << ingest_seconds << " s; all executions done "
            << seconds_since(started) << " s after the first request" << std::endl;
  auto all = json(lab.call("GET", executions_path("?page_size=1")));
  EXPECT_EQ(static_cast<size_t>(all["count"].GetInt()), stored.size());
  auto ran = collect(lab, executions_path("?status=SUCCESS"), "trigger_event_id");
  EXPECT_EQ(ran, stored);
}

}  // namespace
}  // namespace automate_test
