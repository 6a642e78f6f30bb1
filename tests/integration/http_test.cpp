// The real plughost binary, fixture plugins loaded, spoken to over loopback HTTP.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <string>

#include "support.hpp"

namespace itest {
namespace {

std::string config(const std::string& plugins, const std::string& extra_server = "") {
  return "version: 1\n"
         "auth: {enabled: false}\n"
         "server:\n"
         "  listen: 127.0.0.1:0\n"
         "  threads: 2\n"
         "  max_body_bytes: 1024\n" +
         extra_server +
         "log:\n"
         "  format: json\n"
         "storage:\n"
         "  url: sqlite://plughost.db\n"
         "plugins_dir: " FIXTURE_PLUGIN_DIR
         "\n"
         "plugins:\n" +
         plugins;
}

const char* kGood =
    "  fixture_good:\n"
    "    config:\n"
    "      greeting: bonjour\n"
    "  fixture_c: {}\n";

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  EXPECT_FALSE(d.HasParseError()) << body;
  return d;
}

void expect_envelope(const HttpResponse& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto d = parse(r.body);
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << r.body;
  EXPECT_EQ(std::string(d["error"]["code"].GetString()), code);
  EXPECT_TRUE(d["error"]["message"].IsString());
  EXPECT_TRUE(d["error"]["details"].IsArray());
  EXPECT_EQ(std::string(d["error"]["trace_id"].GetString()), r.header("x-trace-id"));
}

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = std::make_unique<Host>(config(kGood));
    ASSERT_TRUE(host_->wait_ready()) << host_->output();
    port_ = host_->port();
  }
  std::unique_ptr<Host> host_;
  int port_ = 0;
};

TEST_F(HttpTest, HealthzAndReadyzAnswer) {
  auto h = http(port_, "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(parse(h.body)["status"].GetString(), std::string("ok"));
  auto r = http(port_, "GET", "/readyz");
  EXPECT_EQ(r.status, 200) << r.body;
  auto d = parse(r.body);
  EXPECT_EQ(d["status"].GetString(), std::string("ready"));
  EXPECT_NE(r.body.find("plugin:fixture_good"), std::string::npos);
  EXPECT_NE(r.body.find("{\"name\":\"storage\",\"status\":\"ok\"}"), std::string::npos);
}

TEST_F(HttpTest, PluginRouteUsesConfigValue) {
  auto r = http(port_, "GET", "/api/good/hello");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "bonjour");
  EXPECT_EQ(r.header("content-type").rfind("text/plain", 0), 0u);
}

