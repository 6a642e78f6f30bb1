// Config loading: interpolation, typing, every error path with its exact line and column, and
// plugin config blocks against their JSON Schema.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>

#include "config/config.hpp"

namespace plughost {
namespace {

EnvLookup env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

ConfigResult load(const std::string& yaml, std::map<std::string, std::string> vars = {}) {
  return load_config_text(yaml, "/etc/plughost/plughost.yaml", env(std::move(vars)));
}

// "line:col: path: message" for each diagnostic, for compact assertions.
std::vector<std::string> problems(const ConfigResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) {
    out.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + ": " +
                  (d.path.empty() ? "" : d.path + ": ") + d.message);
  }
  return out;
}

TEST(Interpolation, ExpandsEveryForm) {
  std::string err;
  auto e = env({{"HOST", "db"}, {"EMPTY", ""}});
  EXPECT_EQ(*interpolate("${HOST}:5432", e, err), "db:5432");
  EXPECT_EQ(*interpolate("${MISSING:-fallback}", e, err), "fallback");
  EXPECT_EQ(*interpolate("${EMPTY:-fallback}", e, err), "fallback");
  EXPECT_EQ(*interpolate("${HOST:-fallback}", e, err), "db");
  EXPECT_EQ(*interpolate("cost $${HOST} literal", e, err), "cost ${HOST} literal");
  EXPECT_EQ(*interpolate("no vars", e, err), "no vars");
}

TEST(Interpolation, ReportsUnsetRequiredAndMalformed) {
  std::string err;
  auto e = env({});
  EXPECT_FALSE(interpolate("${NOPE}", e, err));
  EXPECT_EQ(err, "environment variable NOPE is not set");
  EXPECT_FALSE(interpolate("${DB_URL:?set it to the database URL}", e, err));
  EXPECT_EQ(err, "environment variable DB_URL is not set: set it to the database URL");
  EXPECT_FALSE(interpolate("${OPEN", e, err));
  EXPECT_NE(err.find("unterminated"), std::string::npos);
  EXPECT_FALSE(interpolate("${1BAD}", e, err));
  EXPECT_NE(err.find("invalid variable name"), std::string::npos);
}

TEST(Config, LoadsEveryKey) {
  auto r = load(R"(version: 1
server:
  listen: 0.0.0.0:9000
  threads: 4
  max_body_bytes: 2048
  drain_seconds: 1.5
  shutdown_timeout_seconds: 3
log: {level: debug, format: text, access: false}
storage: {url: "postgresql://u:p@h:5432/db", pool_size: 8}
tasks: {workers: 0, lease_seconds: 10, max_attempts: 5, node: n1}
schedules:
  - {name: nightly, cron: "0 2 * * *", timezone: Europe/Berlin, task: a/b, payload: {x: 1}}
plugins_dir: ../lib/plugins
plugins:
  zeta: {enabled: false}
  alpha:
    required: true
    config: {n: 3, ratio: 0.5, on: true, name: "007", nothing: ~, list: [a, 2]}
)");
  ASSERT_TRUE(r.ok()) << problems(r)[0];
  const Config& c = r.config;
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9000);
  EXPECT_EQ(c.server.threads, 4);
  EXPECT_EQ(c.server.max_body_bytes, 2048u);
  EXPECT_DOUBLE_EQ(c.server.drain_seconds, 1.5);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_FALSE(c.log.access);
  EXPECT_EQ(c.storage_pool_size, 8);
  EXPECT_EQ(c.tasks.workers, 0);
  EXPECT_EQ(c.tasks.node, "n1");
  ASSERT_EQ(c.schedules.size(), 1u);
  EXPECT_EQ(c.schedules[0].payload_json, "{\"x\":1}");
  EXPECT_EQ(c.plugins_dir, "/etc/lib/plugins");
  ASSERT_EQ(c.plugins.size(), 2u);
  EXPECT_EQ(c.plugins[0].name, "zeta");  // file order is init order
  EXPECT_FALSE(c.plugins[0].enabled);
  EXPECT_TRUE(c.plugins[1].required);
  EXPECT_EQ(c.plugins[1].config_json,
            R"({"n":3,"ratio":0.5,"on":true,"name":"007","nothing":null,"list":["a",2]})");
  EXPECT_EQ(c.plugins[1].pointer_marks.at("/n").line, 18);
  EXPECT_EQ(c.plugins[1].pointer_marks.at("/n").column, 17);
  EXPECT_EQ(c.plugins[1].pointer_marks.at("/list/1").line, 18);
}

TEST(Config, InterpolatedPlainScalarsAreRetypedQuotedOnesStayStrings) {
  // (In YAML flow style `{a: ${N}}` the brace of ${ ends the mapping: use block style.)
  auto r = load(R"(version: 1
server:
  threads: "${T}"
)",
                {{"T", "4"}});
  ASSERT_EQ(problems(r).size(), 1u);  // quoted: stays the string "4", not an integer
  EXPECT_EQ(problems(r)[0], "3:12: server.threads: expected an integer, got \"4\"");
  r = load(R"(version: 1
plugins:
  p:
    enabled: ${ON:-false}
    config:
      count: ${N}
      label: "${N}"
)",
           {{"N", "12"}});
  ASSERT_TRUE(r.ok()) << problems(r)[0];
  EXPECT_FALSE(r.config.plugins[0].enabled);
  EXPECT_EQ(r.config.plugins[0].config_json, R"({"count":12,"label":"12"})");
}

