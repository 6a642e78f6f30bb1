// X-Request-ID over real HTTP: a repeated mutation replays the stored answer, a different body
// is 409, another principal or route is a different request, and keys expire.
#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

#include "lab.hpp"
#include "signature.hpp"

namespace automate_test {
namespace {

using plughost::testing::eventually;

int count(Lab& lab, const std::string& path) {
  return json(lab.call("GET", path))["count"].GetInt();
}

TEST(automate_idempotency, RepeatedRequestIdReplaysTheFirstAnswer) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  Headers key{{"X-Request-ID", "req-1"}};
  auto first = lab.call("POST", kWorkflows, named("Orders"), "admin", {}, key);
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = lab.call("POST", kWorkflows, named("Orders"), "admin", {}, key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(count(lab, kWorkflows), 1);

  // Same key, other body: refused, nothing created.
  auto other = lab.call("POST", kWorkflows, named("Refunds"), "admin", {}, key);
  ASSERT_EQ(other.status, 409) << other.body;
  EXPECT_STREQ(json(other)["error"]["code"].GetString(), "CONFLICT");
  EXPECT_EQ(count(lab, kWorkflows), 1);

  // Same key from another principal, or in another tenant: a request of its own.
  EXPECT_EQ(lab.call("POST", kWorkflows, named("Orders"), "editor", {}, key).status, 201);
  EXPECT_EQ(lab.call("POST", kWorkflows, named("Orders"), "admin", "globex", key).status, 201);
  EXPECT_EQ(count(lab, kWorkflows), 2);

  // Errors below 500 are answers too: the same 400 again, not a second attempt.
  Headers bad{{"X-Request-ID", "req-bad"}};
  auto invalid = lab.call("POST", kWorkflows, R"({"name":""})", "admin", {}, bad);
  ASSERT_EQ(invalid.status, 400);
  EXPECT_EQ(lab.call("POST", kWorkflows, R"({"name":""})", "admin", {}, bad).body, invalid.body);

  // DELETE replays its 204.
  std::string id = json(first)["id"].GetString();
  Headers del{{"X-Request-ID", "del-1"}};
  EXPECT_EQ(lab.call("DELETE", std::string(kWorkflows) + id + "/", {}, "admin", {}, del).status,
            204);
  auto replayed = lab.call("DELETE", std::string(kWorkflows) + id + "/", {}, "admin", {}, del);
  EXPECT_EQ(replayed.status, 204);
  EXPECT_EQ(replayed.header("idempotent-replayed"), "true");
  EXPECT_EQ(lab.call("DELETE", std::string(kWorkflows) + id + "/").status, 404);
}

TEST(automate_idempotency, RepeatedWebhookStoresOneEvent) {
  ASSERT_GE(sodium_init(), 0);
  Lab lab(
      R"({"webhooks": {"stripe": {"secret": "whsec_test"}}, "idempotency": {"ttl_seconds": 1}})");
  ASSERT_TRUE(lab.ready()) << lab.output();
  std::string body = R"({"event_type":"order.created","data":{"order_id":"ORD-1"}})";
  Headers h{{"X-Webhook-Signature", "sha256=" + automate::webhook_signature("whsec_test", body)},
            {"X-Request-ID", "delivery-77"}};
  auto first = lab.call("POST", "/api/automate/webhooks/stripe/", body, "", {}, h);
  ASSERT_EQ(first.status, 202) << first.body;
  auto again = lab.call("POST", "/api/automate/webhooks/stripe/", body, "", {}, h);
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(std::string(json(again)["event_id"].GetString()), json(first)["event_id"].GetString());
  EXPECT_EQ(count(lab, "/api/automate/events/"), 1);

  // After the 1 s time-to-live the key is free: the same delivery is a new event.
  std::string first_id = json(first)["event_id"].GetString();
  bool expired = eventually(
      [&] {
        auto r = lab.call("POST", "/api/automate/webhooks/stripe/", body, "", {}, h);
        return r.status == 202 && first_id != json(r)["event_id"].GetString();
      },
      10);
  EXPECT_TRUE(expired);
  EXPECT_EQ(count(lab, "/api/automate/events/"), 2);
}

}  // namespace
}  // namespace automate_test
