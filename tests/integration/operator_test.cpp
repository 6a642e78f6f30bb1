// Operator features of the real binary: per-plugin log levels, the access log's fields and
// redaction, and config reload on SIGHUP (live settings applied, the rest reported, a bad file
// rejected with the running config kept).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <string>

#include "support.hpp"

namespace itest {
namespace {

std::string config(const std::string& host_level, const std::string& good_extra,
                   int standard_limit = 1000, int threads = 2) {
  return "version: 1\n"
         "server:\n"
         "  listen: 127.0.0.1:0\n"
         "  threads: " +
         std::to_string(threads) +
         "\n"
         "log:\n"
         "  format: json\n"
         "  level: " +
         host_level +
         "\n"
         "storage:\n"
         "  url: sqlite://plughost.db\n"
         "rate_limits:\n"
         "  classes:\n"
         "    standard: {limit: " +
         std::to_string(standard_limit) +
         ", window_seconds: 86400}\n"
         "plugins_dir: " FIXTURE_PLUGIN_DIR
         "\n"
         "plugins:\n"
         "  fixture_auth: {}\n"
         "  fixture_good:\n" +
         good_extra + "    config: {greeting: hi}\n";
}

const std::map<std::string, std::string> kAdmin = {{"Authorization", "Bearer tok-admin-bob"}};

// Lines of the host's output that contain `needle`.
std::vector<std::string> lines_with(const std::string& out, const std::string& needle) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(start, end - start);
    if (line.find(needle) != std::string::npos) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// Calls the logging route and waits for its access line, so every line the handler wrote is in
// the output by then.
void call_log_route(Host& host, const std::string& trace_id,
                    const std::string& token = "tok-admin-bob") {
  std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + token}};
  headers["X-Trace-ID"] = trace_id;
  auto r = http(host.port(), "GET", "/api/good/log", headers);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(host.wait_for_output("\"request_id\":\"" + trace_id + "\",\"method\":\"GET\""))
      << host.output();
}

bool has_plugin_line(Host& host, const std::string& msg, const std::string& trace_id) {
  for (const auto& line : lines_with(host.output(), "\"msg\":\"" + msg + "\"")) {
    if (line.find(trace_id) != std::string::npos) return true;
  }
  return false;
}

TEST(PluginLogLevel, PluginDebugLinesOnlyWhenItsLevelAllows) {
  {
    Host host(config("info", ""));  // the plugin follows the host: info
    ASSERT_TRUE(host.wait_ready()) << host.output();
    call_log_route(host, "trace-default-level");
    EXPECT_TRUE(has_plugin_line(host, "good-info-line", "trace-default-level")) << host.output();
    EXPECT_FALSE(has_plugin_line(host, "good-debug-line", "trace-default-level"));
  }
  {
    Host host(config("info", "    log_level: debug\n"));
    ASSERT_TRUE(host.wait_ready()) << host.output();
    call_log_route(host, "trace-plugin-debug");
    EXPECT_TRUE(has_plugin_line(host, "good-debug-line", "trace-plugin-debug")) << host.output();
    EXPECT_TRUE(has_plugin_line(host, "good-info-line", "trace-plugin-debug"));
    // The host's own debug lines stay off.
    EXPECT_TRUE(lines_with(host.output(), "\"level\":\"debug\",\"logger\":\"http\"").empty());
  }
  {
    Host host(config("debug", "    log_level: warn\n"));  // quieter than the host
    ASSERT_TRUE(host.wait_ready()) << host.output();
    call_log_route(host, "trace-plugin-warn");
    EXPECT_FALSE(has_plugin_line(host, "good-debug-line", "trace-plugin-warn")) << host.output();
    EXPECT_FALSE(has_plugin_line(host, "good-info-line", "trace-plugin-warn"));
  }
}

TEST(PluginLogLevel, UnknownLevelIsAConfigError) {
  std::string dir = make_temp_dir();
  write_file(dir + "/plughost.yaml", config("info", "    log_level: verbose\n"));
  auto r = run_plughost({"check", "--config", dir + "/plughost.yaml"}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("plugins.fixture_good.log_level"), std::string::npos) << r.out;
}

