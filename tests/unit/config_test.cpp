// Tests of config loading: interpolation, typing, every diagnostic with its exact position, and
// plugin config blocks checked against their JSON Schema.
#include "config/config.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

// The build passes the absolute path; the fallback serves a manual build run from the repo root.
#ifndef CONFIG_FIXTURE_DIR
#define CONFIG_FIXTURE_DIR "tests/unit/fixtures/config"
#endif

namespace plughost {
namespace {

using Lines = std::vector<std::string>;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

ConfigResult load(const std::string& yaml, const EnvLookup& env = env_of({})) {
  return load_config_text(yaml, "p.yaml", env);
}

std::vector<std::string> errors(const std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) out.push_back(d.to_string());
  return out;
}

std::vector<std::string> errors(const ConfigResult& r) {
  return errors(r.diagnostics);
}

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

std::string expand(const std::string& value, const EnvLookup& env) {
  std::string error;
  std::optional<std::string> out = interpolate(value, env, error);
  return out ? *out : "error: " + error;
}

// ---- interpolation -----------------------------------------------------------------------------

TEST(Interpolate, ExpandsSetVariables) {
  auto env = env_of({{"HOST", "10.0.0.1"}, {"PORT", "9000"}});
  EXPECT_EQ(expand("${HOST}:${PORT}", env), "10.0.0.1:9000");
  EXPECT_EQ(expand("no variables here", env), "no variables here");
}

TEST(Interpolate, UsesDefaultWhenVariableIsUnsetOrEmpty) {
  auto env = env_of({{"EMPTY", ""}, {"SET", "value"}});
  EXPECT_EQ(expand("${MISSING:-fallback}", env), "fallback");
  EXPECT_EQ(expand("${EMPTY:-fallback}", env), "fallback");
  EXPECT_EQ(expand("${SET:-fallback}", env), "value");
  EXPECT_EQ(expand("${MISSING:-}", env), "");
}

TEST(Interpolate, KeepsEmptyValueOfSetVariableWithoutDefault) {
  EXPECT_EQ(expand("[${EMPTY}]", env_of({{"EMPTY", ""}})), "[]");
}

TEST(Interpolate, ReportsUnsetVariableWithoutDefault) {
  EXPECT_EQ(expand("x${FOO}y", env_of({})), "error: environment variable FOO is not set");
}

TEST(Interpolate, ReportsRequiredVariableWithItsMessage) {
  auto env = env_of({{"EMPTY", ""}, {"SET", "ok"}});
  EXPECT_EQ(expand("${DB_URL:?set DB_URL to the database URL}", env),
            "error: environment variable DB_URL is not set: set DB_URL to the database URL");
  EXPECT_EQ(expand("${EMPTY:?must not be empty}", env),
            "error: environment variable EMPTY is empty: must not be empty");
  EXPECT_EQ(expand("${EMPTY:?}", env), "error: environment variable EMPTY is empty");
  EXPECT_EQ(expand("${SET:?unused}", env), "ok");
}

TEST(Interpolate, TurnsDollarDollarBraceIntoLiteral) {
  auto env = env_of({{"HOME", "/root"}});
  EXPECT_EQ(expand("$${HOME}", env), "${HOME}");
  EXPECT_EQ(expand("$${HOME} is ${HOME}", env), "${HOME} is /root");
  EXPECT_EQ(expand("costs $5 or $$6", env), "costs $5 or $$6");
}

TEST(Interpolate, ReportsUnterminatedReference) {
  EXPECT_EQ(expand("prefix ${HOST", env_of({{"HOST", "h"}})),
            "error: unterminated \"${\" in \"prefix ${HOST\"");
}

TEST(Interpolate, ReportsMalformedReferences) {
  auto env = env_of({{"A", "a"}});
  EXPECT_EQ(expand("${}", env), "error: invalid variable name \"\" in \"${}\"");
  EXPECT_EQ(expand("${1A}", env), "error: invalid variable name \"1A\" in \"${1A}\"");
  EXPECT_EQ(expand("${A-b}", env), "error: invalid variable name \"A-b\" in \"${A-b}\"");
}

TEST(Interpolate, ExpandsVariablesInsideDefaults) {
  auto env = env_of({{"B", "bee"}});
  EXPECT_EQ(expand("${A:-${B}}", env), "bee");
  EXPECT_EQ(expand("${A:-${C:-deep}}/x", env), "deep/x");
}

TEST(Interpolate, InsertsValuesVerbatim) {
  EXPECT_EQ(expand("${A}", env_of({{"A", "${B}"}})), "${B}");
}

// ---- typing after interpolation ----------------------------------------------------------------

TEST(LoadConfig, RetypesPlainScalarsAfterInterpolation) {
  auto r = load(R"(version: ${VERSION:-1}
server:
  threads: ${THREADS:-4}
  drain_seconds: ${DRAIN:-1.5}
log:
  access: ${ACCESS:-false}
plugins:
  rag:
    enabled: ${RAG:-false}
    config:
      count: ${COUNT:-5}
      ratio: ${RATIO:-0.25}
      flag: ${FLAG:-TRUE}
      nothing: ${NOTHING:-}
      text: ${TEXT:-hello}
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_EQ(r.config.server.threads, 4);
  EXPECT_DOUBLE_EQ(r.config.server.drain_seconds, 1.5);
  EXPECT_FALSE(r.config.log.access);
  ASSERT_EQ(r.config.plugins.size(), 1u);
  EXPECT_FALSE(r.config.plugins[0].enabled);
  EXPECT_EQ(r.config.plugins[0].config_json,
            R"({"count":5,"ratio":0.25,"flag":true,"nothing":null,"text":"hello"})");
}

TEST(LoadConfig, KeepsQuotedScalarsAsStrings) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      count: "${COUNT:-5}"
      flag: 'true'
      empty: ""
      tilde: "~"
      block: |
        12
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_EQ(r.config.plugins[0].config_json,
            R"({"count":"5","flag":"true","empty":"","tilde":"~","block":"12\n"})");
}

TEST(LoadConfig, RejectsQuotedBooleanForBooleanKey) {
  auto r = load(R"(version: 1
log:
  access: "false"
)");
  EXPECT_EQ(errors(r),
            (Lines{"p.yaml:3:11: log.access: expected a boolean (true or false), got \"false\""}));
}

TEST(LoadConfig, ReadsYamlCoreSchemaScalarsInPluginConfig) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config: {a: True, b: FALSE, c: -12, d: +7, e: 1e3, f: ~, g: null, h: yes, i: 0x1F, j: 1., k: -.5e-1, l: 1e}
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  auto doc = parse_json(r.config.plugins[0].config_json);
  EXPECT_TRUE(doc["a"].IsTrue());
  EXPECT_TRUE(doc["b"].IsFalse());
  EXPECT_EQ(doc["c"].GetInt64(), -12);
  EXPECT_EQ(doc["d"].GetInt64(), 7);
  EXPECT_TRUE(doc["e"].IsDouble());
  EXPECT_DOUBLE_EQ(doc["e"].GetDouble(), 1000);
  EXPECT_TRUE(doc["f"].IsNull());
  EXPECT_TRUE(doc["g"].IsNull());
  EXPECT_STREQ(doc["h"].GetString(), "yes");  // YAML 1.1 booleans are plain strings in 1.2
  EXPECT_STREQ(doc["i"].GetString(), "0x1F");
  EXPECT_DOUBLE_EQ(doc["j"].GetDouble(), 1.0);
  EXPECT_DOUBLE_EQ(doc["k"].GetDouble(), -0.05);
  EXPECT_STREQ(doc["l"].GetString(), "1e");
}

