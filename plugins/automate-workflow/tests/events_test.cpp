// Webhooks and emitted events over real HTTP: signatures, storage before the answer, dedupe.
#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

#include "lab.hpp"
#include "signature.hpp"

namespace automate_test {
namespace {

const char* kStripeConfig = R"({"webhooks": {"stripe": {"secret": "whsec_test"},
                                             "github": {"secret": "gh_other"}}})";
const std::string kOrder =
    R"({"event_type":"order.created","data":{"order_id":"ORD-123","amount":99.99}})";

HttpResponse post_webhook(Lab& lab, const std::string& source, const std::string& body,
                          Headers headers) {
  return lab.call("POST", "/api/automate/webhooks/" + source + "/", body, "", {}, headers);
}

Headers signed_by(const std::string& secret, const std::string& body) {
  return {{"X-Webhook-Signature", "sha256=" + automate::webhook_signature(secret, body)}};
}

int stored_events(Lab& lab, const std::string& tenant = {}) {
  auto r = lab.call("GET", "/api/automate/events/", {}, "admin", tenant);
  EXPECT_EQ(r.status, 200) << r.body;
  return json(r)["count"].GetInt();
}

class automate_webhooks : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(automate_webhooks, SignedWebhookIsStoredBeforeThe202) {
  Lab lab(kStripeConfig);
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto r = post_webhook(lab, "stripe", kOrder, signed_by("whsec_test", kOrder));
  ASSERT_EQ(r.status, 202) << r.body;
  auto accepted = json(r);
  EXPECT_STREQ(accepted["message"].GetString(), "Event accepted for processing");
  EXPECT_GT(accepted["trace_id"].GetStringLength(), 0u);
  // Stored by the time the 202 arrived: no waiting.
  auto events = json(lab.call("GET", "/api/automate/events/?source=stripe"));
  ASSERT_EQ(events["count"].GetInt(), 1);
  const auto& e = events["results"][0];
  EXPECT_STREQ(e["id"].GetString(), accepted["event_id"].GetString());
  EXPECT_STREQ(e["type"].GetString(), "order.created");
  EXPECT_STREQ(e["payload"]["order_id"].GetString(), "ORD-123");

  // Bare hex in X-Signature is accepted too.
  auto bare = post_webhook(lab, "stripe", kOrder,
                           {{"X-Signature", automate::webhook_signature("whsec_test", kOrder)}});
  EXPECT_EQ(bare.status, 202) << bare.body;
  EXPECT_EQ(stored_events(lab), 2);
}

TEST_F(automate_webhooks, MissingOrBadSignatureIs401AndStoresNothing) {
  Lab lab(kStripeConfig);
  ASSERT_TRUE(lab.ready()) << lab.output();
  std::string good = automate::webhook_signature("whsec_test", kOrder);
  std::string tampered = R"({"event_type":"order.created","data":{"order_id":"ORD-999"}})";
  std::string flipped = good;
  flipped[0] = flipped[0] == '0' ? '1' : '0';
  const std::vector<Headers> refused = {
      {},                                                         // missing
      {{"X-Webhook-Signature", "sha256=" + flipped}},             // wrong
      {{"X-Webhook-Signature", good}},                            // without the sha256= prefix
      {{"X-Webhook-Signature", "sha256=" + good.substr(0, 40)}},  // truncated
      {{"X-Webhook-Signature", "sha256=not-hex"}},                // garbage
      signed_by("gh_other", kOrder),                              // another source's secret
  };
  for (const auto& headers : refused) {
    auto r = post_webhook(lab, "stripe", kOrder, headers);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_STREQ(json(r)["error"]["code"].GetString(), "UNAUTHORIZED");
  }
  // A captured signature replayed on another body.
  EXPECT_EQ(post_webhook(lab, "stripe", tampered, signed_by("whsec_test", kOrder)).status, 401);
  EXPECT_EQ(stored_events(lab), 0);
}

TEST_F(automate_webhooks, UnknownSourceIs404AndMissingEventTypeIs400) {
  Lab lab(kStripeConfig);
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto unknown = post_webhook(lab, "shopify", kOrder, signed_by("whsec_test", kOrder));
  ASSERT_EQ(unknown.status, 404);
  EXPECT_STREQ(json(unknown)["error"]["code"].GetString(), "NOT_FOUND");
  std::string no_type = R"({"data":{}})";
  expect_validation_error(post_webhook(lab, "stripe", no_type, signed_by("whsec_test", no_type)),
                          {"event_type"});
  EXPECT_EQ(stored_events(lab), 0);
}

TEST(automate_events, RepeatedDedupeKeyReturnsTheFirstEventAndStoresNothingNew) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  std::string body = R"({"type":"custom.event","payload":{"key":"value"},"dedupe_key":"k-1"})";
  auto first = lab.call("POST", "/api/automate/events/", body, "editor");
  ASSERT_EQ(first.status, 201) << first.body;
  std::string id = json(first)["event_id"].GetString();
  auto again = lab.call("POST", "/api/automate/events/", body, "editor");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json(again)["event_id"].GetString(), id);
  EXPECT_EQ(stored_events(lab), 1);
  // Keys are per tenant; no key means no dedupe.
  auto other = lab.call("POST", "/api/automate/events/", body, "editor", "globex");
  ASSERT_EQ(other.status, 201);
  EXPECT_NE(json(other)["event_id"].GetString(), id);
  std::string keyless = R"({"type":"custom.event"})";
  EXPECT_EQ(lab.call("POST", "/api/automate/events/", keyless, "editor").status, 201);
  EXPECT_EQ(lab.call("POST", "/api/automate/events/", keyless, "editor").status, 201);
  EXPECT_EQ(stored_events(lab), 3);
  EXPECT_EQ(stored_events(lab, "globex"), 1);
}

TEST(automate_events, EmitValidatesAndNeedsEventsWrite) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  expect_validation_error(lab.call("POST", "/api/automate/events/", R"({"payload":{}})"), {"type"});
  expect_validation_error(
      lab.call("POST", "/api/automate/events/", R"({"type":"x","payload":[1]})"), {"payload"});
  EXPECT_EQ(lab.call("POST", "/api/automate/events/", R"({"type":"x"})", "viewer").status, 403);
  EXPECT_EQ(lab.call("POST", "/api/automate/events/", R"({"type":"x"})", "").status, 401);
  auto traced = lab.call("POST", "/api/automate/events/", R"({"type":"x"})", "admin", {},
                         {{"X-Trace-ID", "trace-abc-123"}});
  ASSERT_EQ(traced.status, 201);
  EXPECT_STREQ(json(traced)["trace_id"].GetString(), "trace-abc-123");
}

}  // namespace
}  // namespace automate_test