TEST(AccessLog, CarriesTraceIdPrincipalStatusBytesDurationAndNoSecret) {
  Host host(config("info", ""));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto r = http(host.port(), "GET", "/api/good/hello?password=hunter2-in-query",
                {{"Authorization", "Bearer tok-admin-bob"},
                 {"Cookie", "csrftoken=cookie-secret-value; other=zzz-cookie"},
                 {"X-Trace-ID", "trace-access-1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto k = http(host.port(), "GET", "/api/good/hello",
                {{"X-API-Key", "key-viewer-carol"}, {"X-Trace-ID", "trace-access-2"}});
  ASSERT_EQ(k.status, 200) << k.body;
  ASSERT_TRUE(host.wait_for_output("\"request_id\":\"trace-access-2\",\"method\""));
  auto lines = lines_with(host.output(), "\"request_id\":\"trace-access-1\",\"method\"");
  ASSERT_EQ(lines.size(), 1u) << host.output();
  rapidjson::Document d;
  d.Parse(lines[0].c_str());
  ASSERT_FALSE(d.HasParseError()) << lines[0];
  EXPECT_EQ(std::string(d["logger"].GetString()), "access");
  EXPECT_EQ(std::string(d["principal"].GetString()), "user:bob");
  EXPECT_EQ(d["status"].GetInt(), 200);
  EXPECT_EQ(d["bytes"].GetInt64(), static_cast<int64_t>(r.body.size()));
  EXPECT_EQ(std::string(d["route"].GetString()), "/api/good/hello");
  EXPECT_EQ(std::string(d["plugin"].GetString()), "fixture_good");
  EXPECT_TRUE(d["duration_s"].IsNumber());
  EXPECT_GE(d["duration_s"].GetDouble(), 0.0);
  std::string out = host.output();
  for (const char* secret : {"tok-admin-bob", "hunter2-in-query", "cookie-secret-value",
                             "zzz-cookie", "key-viewer-carol"}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " leaked:\n" << out;
  }
}

rapidjson::Document readyz(int port) {
  auto r = http(port, "GET", "/readyz");
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  return d;
}

const rapidjson::Value* config_check(const rapidjson::Document& ready) {
  for (const auto& c : ready["checks"].GetArray()) {
    if (std::string(c["name"].GetString()) == "config") return &c;
  }
  return nullptr;
}

TEST(ConfigReload, SighupAppliesLevelsAndRateLimitsAndReportsTheRest) {
  Host host(config("info", "    log_level: warn\n", 1000, 2));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  call_log_route(host, "trace-before-reload");
  EXPECT_FALSE(has_plugin_line(host, "good-info-line", "trace-before-reload"));
  auto before = http(host.port(), "GET", "/api/good/hello", kAdmin);
  EXPECT_EQ(before.header("x-ratelimit-limit"), "1000");

  // Live: the plugin's level and the standard class; restart: server.threads.
  write_file(host.dir() + "/plughost.yaml", config("info", "    log_level: debug\n", 3, 3));
  host.signal(SIGHUP);
  ASSERT_TRUE(host.wait_for_output("\"msg\":\"config reloaded\"")) << host.output();
  call_log_route(host, "trace-after-reload");  // 1st request under the new limit
  EXPECT_TRUE(has_plugin_line(host, "good-debug-line", "trace-after-reload")) << host.output();
  auto second = http(host.port(), "GET", "/api/good/hello", kAdmin);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("x-ratelimit-limit"), "3");
  EXPECT_EQ(http(host.port(), "GET", "/api/good/hello", kAdmin).status, 200);
  auto limited = http(host.port(), "GET", "/api/good/hello", kAdmin);
  EXPECT_EQ(limited.status, 429) << limited.body;
  auto ready = readyz(host.port());
  const rapidjson::Value* cfg = config_check(ready);
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(std::string((*cfg)["status"].GetString()), "restart_required");
  ASSERT_EQ((*cfg)["restart_required"].Size(), 1u);
  EXPECT_EQ(std::string((*cfg)["restart_required"][0].GetString()), "server");
  EXPECT_EQ((*cfg)["reloads"].GetInt(), 1);
  EXPECT_EQ(std::string(ready["status"].GetString()), "ready");
  // Logged just after "config reloaded": wait for it rather than race the output reader.
  ASSERT_TRUE(host.wait_for_output("take effect only after a restart")) << host.output();
  EXPECT_EQ(lines_with(host.output(), "take effect only after a restart").size(), 1u);
  // The OpenAPI document follows the new rate class.
  auto doc = http(host.port(), "GET", "/openapi.json");
  EXPECT_NE(doc.body.find("\"limit\": 3,"), std::string::npos);

  // A bad file is rejected whole; what runs stays.
  write_file(host.dir() + "/plughost.yaml",
             config("info", "    log_level: warn\n", 1000, 2) + "unknown_key: 1\n");
  host.signal(SIGHUP);
  ASSERT_TRUE(host.wait_for_output("reload rejected")) << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/api/good/hello", kAdmin).status, 429);
  call_log_route(host, "trace-after-bad-file", "tok-admin-eve");  // bob is over the limit
  EXPECT_TRUE(has_plugin_line(host, "good-debug-line", "trace-after-bad-file"));
  ready = readyz(host.port());
  cfg = config_check(ready);
  ASSERT_NE(cfg, nullptr);
  EXPECT_NE(std::string((*cfg)["last_reload_error"].GetString()).find("unknown_key"),
            std::string::npos);
  EXPECT_EQ((*cfg)["reloads"].GetInt(), 1);

  // A plugin config block that breaks its schema is rejected too.
  std::string bad_plugin = config("info", "", 1000, 2);
  bad_plugin.replace(bad_plugin.find("greeting: hi"), 12, "greeting: 5");
  write_file(host.dir() + "/plughost.yaml", bad_plugin);
  host.signal(SIGHUP);
  ASSERT_TRUE(
      eventually([&] { return lines_with(host.output(), "reload rejected").size() >= 2; }, 30));
  EXPECT_EQ(http(host.port(), "GET", "/api/good/hello", kAdmin).status, 429);

  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0);
}