TEST(LoadConfig, ReportsUnsetVariableAtItsValue) {
  auto r = load(R"(version: 1
storage:
  url: ${DB_URL}
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:8: storage.url: environment variable DB_URL is not set"}));
}

TEST(LoadConfig, ReportsRequiredVariableMessageAtItsValue) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      api_key: ${RAG_KEY:?set RAG_KEY to the provider's API key}
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:5:16: plugins.rag.config.api_key: environment variable "
                              "RAG_KEY is not set: set RAG_KEY to the provider's API key"}));
}

TEST(LoadConfig, ReportsUnterminatedInterpolationAtItsValue) {
  auto r = load(R"(version: 1
log:
  level: ${LEVEL
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:10: log.level: unterminated \"${\" in \"${LEVEL\""}));
}

TEST(LoadConfig, DoesNotInterpolateKeys) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      ${NAME}: 1
)",
                env_of({{"NAME", "x"}}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_EQ(r.config.plugins[0].config_json, R"({"${NAME}":1})");
}

// ---- a valid config ----------------------------------------------------------------------------

TEST(LoadConfig, ReadsEveryFieldOfAFullConfig) {
  auto r = load_config_text(R"(version: 1
server:
  listen: 0.0.0.0:9090
  threads: 8
  max_body_bytes: 2048
  drain_seconds: 2.5
  shutdown_timeout_seconds: 30
log:
  level: debug
  format: json
  access: false
storage:
  url: postgresql://plughost@db/plughost
  pool_size: 16
tasks:
  workers: 0
  lease_seconds: 60
  poll_interval_seconds: 0.25
  default_timeout_seconds: 120
  max_attempts: 5
  log_lines: 50
  node: worker-a
plugins_dir: ../lib/plugins
plugins:
  zeta:
    required: true
  alpha:
    enabled: false
    config:
      top_k: 3
  mid: {}
)",
                            "/srv/plughost/etc/plughost.yaml", env_of({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const Config& c = r.config;
  EXPECT_EQ(c.file, "/srv/plughost/etc/plughost.yaml");
  EXPECT_EQ(c.directory, "/srv/plughost/etc");
  EXPECT_EQ(c.version, 1);
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9090);
  EXPECT_EQ(c.server.threads, 8);
  EXPECT_EQ(c.server.max_body_bytes, 2048u);
  EXPECT_DOUBLE_EQ(c.server.drain_seconds, 2.5);
  EXPECT_DOUBLE_EQ(c.server.shutdown_timeout_seconds, 30);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "json");
  EXPECT_FALSE(c.log.access);
  EXPECT_EQ(c.storage_url, "postgresql://plughost@db/plughost");
  EXPECT_EQ(c.storage_pool_size, 16);
  EXPECT_EQ(c.tasks.workers, 0);
  EXPECT_DOUBLE_EQ(c.tasks.lease_seconds, 60);
  EXPECT_DOUBLE_EQ(c.tasks.poll_interval_seconds, 0.25);
  EXPECT_DOUBLE_EQ(c.tasks.default_timeout_seconds, 120);
  EXPECT_EQ(c.tasks.max_attempts, 5);
  EXPECT_EQ(c.tasks.log_lines, 50);
  EXPECT_EQ(c.tasks.node, "worker-a");
  EXPECT_EQ(c.plugins_dir, "/srv/plughost/lib/plugins");
  ASSERT_EQ(c.plugins.size(), 3u);
  EXPECT_EQ(c.plugins[0].name, "zeta");
  EXPECT_TRUE(c.plugins[0].enabled);
  EXPECT_TRUE(c.plugins[0].required);
  EXPECT_EQ(c.plugins[0].config_json, "{}");
  EXPECT_EQ(c.plugins[1].name, "alpha");
  EXPECT_FALSE(c.plugins[1].enabled);
  EXPECT_FALSE(c.plugins[1].required);
  EXPECT_EQ(c.plugins[1].config_json, R"({"top_k":3})");
  EXPECT_EQ(c.plugins[1].mark.line, 27);
  EXPECT_EQ(c.plugins[1].mark.column, 3);
  EXPECT_EQ(c.plugins[2].name, "mid");
}