TEST(Config, ReportsEveryErrorWithItsPosition) {
  auto r = load(R"(version: 2
srever: {}
server:
  listen: nowhere
  threads: 0
  max_body_bytes: lots
  drain_seconds: -1
log: {level: loud, acces: true}
storage: {url: "mysql://x"}
tasks: {workers: many}
plugins:
  Bad_Name: {}
  ok: {enabled: "yes please", extra: 1, config: [1, 2]}
)");
  EXPECT_EQ(problems(r), (std::vector<std::string>{
                             "1:10: version: unsupported config version 2 (this host reads 1)",
                             "2:1: srever: unknown key \"srever\" (did you mean \"server\"?)",
                             "4:11: server.listen: expected host:port, got \"nowhere\"",
                             "5:12: server.threads: value 0 is out of range 1-256",
                             "6:19: server.max_body_bytes: expected an integer, got \"lots\"",
                             "7:18: server.drain_seconds: value -1 must be >= 0",
                             "8:14: log.level: expected one of debug, info, warn, error, got "
                             "\"loud\"",
                             "8:20: log.acces: unknown key \"acces\" (did you mean \"access\"?)",
                             "9:16: storage.url: expected a sqlite:// or postgresql:// URL, got "
                             "\"mysql://x\"",
                             "10:18: tasks.workers: expected an integer, got \"many\"",
                             "12:3: plugins.Bad_Name: plugin name must match [a-z0-9_-]+",
                             "13:17: plugins.ok.enabled: expected a boolean (true or false), got "
                             "\"yes please\"",
                             "13:31: plugins.ok.extra: unknown key \"extra\"",
                             "13:49: plugins.ok.config: expected a mapping",
                         }));
}

TEST(Config, ReportsBadListenAddresses) {
  for (const char* listen : {"127.0.0.1:70000", "300.1.1.1:80", "[::1]:80", ":80", "host:"}) {
    auto r = load(std::string("version: 1\nserver: {listen: \"") + listen + "\"}\n");
    EXPECT_EQ(r.diagnostics.size(), 1u) << listen;
  }
  auto ok = load("version: 1\nserver: {listen: localhost:0}\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.config.server.host, "127.0.0.1");
  EXPECT_EQ(ok.config.server.port, 0);
}

TEST(Config, YamlSyntaxErrorHasAPosition) {
  auto r = load("version: 1\nserver: {listen: [\n");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("YAML syntax error"), std::string::npos);
  EXPECT_GT(r.diagnostics[0].line, 1);
}

TEST(Config, MissingVersionAndMissingFileAreReported) {
  EXPECT_EQ(problems(load("server: {}\n"))[0],
            "1:1: version: missing key \"version\" (use version: 1)");
  auto r = load_config_file("/nonexistent/dir/plughost.yaml", env({}));
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].to_string(),
            "/nonexistent/dir/plughost.yaml:0:0: cannot read config file: No such file or "
            "directory");
}

const char* kSchema = R"({
  "type": "object",
  "additionalProperties": false,
  "required": ["url"],
  "properties": {
    "url": {"type": "string"},
    "top_k": {"type": "integer", "minimum": 1, "default": 5},
    "mode": {"type": "string", "enum": ["fast", "exact"], "default": "fast"},
    "retry": {"type": "object", "additionalProperties": false,
              "properties": {"times": {"type": "integer", "default": 3}}}
  }
})";

PluginConfigCheck check(const std::string& yaml) {
  static ConfigResult holder;
  holder = load("version: 1\nplugins:\n  rag:\n    config:\n" + yaml);
  EXPECT_TRUE(holder.ok());
  return check_plugin_config(holder.config, holder.config.plugins[0], kSchema);
}

std::vector<std::string> lines(const PluginConfigCheck& c) {
  std::vector<std::string> out;
  for (const auto& d : c.diagnostics) {
    out.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.path +
                  ": " + d.message);
  }
  return out;
}

TEST(PluginSchema, AppliesDefaultsIncludingNestedObjects) {
  auto c = check("      url: http://x\n");
  ASSERT_TRUE(c.diagnostics.empty()) << lines(c)[0];
  rapidjson::Document d;
  d.Parse(c.config_json.c_str());
  EXPECT_EQ(d["top_k"].GetInt(), 5);
  EXPECT_STREQ(d["mode"].GetString(), "fast");
  EXPECT_EQ(d["retry"]["times"].GetInt(), 3);
}

TEST(PluginSchema, ReportsUnknownMissingAndTypeErrorsTogether) {
  auto c = check(
      "      top_kk: 3\n"
      "      retry: {times: often}\n");
  EXPECT_EQ(lines(c), (std::vector<std::string>{
                          "5:7: plugins.rag.config.top_kk: unknown key \"top_kk\" (did you mean "
                          "\"top_k\"?)",
                          "6:22: plugins.rag.config.retry.times: expected integer, got string",
                          "5:7: plugins.rag.config: missing required key \"url\"",
                      }));
}

TEST(PluginSchema, ValidatorKeywordsPointAtTheValue) {
  auto c = check(
      "      url: http://x\n"
      "      top_k: 0\n");
  EXPECT_EQ(lines(c),
            (std::vector<std::string>{"6:14: plugins.rag.config.top_k: value 0 is below minimum 1"}));
  c = check(
      "      url: http://x\n"
      "      mode: slow\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_NE(c.diagnostics[0].message.find("is not one of"), std::string::npos);
  EXPECT_EQ(c.diagnostics[0].line, 6);
}

TEST(PluginSchema, InvalidSchemaIsReportedNotCrashed) {
  auto r = load("version: 1\nplugins:\n  p: {}\n");
  auto c = check_plugin_config(r.config, r.config.plugins[0], "{not json");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_NE(c.diagnostics[0].message.find("not valid JSON"), std::string::npos);
}

TEST(EditDistance, CountsEdits) {
  EXPECT_EQ(edit_distance("server", "srever"), 2u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
}

}  // namespace
}  // namespace plughost