TEST_F(HttpTest, PluginSeesParamsQueryHeadersCookiesAndRemote) {
  auto r = http(port_, "GET", "/api/good/items/a%20b?q=x%2By+z&other=1",
                {{"User-Agent", "itest/1"}, {"X-Custom", "yes"}, {"Cookie", "session=s1; t=2"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse(r.body);
  EXPECT_EQ(std::string(d["id"].GetString()), "a b");
  EXPECT_EQ(std::string(d["q"].GetString()), "x+y z");
  EXPECT_EQ(std::string(d["user_agent"].GetString()), "itest/1");
  EXPECT_EQ(std::string(d["custom"].GetString()), "yes");
  EXPECT_EQ(std::string(d["cookie"].GetString()), "s1");
  EXPECT_EQ(std::string(d["remote"].GetString()), "127.0.0.1");
  EXPECT_EQ(r.header("x-item"), "a b");
}

TEST_F(HttpTest, WildcardTailReachesPlugin) {
  auto r = http(port_, "GET", "/api/good/files/docs/readme.md");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "docs/readme.md");
}

TEST_F(HttpTest, JsonBodyRoundTripsWithStatus) {
  auto r = http(port_, "POST", "/api/good/echo", {{"Content-Type", "application/json"}},
                R"({"a":[1,2,{"b":"c"}]})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"a":[1,2,{"b":"c"}]})");
}

TEST_F(HttpTest, MalformedJsonBodyIs400Envelope) {
  auto r = http(port_, "POST", "/api/good/echo", {}, "{not json");
  expect_envelope(r, 400, "INVALID_JSON");
}

TEST_F(HttpTest, UnknownPathIs404Envelope) {
  expect_envelope(http(port_, "GET", "/nope"), 404, "NOT_FOUND");
}

TEST_F(HttpTest, WrongMethodIs405WithAllow) {
  auto r = http(port_, "DELETE", "/api/good/hello");
  expect_envelope(r, 405, "METHOD_NOT_ALLOWED");
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
}

TEST_F(HttpTest, BodyOverLimitIs413Envelope) {
  auto r = http(port_, "POST", "/api/good/echo", {}, std::string(2000, 'x'));
  expect_envelope(r, 413, "PAYLOAD_TOO_LARGE");
  // Nothing is lost: the host still serves.
  EXPECT_EQ(http(port_, "GET", "/api/good/hello").status, 200);
}

TEST_F(HttpTest, MalformedRequestIs400) {
  Connection c(port_);
  ASSERT_TRUE(c.send_raw("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 400);
  EXPECT_EQ(http(port_, "GET", "/healthz").status, 200);
}

TEST_F(HttpTest, HandlerExceptionIs500AndHostKeepsServing) {
  auto r = http(port_, "GET", "/api/good/throw");
  expect_envelope(r, 500, "INTERNAL_ERROR");
  // The exception's text is logged, never sent to the client.
  EXPECT_EQ(r.body.find("exploded"), std::string::npos);
  EXPECT_TRUE(host_->wait_for_output("fixture handler exploded"));
  EXPECT_EQ(http(port_, "GET", "/api/good/hello").status, 200);
}

TEST_F(HttpTest, PluginHttpErrorKeepsItsStatusAndDetails) {
  auto r = http(port_, "GET", "/api/good/reject");
  expect_envelope(r, 422, "VALIDATION_ERROR");
  auto d = parse(r.body);
  ASSERT_EQ(d["error"]["details"].Size(), 1u);
  EXPECT_EQ(std::string(d["error"]["details"][0]["field"].GetString()), "name");
}

TEST_F(HttpTest, TraceIdIsEchoedOrGenerated) {
  auto given = http(port_, "GET", "/api/good/items/1", {{"X-Request-ID", "req-42"}});
  EXPECT_EQ(given.header("x-trace-id"), "req-42");
  EXPECT_EQ(std::string(parse(given.body)["trace_id"].GetString()), "req-42");
  auto made = http(port_, "GET", "/api/good/items/1");
  EXPECT_EQ(made.header("x-trace-id").size(), 32u);
  auto bad = http(port_, "GET", "/api/good/items/1", {{"X-Trace-ID", std::string(300, 'a')}});
  EXPECT_EQ(bad.header("x-trace-id").size(), 32u);
  EXPECT_TRUE(host_->wait_for_output("\"request_id\":\"req-42\""));
}

TEST_F(HttpTest, Http11WithoutConnectionHeaderStaysKeepAlive) {
  Connection c(port_);
  for (int i = 0; i < 3; ++i) {
    auto r = c.request("GET", "/api/good/hello");
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.header("connection"), "Close");
    EXPECT_NE(r.header("connection"), "close");
  }
  EXPECT_FALSE(c.peer_closed());
}

TEST_F(HttpTest, CPluginAnswers) {
  auto r = http(port_, "GET", "/api/c/hello");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello from C");
}

TEST_F(HttpTest, ConnectorCallCrossesThePluginBoundary) {
  auto r = http(port_, "GET", "/api/good/upper?s=%22abc%22");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "\"\"ABC\"\"");
}

TEST_F(HttpTest, SigtermShutsDownCleanlyInReverseOrder) {
  host_->signal(SIGTERM);
  EXPECT_EQ(host_->wait_exit(), 0);
  std::string out = host_->output();
  size_t c_stopped = out.find("\"msg\":\"plugin stopped\",\"plugin\":\"fixture_c\"");
  size_t good_stopped = out.find("\"msg\":\"plugin stopped\",\"plugin\":\"fixture_good\"");
  ASSERT_NE(c_stopped, std::string::npos) << out;
  ASSERT_NE(good_stopped, std::string::npos) << out;
  EXPECT_LT(c_stopped, good_stopped);  // fixture_c was initialised last
}

TEST(HttpFailures, FailingOptionalPluginLeavesHostServingButNotReady) {
  Host host(config("  fixture_init_throws: {}\n  fixture_good: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/api/good/hello").body, "hello");
  auto r = http(host.port(), "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("database unreachable at init"), std::string::npos) << r.body;
  EXPECT_EQ(http(host.port(), "GET", "/api/throws/never").status, 404);
}

TEST(HttpFailures, FailingRequiredPluginExitsNonZeroWithReason) {
  Host host(config("  fixture_wrong_major:\n    required: true\n"));
  EXPECT_FALSE(host.wait_ready());
  EXPECT_EQ(host.wait_exit(), 1);
  EXPECT_NE(host.output().find("plugin ABI 2.0 is incompatible with host ABI 1."),
            std::string::npos)
      << host.output();
}

TEST(HttpFailures, DrainTurnsReadyzUnavailableBeforeStopping) {
  Host host(config(kGood, "  drain_seconds: 30\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/readyz").status, 200);
  host.signal(SIGTERM);
  ASSERT_TRUE(host.wait_for_output("\"msg\":\"shutting down\""));
  auto r = http(host.port(), "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("draining"), std::string::npos);
  EXPECT_EQ(http(host.port(), "GET", "/api/good/hello").status, 200);  // still serving
  host.signal(SIGTERM);  // a second signal ends the drain at once
  EXPECT_EQ(host.wait_exit(), 1);
}

}  // namespace
}  // namespace itest

namespace itest {
namespace {

// The committed ABI 1.0 binary (tests/abi/v1_0) must load into every 1.x host and answer.
TEST(AbiCompatibility, CommittedAbi10PluginLoadsAndAnswers) {
  Host host(
      "version: 1\n"
      "auth: {enabled: false}\n"
      "server: {listen: 127.0.0.1:0}\n"
      "log: {format: json}\n"
      "plugins_dir: " FROZEN_ABI10_DIR
      "\n"
      "plugins:\n"
      "  frozen_v10: {required: true}\n");
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto r = http(host.port(), "GET", "/api/frozen/ada");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "frozen 1.0 says hello to ada");
}

}  // namespace
}  // namespace itest

namespace itest {
namespace {

// Value of the first exposition line starting with `series` (labels included), or -1.
double metric(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(Metrics, PrometheusTextCountsRequestsByRouteTemplateAndTasks) {
  std::string dir = make_temp_dir();
  Host host(
      "version: 1\n"
      "auth: {enabled: false}\n"
      "server: {listen: 127.0.0.1:0}\n"
      "storage: {url: \"sqlite://" +
      dir +
      "/m.db\"}\n"
      "plugins_dir: " FIXTURE_PLUGIN_DIR
      "\n"
      "plugins:\n"
      "  fixture_good: {}\n"
      "  fixture_store: {}\n");
  ASSERT_TRUE(host.wait_ready()) << host.output();
  for (const char* id : {"1", "2", "3"}) {
    ASSERT_EQ(http(host.port(), "GET", std::string("/api/good/items/") + id).status, 200);
  }
  EXPECT_EQ(http(host.port(), "GET", "/api/good/throw").status, 500);
  EXPECT_EQ(http(host.port(), "GET", "/nope").status, 404);
  auto r = http(host.port(), "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
  const std::string& m = r.body;
  // The route label is the template, never the raw path.
  EXPECT_EQ(metric(m,
                   "plughost_http_requests_total{plugin=\"fixture_good\",route=\"/api/good/"
                   "items/:id\",method=\"GET\",code=\"200\"}"),
            3);
  EXPECT_EQ(m.find("/api/good/items/1"), std::string::npos);
  EXPECT_EQ(metric(m,
                   "plughost_http_requests_total{plugin=\"fixture_good\",route=\"/api/good/"
                   "throw\",method=\"GET\",code=\"500\"}"),
            1);
  EXPECT_EQ(metric(m,
                   "plughost_http_requests_total{plugin=\"\",route=\"\",method=\"GET\","
                   "code=\"404\"}"),
            1);
  EXPECT_EQ(metric(m,
                   "plughost_http_request_duration_seconds_count{plugin=\"fixture_good\","
                   "route=\"/api/good/items/:id\"}"),
            3);
  EXPECT_EQ(metric(m,
                   "plughost_http_request_duration_seconds_bucket{plugin=\"fixture_good\","
                   "route=\"/api/good/items/:id\",le=\"+Inf\"}"),
            3);
  EXPECT_EQ(metric(m, "plughost_plugin_up{plugin=\"fixture_good\"}"), 1);
  EXPECT_EQ(metric(m, "plughost_http_requests_in_flight"), 1);  // the scrape itself
  EXPECT_NE(m.find("plughost_build_info{version=\""), std::string::npos);
  EXPECT_GE(metric(m, "plughost_storage_pool_sessions{state=\"idle\"}"), 0);

  // A task that runs to completion is counted by outcome.
  auto created = http(host.port(), "POST", "/api/tasks", {}, "{\"kind\":\"count\"}");
  ASSERT_EQ(created.status, 202) << created.body;
  EXPECT_TRUE(eventually(
      [&] {
        return metric(http(host.port(), "GET", "/metrics").body,
                      "plughost_tasks_total{plugin=\"fixture_store\",task=\"count\",outcome="
                      "\"succeeded\"}") == 1;
      },
      30));
}

}  // namespace
}  // namespace itest