TEST(LoadConfig, UsesDefaultsForAbsentSections) {
  auto r = load("version: 1\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  Config defaults;
  EXPECT_EQ(r.config.server.host, defaults.server.host);
  EXPECT_EQ(r.config.server.port, defaults.server.port);
  EXPECT_EQ(r.config.log.level, "info");
  EXPECT_EQ(r.config.storage_url, defaults.storage_url);
  EXPECT_TRUE(r.config.plugins_dir.empty());
  EXPECT_TRUE(r.config.plugins.empty());
}

TEST(LoadConfig, KeepsAbsolutePluginsDir) {
  auto r = load_config_text("version: 1\nplugins_dir: /opt/plughost/plugins/\n",
                            "/srv/plughost.yaml", env_of({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_EQ(r.config.plugins_dir, "/opt/plughost/plugins/");
}

TEST(LoadConfig, ResolvesPluginsDirAgainstARelativeConfigPath) {
  auto r = load_config_text("version: 1\nplugins_dir: plugins\n", "conf/plughost.yaml", env_of({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  std::string expected = (std::filesystem::current_path() / "conf" / "plugins").string();
  EXPECT_EQ(r.config.plugins_dir, expected);
}

TEST(LoadConfig, PinsLocalhostListenToIpv4Loopback) {
  auto r = load("version: 1\nserver: {listen: 'localhost:0'}\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_EQ(r.config.server.host, "127.0.0.1");
  EXPECT_EQ(r.config.server.port, 0);
}

TEST(LoadConfig, TreatsEmptySectionsAsEmpty) {
  auto r = load("version: 1\nserver:\nlog:\nplugins:\n  rag:\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  ASSERT_EQ(r.config.plugins.size(), 1u);
  EXPECT_TRUE(r.config.plugins[0].enabled);
  EXPECT_EQ(r.config.plugins[0].config_json, "{}");
}

TEST(LoadConfig, RecordsMarksOfEveryPluginConfigValueByJsonPointer) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      top_k: 3
      sources:
        - name: docs
          weight: 2
      a/b: 1
      t~x: {deep: true}
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const PluginConfig& p = r.config.plugins[0];
  EXPECT_EQ(p.config_json,
            R"({"top_k":3,"sources":[{"name":"docs","weight":2}],"a/b":1,"t~x":{"deep":true}})");
  auto at = [&](const std::string& pointer) {
    auto it = p.pointer_marks.find(pointer);
    if (it == p.pointer_marks.end()) return std::string("missing");
    return std::to_string(it->second.line) + ":" + std::to_string(it->second.column);
  };
  EXPECT_EQ(at(""), "5:7");
  EXPECT_EQ(at("/top_k"), "5:14");
  EXPECT_EQ(at("/sources"), "7:9");
  EXPECT_EQ(at("/sources/0"), "7:11");
  EXPECT_EQ(at("/sources/0/name"), "7:17");
  EXPECT_EQ(at("/sources/0/weight"), "8:19");
  EXPECT_EQ(at("/a~1b"), "9:12");
  EXPECT_EQ(at("/t~0x"), "10:12");
  EXPECT_EQ(at("/t~0x/deep"), "10:19");
  EXPECT_EQ(p.key_marks.at("/sources/0/weight").line, 8);
  EXPECT_EQ(p.key_marks.at("/sources/0/weight").column, 11);
  EXPECT_EQ(p.key_marks.at("/t~0x").column, 7);
}

TEST(LoadConfigFile, ReadsAFixtureFile) {
  std::string path = std::string(CONFIG_FIXTURE_DIR) + "/valid.yaml";
  auto r = load_config_file(path, env_of({{"RAG_TOP_K", "7"}}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_EQ(r.config.file, path);
  EXPECT_EQ(r.config.server.port, 8181);
  auto plugins = std::filesystem::absolute(CONFIG_FIXTURE_DIR) / "plugins";
  EXPECT_EQ(r.config.plugins_dir, plugins.lexically_normal().string());
  ASSERT_EQ(r.config.plugins.size(), 2u);
  EXPECT_EQ(r.config.plugins[0].name, "rag");
  EXPECT_EQ(r.config.plugins[0].config_json, R"({"top_k":7})");
  EXPECT_EQ(r.config.plugins[1].name, "echo");
}

TEST(LoadConfigFile, ReportsMissingFileWithTheSystemError) {
  auto r = load_config_file("/nonexistent/plughost.yaml", env_of({}));
  EXPECT_EQ(errors(r), (Lines{"/nonexistent/plughost.yaml:0:0: cannot read config file: "
                              "No such file or directory"}));
}

TEST(LoadConfigFile, ReportsDirectoryGivenAsConfigFile) {
  auto r = load_config_file(CONFIG_FIXTURE_DIR, env_of({}));
  EXPECT_EQ(errors(r), (Lines{std::string(CONFIG_FIXTURE_DIR) +
                              ":0:0: cannot read config file: Is a directory"}));
}

// ---- every error, at its position --------------------------------------------------------------

TEST(LoadConfig, ReportsYamlSyntaxErrorAtItsPosition) {
  auto r = load(R"(version: 1
server:
  listen: [127.0.0.1
log: {}
)");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].line, 4);
  EXPECT_EQ(r.diagnostics[0].column, 4);
  EXPECT_EQ(r.diagnostics[0].path, "");
  EXPECT_EQ(r.diagnostics[0].message.rfind("YAML syntax error: ", 0), 0u);
}

TEST(LoadConfig, ReportsTabIndentationAsSyntaxError) {
  auto r = load("version: 1\nserver:\n\tthreads: 2\n");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:9: YAML syntax error: illegal map value"}));
}

TEST(LoadConfig, ReportsUnknownKeyWithSuggestion) {
  auto r = load(R"(version: 1
srever:
  listen: 127.0.0.1:80
)");
  EXPECT_EQ(errors(r),
            (Lines{"p.yaml:2:1: srever: unknown key \"srever\" (did you mean \"server\"?)"}));
}

TEST(LoadConfig, ReportsUnknownKeyWithoutSuggestionWhenNothingIsClose) {
  auto r = load("version: 1\nfrobnicate: 3\n");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:2:1: frobnicate: unknown key \"frobnicate\""}));
}

TEST(LoadConfig, ReportsUnknownNestedKeysWithSuggestions) {
  auto r = load(R"(version: 1
server:
  max_body_byte: 10
log:
  levle: info
storage:
  uri: sqlite://x.db
plugins:
  rag:
    enable: true
)");
  EXPECT_EQ(errors(r),
            (Lines{"p.yaml:3:3: server.max_body_byte: unknown key \"max_body_byte\" (did "
                   "you mean \"max_body_bytes\"?)",
                   "p.yaml:5:3: log.levle: unknown key \"levle\" (did you mean \"level\"?)",
                   "p.yaml:7:3: storage.uri: unknown key \"uri\" (did you mean \"url\"?)",
                   "p.yaml:10:5: plugins.rag.enable: unknown key \"enable\" (did you mean "
                   "\"enabled\"?)"}));
}

TEST(LoadConfig, ReportsNonBooleanValue) {
  auto r = load(R"(version: 1
log:
  access: yes please
plugins:
  rag:
    required: 1
)");
  EXPECT_EQ(
      errors(r),
      (Lines{"p.yaml:3:11: log.access: expected a boolean (true or false), got \"yes please\"",
             "p.yaml:6:15: plugins.rag.required: expected a boolean (true or false), got \"1\""}));
}

TEST(LoadConfig, ReportsNonIntegerValue) {
  auto r = load(R"(version: 1
server:
  threads: many
  max_body_bytes: 1.5
)");
  EXPECT_EQ(errors(r),
            (Lines{"p.yaml:3:12: server.threads: expected an integer, got \"many\"",
                   "p.yaml:4:19: server.max_body_bytes: expected an integer, got \"1.5\""}));
}

TEST(LoadConfig, ReportsNonNumberValue) {
  auto r = load(R"(version: 1
server:
  drain_seconds: soon
  shutdown_timeout_seconds: .inf
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:18: server.drain_seconds: expected a number, got \"soon\"",
                              "p.yaml:4:29: server.shutdown_timeout_seconds: expected a finite "
                              "number, got \".inf\""}));
}

TEST(LoadConfig, ReportsOutOfRangeNumbers) {
  auto r = load(R"(version: 1
server:
  threads: 0
  max_body_bytes: 0
  drain_seconds: -1
  shutdown_timeout_seconds: 0
tasks:
  workers: 257
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:12: server.threads: value 0 is out of range 1-256",
                              "p.yaml:4:19: server.max_body_bytes: value 0 must be >= 1",
                              "p.yaml:5:18: server.drain_seconds: value -1 must be >= 0",
                              "p.yaml:6:29: server.shutdown_timeout_seconds: value 0 must be > 0",
                              "p.yaml:8:12: tasks.workers: value 257 is out of range 0-256"}));
}

TEST(LoadConfig, ReportsIntegerTooLargeForItsKey) {
  auto r = load("version: 1\nserver:\n  threads: 99999999999999999999\n");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:12: server.threads: value 99999999999999999999 is out of "
                              "range 1-256"}));
}

TEST(LoadConfig, ReportsValueOutsideItsChoices) {
  auto r = load(R"(version: 1
log:
  level: loud
  format: xml
)");
  EXPECT_EQ(errors(r),
            (Lines{"p.yaml:3:10: log.level: expected one of debug, info, warn, error, got \"loud\"",
                   "p.yaml:4:11: log.format: expected one of auto, json, text, got \"xml\""}));
}

TEST(LoadConfig, ReportsStructureOfTheWrongKind) {
  auto r = load(R"(version: 1
server: 8080
log:
  level: [debug]
plugins:
  - rag
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:2:9: server: expected a mapping",
                              "p.yaml:4:10: log.level: expected a single value, got a list",
                              "p.yaml:6:3: plugins: expected a mapping"}));
}

