// Notifications over HTTP against the real host, with webhook targets served by local stub
// servers: generic JSON and Slack payloads on sync success/failure, the test route, a 500 then
// 200 retried, a timeout, the delivery log and masked URLs.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "lab.hpp"

namespace {

using namespace dango_test;

rapidjson::Document body_of(const StubRequest& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  return d;
}

// The delivery with `id` from the log once it left `queued`.
rapidjson::Document settled_delivery(Lab& lab, int64_t id) {
  rapidjson::Document found;
  eventually(
      [&] {
        auto list = json(lab.get("/api/notifications/deliveries"));
        for (auto& d : list["deliveries"].GetArray()) {
          if (d["id"].GetInt64() == id && std::string(d["status"].GetString()) != "queued") {
            found.CopyFrom(d, found.GetAllocator());
            return true;
          }
        }
        return false;
      },
      20);
  return found;
}

TEST(dango_notifications, SyncOutcomesReachJsonAndSlackTargets) {
  StubServer generic([](const StubRequest&) { return StubReply(200, "{}"); });
  StubServer slack([](const StubRequest&) { return StubReply(200, "ok", "text/plain"); });
  std::string config = "notifications: {webhooks: [{name: ops, url: \"" + generic.url() +
                       "/hooks/s3cr3t\", on: [failure, success], headers: {X-Token: abc}},"
                       " {name: chat, url: \"" +
                       slack.url() + "/services/T0/B0/XYZ\", format: slack}]}";
  Lab lab(LabSetup("[{name: sales, type: csv}]", false, config));
  ASSERT_TRUE(lab.ready()) << lab.host().output();

  write_text(lab.folder("sales") + "/a.csv", "id\n1\n2\n");
  ASSERT_EQ(lab.sync_and_wait("sales"), "success");
  ASSERT_TRUE(eventually([&] { return generic.requests().size() == 1; }, 20));
  auto ok = generic.requests()[0];
  EXPECT_EQ(ok.method, "POST");
  EXPECT_EQ(ok.path, "/hooks/s3cr3t");
  EXPECT_EQ(ok.header("content-type"), "application/json");
  EXPECT_EQ(ok.header("x-token"), "abc");
  auto success = body_of(ok);
  EXPECT_STREQ(success["event"].GetString(), "sync_completed");
  EXPECT_STREQ(success["status"].GetString(), "success");
  EXPECT_STREQ(success["source"].GetString(), "sales");
  EXPECT_EQ(success["rows_loaded"].GetInt64(), 2);
  EXPECT_FALSE(success["test"].GetBool());

  write_text(lab.folder("sales") + "/b.csv", "id,name\n3,\"unterminated\n");
  ASSERT_EQ(lab.sync_and_wait("sales"), "failed");
  ASSERT_TRUE(eventually([&] { return generic.requests().size() == 2; }, 20));
  auto failure = body_of(generic.requests()[1]);
  EXPECT_STREQ(failure["event"].GetString(), "sync_failed");
  EXPECT_STREQ(failure["status"].GetString(), "failure");
  EXPECT_NE(std::string(failure["error"].GetString()).find("b.csv"), std::string::npos);
  // The Slack target is on failures only: exactly one message, Slack's shape.
  ASSERT_TRUE(eventually([&] { return slack.requests().size() == 1; }, 20));
  auto chat = body_of(slack.requests()[0]);
  EXPECT_EQ(std::string(chat["text"].GetString()).rfind("Sync failed for sales: ", 0), 0u);
  EXPECT_STREQ(chat["blocks"][0]["type"].GetString(), "section");
  EXPECT_STREQ(chat["blocks"][0]["text"]["type"].GetString(), "mrkdwn");
  EXPECT_FALSE(chat.HasMember("event"));

  auto log = json(lab.get("/api/notifications/deliveries"));
  ASSERT_EQ(log["deliveries"].Size(), 3u);
  for (const auto& d : log["deliveries"].GetArray()) {
    EXPECT_STREQ(d["status"].GetString(), "delivered");
    EXPECT_EQ(d["attempts"].GetInt64(), 1);
    EXPECT_EQ(d["response_status"].GetInt64(), 200);
  }
  auto cfg = lab.get("/api/notifications/config");
  ASSERT_EQ(cfg.status, 200);
  EXPECT_EQ(cfg.body.find("s3cr3t"), std::string::npos) << cfg.body;
  EXPECT_EQ(cfg.body.find("abc"), std::string::npos) << cfg.body;
  auto c = json(cfg);
  EXPECT_EQ(std::string(c["webhooks"][0]["url"].GetString()), generic.url() + "/***");
  EXPECT_STREQ(c["webhooks"][1]["format"].GetString(), "slack");
}

TEST(dango_notifications, TestMessageIsRetriedAfterA500) {
  std::atomic<int> calls{0};
  StubServer flaky([&](const StubRequest&) {
    return ++calls == 1 ? StubReply(500, "{\"error\":\"busy\"}") : StubReply(200, "{}");
  });
  Lab lab(LabSetup("[]", false,
                   "notifications: {retry_delay_seconds: 0.05, webhooks: [{name: ops, url: \"" +
                       flaky.url() + "/hook\", retries: 2}]}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto sent = lab.post("/api/notifications/test");
  ASSERT_EQ(sent.status, 200) << sent.body;
  auto queued = json(sent);
  ASSERT_EQ(queued["deliveries"].Size(), 1u);
  auto d = settled_delivery(lab, queued["deliveries"][0]["delivery_id"].GetInt64());
  ASSERT_TRUE(d.IsObject());
  EXPECT_STREQ(d["status"].GetString(), "delivered");
  EXPECT_EQ(d["attempts"].GetInt64(), 2);
  EXPECT_STREQ(d["event"].GetString(), "test");
  auto requests = flaky.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, requests[1].body);
  EXPECT_TRUE(body_of(requests[1])["test"].GetBool());
}

TEST(dango_notifications, ASilentTargetTimesOutAndIsLoggedAsFailed) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  StubServer silent([&](const StubRequest&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return StubReply(200, "{}");
  });
  {
    Lab lab(LabSetup("[]", false,
                     "notifications: {retry_delay_seconds: 0.05, webhooks: [{name: slow, url: \"" +
                         silent.url() + "/hook\", timeout_seconds: 0.3, retries: 1}]}"));
    ASSERT_TRUE(lab.ready()) << lab.host().output();
    auto sent = lab.post("/api/notifications/test");
    ASSERT_EQ(sent.status, 200) << sent.body;
    auto d = settled_delivery(lab, json(sent)["deliveries"][0]["delivery_id"].GetInt64());
    ASSERT_TRUE(d.IsObject());
    EXPECT_STREQ(d["status"].GetString(), "failed");
    EXPECT_EQ(d["attempts"].GetInt64(), 2);
    EXPECT_TRUE(d["response_status"].IsNull());
    EXPECT_NE(std::string(d["error"].GetString()).find("timed out"), std::string::npos)
        << d["error"].GetString();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
}

TEST(dango_notifications, TestWithoutWebhooksIsRefused) {
  Lab lab(LabSetup("[]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto r = lab.post("/api/notifications/test");
  EXPECT_EQ(r.status, 400);
  EXPECT_STREQ(json(r)["error_code"].GetString(), "DANGO-NOTIF-001");
  EXPECT_FALSE(json(lab.get("/api/notifications/config"))["enabled"].GetBool());
}

}  // namespace