TEST(ConfigReload, ReconfigurablePluginTakesItsNewBlockLiveOrKeepsTheOld) {
  Host host(config("info", ""));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/api/good/hello", kAdmin).body, "hi");

  std::string next = config("info", "");
  next.replace(next.find("greeting: hi"), 12, "greeting: bonjour");
  write_file(host.dir() + "/plughost.yaml", next);
  host.signal(SIGHUP);
  ASSERT_TRUE(host.wait_for_output("\"msg\":\"config reloaded\"")) << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/api/good/hello", kAdmin).body, "bonjour");
  auto ready = readyz(host.port());
  const rapidjson::Value* cfg = config_check(ready);
  ASSERT_NE(cfg, nullptr);
  EXPECT_STREQ((*cfg)["status"].GetString(), "ok");  // nothing waits for a restart
  EXPECT_EQ((*cfg)["restart_required"].Size(), 0u);
  EXPECT_NE(host.output().find("plugins.fixture_good.config"), std::string::npos);

  // The plugin refuses a block: it keeps the old one, the refusal is reported, nothing else
  // in that file is held back.
  std::string refused = config("info", "");
  refused.replace(refused.find("greeting: hi"), 12, "greeting: refuse");
  write_file(host.dir() + "/plughost.yaml", refused);
  host.signal(SIGHUP);
  ASSERT_TRUE(host.wait_for_output("plugin refused its new config")) << host.output();
  ASSERT_TRUE(
      eventually([&] { return lines_with(host.output(), "config reloaded").size() == 2; }, 30));
  EXPECT_EQ(http(host.port(), "GET", "/api/good/hello", kAdmin).body, "bonjour");
  ready = readyz(host.port());
  cfg = config_check(ready);
  ASSERT_NE(cfg, nullptr);
  EXPECT_NE(std::string((*cfg)["last_reload_error"].GetString())
                .find("plugins.fixture_good.config: fixture_good refuses"),
            std::string::npos)
      << (*cfg)["last_reload_error"].GetString();
  EXPECT_EQ((*cfg)["reloads"].GetInt(), 2);

  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0);
}