TEST(LoadConfig, ReportsMissingValueAtItsKey) {
  auto r = load(R"(version: 1
plugins_dir:
storage:
  url: ~
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:2:1: plugins_dir: expected a string, got null",
                              "p.yaml:4:3: storage.url: expected a string, got null"}));
}

TEST(LoadConfig, ReportsMalformedListenAddresses) {
  auto r = load(R"(version: 1
server:
  listen: localhost
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:11: server.listen: expected host:port, got "
                              "\"localhost\""}));
  auto bad_host = load("version: 1\nserver:\n  listen: example.com:80\n");
  EXPECT_EQ(errors(bad_host), (Lines{"p.yaml:3:11: server.listen: host \"example.com\" is "
                                     "not an IPv4 address or localhost"}));
  for (std::string host : {"1.2.3", "1.2.3.4.", "1..2.3", "1.2.3.4.5", "0x7f.0.0.1"}) {
    auto r2 = load("version: 1\nserver:\n  listen: " + host + ":80\n");
    EXPECT_EQ(errors(r2), (Lines{"p.yaml:3:11: server.listen: host \"" + host +
                                 "\" is not an IPv4 address or localhost"}));
  }
  auto bad_octet = load("version: 1\nserver:\n  listen: 10.0.0.256:80\n");
  EXPECT_EQ(errors(bad_octet), (Lines{"p.yaml:3:11: server.listen: host \"10.0.0.256\" is "
                                      "not an IPv4 address or localhost"}));
  auto ipv6 = load("version: 1\nserver:\n  listen: '[::1]:8080'\n");
  EXPECT_EQ(errors(ipv6), (Lines{"p.yaml:3:11: server.listen: IPv6 listen addresses are "
                                 "not supported yet; use an IPv4 address or localhost"}));
}

TEST(LoadConfig, ReportsPortOutsideRange) {
  auto r = load(R"(version: 1
server:
  listen: 127.0.0.1:99999
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:11: server.listen: port \"99999\" is not in 0-65535"}));
  auto named = load("version: 1\nserver: {listen: '127.0.0.1:http'}\n");
  EXPECT_EQ(errors(named), (Lines{"p.yaml:2:18: server.listen: port \"http\" is not in 0-65535"}));
}

TEST(LoadConfig, ReportsUnsupportedVersion) {
  EXPECT_EQ(errors(load("version: 2\n")),
            (Lines{"p.yaml:1:10: version: unsupported config version 2 (this host reads 1)"}));
  EXPECT_EQ(errors(load("version: one\n")),
            (Lines{"p.yaml:1:10: version: expected an integer, got \"one\""}));
}

TEST(LoadConfig, ReportsMissingVersionFirst) {
  auto r = load("log:\n  level: loud\n");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:1:1: version: missing key \"version\" (use version: 1)",
                              "p.yaml:2:10: log.level: expected one of debug, info, warn, "
                              "error, got \"loud\""}));
}

TEST(LoadConfig, ReportsStorageUrlWithUnknownScheme) {
  auto r = load("version: 1\nstorage:\n  url: mysql://db/plughost\n");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:8: storage.url: expected a sqlite:// or "
                              "postgresql:// URL, got \"mysql://db/plughost\""}));
  auto bare = load("version: 1\nstorage: {url: 'sqlite://'}\n");
  EXPECT_EQ(errors(bare), (Lines{"p.yaml:2:16: storage.url: expected a sqlite:// or "
                                 "postgresql:// URL, got \"sqlite://\""}));
}

TEST(LoadConfig, ReportsInvalidPluginNamesAndDropsThosePlugins) {
  auto r = load(R"(version: 1
plugins:
  RAG: {}
  good: {}
  my.plugin:
    enabled: maybe
)");
  EXPECT_EQ(
      errors(r),
      (Lines{"p.yaml:3:3: plugins.RAG: plugin name must match [a-z0-9_-]+",
             "p.yaml:5:3: plugins.my.plugin: plugin name must match [a-z0-9_-]+",
             "p.yaml:6:14: plugins.my.plugin.enabled: expected a boolean (true or false), got "
             "\"maybe\""}));
  ASSERT_EQ(r.config.plugins.size(), 1u);
  EXPECT_EQ(r.config.plugins[0].name, "good");
}

TEST(LoadConfig, ReportsNonMappingPluginConfig) {
  auto r = load("version: 1\nplugins:\n  rag:\n    config: [1, 2]\n");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:4:13: plugins.rag.config: expected a mapping"}));
}

TEST(LoadConfig, ReportsDuplicateKeys) {
  auto r = load(R"(version: 1
log: {level: info}
log: {level: debug}
plugins:
  rag:
    config: {a: 1, a: 2}
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:1: log: duplicate key \"log\"",
                              "p.yaml:6:20: plugins.rag.config.a: duplicate key \"a\""}));
  EXPECT_EQ(r.config.log.level, "info");
}

TEST(LoadConfig, ReportsFileWithoutAnyMapping) {
  Lines expected{
      "p.yaml:1:1: the file holds no YAML mapping; a config needs at least "
      "\"version: 1\""};
  EXPECT_EQ(errors(load("")), expected);
  EXPECT_EQ(errors(load("# nothing yet\n---\n")), expected);
}

TEST(LoadConfig, ReportsSecondYamlDocument) {
  auto r = load(R"(---
version: 1
---
version: 2
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:1: a config file holds one YAML document; remove this "
                              "\"---\" and what follows"}));
}