TEST(OpenApi, ServedDocumentIsWhatPluginsGetFromHostDescribe) {
  Host host(config("info", ""));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto served = http(host.port(), "GET", "/openapi.json");
  ASSERT_EQ(served.status, 200);
  EXPECT_EQ(served.header("content-type"), "application/json");
  auto described = http(host.port(), "GET", "/fx/describe/openapi");
  ASSERT_EQ(described.status, 200) << described.body;
  EXPECT_EQ(described.body, served.body);
  rapidjson::Document d;
  d.Parse(served.body.c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["openapi"].GetString(), "3.0.3");
  const auto& op = d["paths"]["/fx/describe/{what}"]["get"];
  EXPECT_STREQ(op["parameters"][0]["name"].GetString(), "what");
  EXPECT_STREQ(op["x-plughost-permission"].GetString(), "public");
  EXPECT_EQ(op["security"].Size(), 0u);
  EXPECT_STREQ(op["x-plughost-rate-limit"]["class"].GetString(), "none");
  const auto& echo = d["paths"]["/api/good/echo"]["post"];
  EXPECT_EQ(echo["security"].Size(), 3u);
  EXPECT_TRUE(echo["responses"].HasMember("403"));
}

TEST(PluginMetrics, RegisteredMetricsRenderWithPluginLabel) {
  Host host(config("info", ""));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto first = http(host.port(), "GET", "/api/good/metrics-demo?n=7", kAdmin);
  ASSERT_EQ(first.status, 200) << first.body;
  // Refused at init: host prefix and bad name and bad label and bad buckets are invalid (1),
  // a taken name conflicts (3); after init every registration is in the wrong state (4).
  EXPECT_EQ(first.body, "1;3;1;1;1;4;");
  ASSERT_EQ(http(host.port(), "GET", "/api/good/metrics-demo?n=50", kAdmin).status, 200);
  std::string m = http(host.port(), "GET", "/metrics").body;
  for (const char* line : {
           "# TYPE good_hello_total counter\n",
           "good_hello_total{plugin=\"fixture_good\",greeting=\"hi\"} 2\n",
           "good_hello_total{plugin=\"fixture_good\",greeting=\"a\\\"quote\"} 2\n",
           "# TYPE good_depth gauge\n",
           "good_depth{plugin=\"fixture_good\"} 50\n",
           "# TYPE good_sizes histogram\n",
           "good_sizes_bucket{plugin=\"fixture_good\",le=\"1\"} 0\n",
           "good_sizes_bucket{plugin=\"fixture_good\",le=\"10\"} 1\n",
           "good_sizes_bucket{plugin=\"fixture_good\",le=\"100\"} 2\n",
           "good_sizes_bucket{plugin=\"fixture_good\",le=\"+Inf\"} 2\n",
           "good_sizes_sum{plugin=\"fixture_good\"} 57\n",
           "good_sizes_count{plugin=\"fixture_good\"} 2\n",
           "plughost_plugin_metric_series_dropped_total 0\n",
           "# TYPE plughost_scheduler_lag_seconds gauge\n",
       }) {
    EXPECT_NE(m.find(line), std::string::npos) << "missing: " << line << "\n" << m;
  }
  EXPECT_EQ(m.find("ignored-negative"), std::string::npos);
  EXPECT_EQ(m.find("plughost_sneaky_total"), std::string::npos);
  EXPECT_EQ(m.find("good_late_total"), std::string::npos);
}

}  // namespace
}  // namespace itest