TEST(LoadConfig, ReportsNonMappingDocument) {
  EXPECT_EQ(errors(load("- version: 1\n")),
            (Lines{"p.yaml:1:1: expected a mapping at the top of the file"}));
}

TEST(LoadConfig, ReportsInfinitePluginConfigNumber) {
  auto r = load("version: 1\nplugins:\n  rag:\n    config:\n      limit: -.inf\n");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:5:14: plugins.rag.config.limit: infinite or NaN "
                              "numbers cannot be passed to a plugin"}));
}

TEST(LoadConfig, ReportsEveryErrorInOneRun) {
  auto r = load(R"(version: 1
server:
  listen: 127.0.0.1:99999
  threads: many
  max_body_byte: 10
log:
  level: loud
  access: ${ACCESS}
storage:
  url: mysql://x
plugins_dir: ${PLUGINS_DIR:?set PLUGINS_DIR to the plugin folder}
plugins:
  Bad: {}
  rag:
    enabled: perhaps
    config:
      key: ${KEY
)");
  EXPECT_EQ(
      errors(r),
      (Lines{
          "p.yaml:3:11: server.listen: port \"99999\" is not in 0-65535",
          "p.yaml:4:12: server.threads: expected an integer, got \"many\"",
          "p.yaml:5:3: server.max_body_byte: unknown key \"max_body_byte\" (did you mean "
          "\"max_body_bytes\"?)",
          "p.yaml:7:10: log.level: expected one of debug, info, warn, error, got \"loud\"",
          "p.yaml:8:11: log.access: environment variable ACCESS is not set",
          "p.yaml:10:8: storage.url: expected a sqlite:// or postgresql:// URL, got \"mysql://x\"",
          "p.yaml:11:14: plugins_dir: environment variable PLUGINS_DIR is not set: set "
          "PLUGINS_DIR to the plugin folder",
          "p.yaml:13:3: plugins.Bad: plugin name must match [a-z0-9_-]+",
          "p.yaml:15:14: plugins.rag.enabled: expected a boolean (true or false), got \"perhaps\"",
          "p.yaml:17:12: plugins.rag.config.key: unterminated \"${\" in \"${KEY\""}));
}

TEST(LoadConfig, ReadsSchedulesInFileOrder) {
  auto r = load(R"(version: 1
schedules:
  - name: nightly
    cron: "0 2 * * *"
    timezone: Europe/Berlin
    task: rag/reindex
    payload: {full: true, sources: [docs]}
  - {name: hourly, cron: "0 * * * *", task: rag/refresh}
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  ASSERT_EQ(r.config.schedules.size(), 2u);
  const ScheduleConfig& nightly = r.config.schedules[0];
  EXPECT_EQ(nightly.name, "nightly");
  EXPECT_EQ(nightly.cron, "0 2 * * *");
  EXPECT_EQ(nightly.timezone, "Europe/Berlin");
  EXPECT_EQ(nightly.task, "rag/reindex");
  EXPECT_EQ(nightly.payload_json, R"({"full":true,"sources":["docs"]})");
  EXPECT_EQ(nightly.mark.line, 3);
  EXPECT_EQ(nightly.mark.column, 5);
  EXPECT_EQ(r.config.schedules[1].name, "hourly");
  EXPECT_EQ(r.config.schedules[1].timezone, "");
  EXPECT_EQ(r.config.schedules[1].payload_json, "{}");
}

TEST(LoadConfig, ReportsIncompleteSchedules) {
  auto r = load(R"(version: 1
schedules:
  - name: nightly
    cron: "0 2 * * *"
    taks: rag/reindex
  - 5
)");
  EXPECT_EQ(errors(r), (Lines{"p.yaml:3:5: schedules.0: missing key \"task\"",
                              "p.yaml:5:5: schedules.0.taks: unknown key \"taks\" (did you mean "
                              "\"task\"?)",
                              "p.yaml:6:5: schedules.1: expected a mapping"}));
  auto not_a_list = load("version: 1\nschedules: {nightly: {}}\n");
  EXPECT_EQ(errors(not_a_list), (Lines{"p.yaml:2:12: schedules: expected a list of schedules"}));
}

// ---- small pieces ------------------------------------------------------------------------------

TEST(Diagnostic, PrintsFileLineColumnPathAndMessage) {
  Diagnostic with_path{"c.yaml", 3, 7, "server.threads", "bad"};
  Diagnostic without_path{"c.yaml", 1, 1, "", "YAML syntax error: x"};
  EXPECT_EQ(with_path.to_string(), "c.yaml:3:7: server.threads: bad");
  EXPECT_EQ(without_path.to_string(), "c.yaml:1:1: YAML syntax error: x");
}

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("server", "server"), 0u);
  EXPECT_EQ(edit_distance("srever", "server"), 2u);
  EXPECT_EQ(edit_distance("level", "levels"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(ProcessEnv, ReturnsNulloptForUnsetVariable) {
  EnvLookup env = process_env();
  EXPECT_EQ(env("PLUGHOST_TEST_SURELY_UNSET_VARIABLE"), std::nullopt);
  EXPECT_TRUE(env("PATH").has_value());
}

// ---- plugin config against its schema ----------------------------------------------------------

// fixture_good's schema (tests/fixtures/plugins/good.schema.json).
const char* kClosedSchema = R"({
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "greeting": {"type": "string", "default": "hello"},
    "limit": {"type": "integer", "minimum": 1, "default": 10}
  }
})";

PluginConfigCheck check(const ConfigResult& r, const std::string& schema) {
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_FALSE(r.config.plugins.empty());
  if (r.config.plugins.empty()) return {};
  return check_plugin_config(r.config, r.config.plugins[0], schema);
}

TEST(CheckPluginConfig, AcceptsAnythingWithoutSchema) {
  auto r = load("version: 1\nplugins:\n  rag:\n    config: {anything: [1, 2]}\n");
  auto out = check(r, "");
  EXPECT_TRUE((out.diagnostics).empty());
  EXPECT_EQ(out.config_json, R"({"anything":[1,2]})");
}

TEST(CheckPluginConfig, ReportsUnknownKeyWithSuggestionAtTheKey) {
  auto r = load(R"(version: 1
plugins:
  good:
    config:
      greting: hi
      limit: 0
)");
  auto out = check(r, kClosedSchema);
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:5:7: plugins.good.config.greting: unknown key \"greting\" (did "
                   "you mean \"greeting\"?)",
                   "p.yaml:6:14: plugins.good.config.limit: value 0 is below minimum 1"}));
}

TEST(CheckPluginConfig, ReportsUnknownKeyInClosedNestedObject) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      store:
        pathh: /tmp/x
        extra: 1
)");
  auto out = check(r, R"({"type": "object", "properties": {
      "store": {"type": "object", "additionalProperties": false,
                "properties": {"path": {"type": "string"}}}}})");
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:6:9: plugins.rag.config.store.pathh: unknown key \"pathh\" (did "
                   "you mean \"path\"?)",
                   "p.yaml:7:9: plugins.rag.config.store.extra: unknown key \"extra\""}));
}

TEST(CheckPluginConfig, AllowsKeysMatchingPatternProperties) {
  auto r = load("version: 1\nplugins:\n  rag:\n    config: {x_color: red, size: 1, x_n: 5}\n");
  auto out = check(r, R"({"type": "object", "additionalProperties": false,
      "patternProperties": {"^x_": {"type": "string"}}})");
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:4:28: plugins.rag.config.size: unknown key \"size\"",
                   "p.yaml:4:42: plugins.rag.config.x_n: expected string, got integer"}));
}

TEST(CheckPluginConfig, ReportsMissingRequiredKeysAtTheConfigBlock) {
  const char* schema = R"({"type": "object", "required": ["api_key", "model"],
      "properties": {"api_key": {"type": "string"}, "model": {"type": "string"}}})";
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      model: small
)");
  EXPECT_EQ(errors(check(r, schema).diagnostics),
            (Lines{"p.yaml:5:7: plugins.rag.config: missing required key \"api_key\""}));
  auto without_block = load("version: 1\nplugins:\n  rag: {}\n");
  EXPECT_EQ(errors(check(without_block, schema).diagnostics),
            (Lines{"p.yaml:3:3: plugins.rag.config: missing required key \"api_key\"",
                   "p.yaml:3:3: plugins.rag.config: missing required key \"model\""}));
}

TEST(CheckPluginConfig, ReportsTypeMismatchesAtTheNestedValue) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      top_k: 2.5
      store:
        pool: four
        label: 5
        note: ~
)");
  auto out = check(r, R"({"type": "object", "properties": {
      "top_k": {"type": "integer"},
      "store": {"type": "object", "properties": {
          "pool": {"type": "number"},
          "label": {"type": ["string", "null"]},
          "note": {"type": ["string", "null"]}}}}})");
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:5:14: plugins.rag.config.top_k: expected integer, got number",
                   "p.yaml:7:15: plugins.rag.config.store.pool: expected number, got string",
                   "p.yaml:8:16: plugins.rag.config.store.label: expected string or null, got "
                   "integer"}));
}

TEST(CheckPluginConfig, ReportsTypeMismatchInsideListItems) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      sources:
        - name: docs
        - name: [wiki]
)");
  auto out = check(r, R"({"type": "object", "properties": {"sources": {"type": "array",
      "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}})");
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:7:17: plugins.rag.config.sources.1.name: expected string, got "
                   "array"}));
}

TEST(CheckPluginConfig, ReportsMinimumViolationFoundByTheValidator) {
  auto r = load(R"(version: 1
plugins:
  good:
    config:
      greeting: hi
      limit: 0
)");
  auto out = check(r, kClosedSchema);
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_EQ(out.diagnostics[0].to_string(),
            "p.yaml:6:14: plugins.good.config.limit: value 0 is below minimum 1");
}

TEST(CheckPluginConfig, ReportsSeveralValidatorFailuresInOneRun) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      top_k: 500
      mode: fast
      name: ab
      tags: [a, a]
      ratio: 0.5
)");
  auto out = check(r, R"({"type": "object", "properties": {
      "top_k": {"type": "integer", "maximum": 100},
      "mode": {"enum": ["exact", "approximate"]},
      "name": {"type": "string", "minLength": 3},
      "tags": {"type": "array", "uniqueItems": true},
      "ratio": {"type": "number", "minimum": 0.5, "exclusiveMinimum": true}}})");
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:5:14: plugins.rag.config.top_k: value 500 is above maximum 100",
                   "p.yaml:6:13: plugins.rag.config.mode: value \"fast\" is not one of "
                   "[\"exact\",\"approximate\"]",
                   "p.yaml:7:13: plugins.rag.config.name: string \"ab\" is shorter than 3 "
                   "characters",
                   "p.yaml:8:17: plugins.rag.config.tags.1: duplicate list item \"a\"",
                   "p.yaml:9:14: plugins.rag.config.ratio: value 0.5 must be greater than 0.5"}));
}

TEST(CheckPluginConfig, DoesNotRepeatAProblemItAlreadyReported) {
  auto r = load("version: 1\nplugins:\n  good:\n    config:\n      limit: lots\n");
  auto out = check(r, kClosedSchema);
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:5:14: plugins.good.config.limit: expected integer, got string"}));
}

TEST(CheckPluginConfig, NamesKeywordsItCannotExplain) {
  auto r = load("version: 1\nplugins:\n  rag:\n    config:\n      n: 3\n");
  auto out = check(r, R"({"type": "object", "properties": {"n": {"not": {"type": "integer"}}}})");
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:5:10: plugins.rag.config.n: fails schema keyword \"not\""}));
}

TEST(CheckPluginConfig, AppliesDefaultsIncludingNestedObjects) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      top_k: 3
      store:
        path: /data
)");
  auto out = check(r, R"({"type": "object", "properties": {
      "top_k": {"type": "integer", "default": 5},
      "mode": {"type": "string", "default": "exact"},
      "store": {"type": "object", "properties": {
          "path": {"type": "string", "default": "/var"},
          "pool": {"type": "integer", "default": 4}}},
      "cache": {"type": "object", "properties": {
          "size": {"type": "integer", "default": 100},
          "ttl": {"type": "integer"}}},
      "empty": {"type": "object", "properties": {"x": {"type": "integer"}}}}})");
  EXPECT_TRUE((out.diagnostics).empty());
  EXPECT_EQ(out.config_json,
            R"({"top_k":3,"store":{"path":"/data","pool":4},"mode":"exact","cache":{"size":100}})");
}

TEST(CheckPluginConfig, ReportsProblemsInDefaultedObjectsAtTheNearestValue) {
  auto r = load("version: 1\nplugins:\n  rag:\n    config:\n      top_k: 1\n");
  auto out = check(r, R"({"type": "object", "properties": {
      "top_k": {"type": "integer"},
      "db": {"type": "object", "required": ["url"], "properties": {
          "url": {"type": "string"}, "pool": {"type": "integer", "default": 2}}}}})");
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:5:7: plugins.rag.config.db: missing required key \"url\""}));
  EXPECT_EQ(out.config_json, R"({"top_k":1,"db":{"pool":2}})");
}

TEST(CheckPluginConfig, ReportsStringsNotMatchingTheirPattern) {
  auto r = load(R"(version: 1
plugins:
  rag:
    config:
      model: GPT-4
      region: eu-west-1
      odd: anything
)");
  auto out = check(r, R"({"type": "object", "properties": {
      "model": {"type": "string", "pattern": "^[a-z0-9-]+$"},
      "region": {"type": "string", "pattern": "^[a-z]{2}-"},
      "odd": {"type": "string", "pattern": "("}}})");
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:5:14: plugins.rag.config.model: string \"GPT-4\" does not match "
                   "pattern \"^[a-z0-9-]+$\""}));
}

TEST(CheckPluginConfig, FollowsLocalRefsForChecksAndDefaults) {
  auto r = load("version: 1\nplugins:\n  rag:\n    config:\n      primary: {port: x}\n");
  auto out = check(r, R"({"type": "object",
      "definitions": {"endpoint": {"type": "object", "properties": {
          "host": {"type": "string", "default": "localhost"},
          "port": {"type": "integer"}}}},
      "properties": {"primary": {"$ref": "#/definitions/endpoint"}}})");
  EXPECT_EQ(errors(out.diagnostics),
            (Lines{"p.yaml:5:23: plugins.rag.config.primary.port: expected integer, got string"}));
  EXPECT_EQ(out.config_json, R"({"primary":{"port":"x","host":"localhost"}})");
}

TEST(CheckPluginConfig, ReportsSchemaThatWouldCrashTheValidator) {
  auto r = load("version: 1\nplugins:\n  rag:\n    config: {a: 1}\n");
  EXPECT_EQ(errors(check(r, R"({"allOf": [{"$ref": "#"}]})").diagnostics),
            (Lines{"p.yaml:3:3: plugins.rag: the plugin's config schema cannot be used by the "
                   "validator: it has subschemas that refer back to themselves at \"\"; report "
                   "this to the plugin's author"}));
  EXPECT_EQ(errors(check(r, R"({"properties": {"a": {"anyOf": [1]}}})").diagnostics),
            (Lines{"p.yaml:3:3: plugins.rag: the plugin's config schema cannot be used by the "
                   "validator: it has an \"anyOf\" entry that is not an object at "
                   "\"/properties/a\"; report this to the plugin's author"}));
}

TEST(CheckPluginConfig, ReportsInvalidSchemaAtThePlugin) {
  auto r = load("version: 1\nplugins:\n  rag:\n    config: {a: 1}\n");
  auto out = check(r, R"({"type": "object", )");
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_EQ(out.diagnostics[0].line, 3);
  EXPECT_EQ(out.diagnostics[0].column, 3);
  EXPECT_EQ(out.diagnostics[0].path, "plugins.rag");
  EXPECT_EQ(out.diagnostics[0].message.rfind("the plugin's config schema is not valid JSON (", 0),
            0u);
  EXPECT_EQ(errors(check(r, "[1, 2]").diagnostics),
            (Lines{"p.yaml:3:3: plugins.rag: the plugin's config schema is not a JSON "
                   "object; report this to the plugin's author"}));
}

}  // namespace
}  // namespace plughost
