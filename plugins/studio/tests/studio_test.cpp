// The studio plugin over real HTTP: the plughost binary loads studio and a probe plugin whose
// registrations each test controls, on a SQLite file (PostgreSQL in studio_postgres), and the
// answers are checked against what the host really has.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <plughost/json.hpp>
#include <plughost/testing.hpp>
#include <regex>
#include <string>
#include <vector>

namespace studio_test {
namespace {

namespace fs = std::filesystem;
using plughost::testing::Host;
using plughost::testing::http;
using plughost::testing::HttpResponse;
using plughost::testing::json;
using Headers = std::map<std::string, std::string>;
using Checksums = std::map<std::string, std::string>;

// A plugins dir holding studio and one release of the probe, and a database beside it; the same
// Lab restarted keeps its database, as an operator's host does.
class Lab {
 public:
  explicit Lab(int probe_release = 1) : dir_(plughost::testing::make_temp_dir()) {
    fs::create_directories(plugins_dir());
    fs::create_symlink(PLUGHOST_TEST_PLUGIN_DIR "/plughost_studio.so",
                       plugins_dir() + "/plughost_studio.so");
    use_probe(probe_release);
  }
  ~Lab() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Swaps the probe's library for another release (takes effect at the next start).
  void use_probe(int release) {
    std::string link = plugins_dir() + "/plughost_studio_probe.so";
    fs::remove(link);
    std::string from = release == 1 ? STUDIO_PROBE_V1_DIR : STUDIO_PROBE_V2_DIR;
    fs::create_symlink(from + "/plughost_studio_probe.so", link);
  }

  // A host config with `plugins_yaml` (indented entries under `plugins:`).
  std::string config(const std::string& plugins_yaml, const std::string& storage_url = {}) const {
    return "version: 1\n"
           "server: {listen: 127.0.0.1:0}\n"
           "log: {format: json, access: false}\n"
           "auth: {enabled: false}\n"
           "rate_limits: {enabled: false}\n"
           "storage: {url: \"" +
           (storage_url.empty() ? "sqlite://" + dir_ + "/studio.db" : storage_url) +
           "\", pool_size: 3}\n"
           "plugins_dir: " +
           plugins_dir() +
           "\n"
           "plugins:\n" +
           plugins_yaml;
  }

  std::string plugins_dir() const { return dir_ + "/plugins"; }

 private:
  std::string dir_;
};

const char* kStudioAndProbe =
    "  studio: {}\n"
    "  studio_probe: {}\n";

rapidjson::Document get_json(const Host& host, const std::string& path,
                             const Headers& headers = {}) {
  auto r = http(host.port(), "GET", path, headers);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  return json(r);
}

Checksums checksums_of(const rapidjson::Value& doc) {
  Checksums out;
  for (const auto& m : doc["checksums"].GetObject()) {
    out[m.name.GetString()] = m.value.GetString();
  }
  return out;
}

// Starts a host on `yaml`, reads the handshake's checksums, stops the host cleanly.
Checksums checksums_after_start(const std::string& yaml) {
  Host host(yaml);
  EXPECT_TRUE(host.wait_ready()) << host.output();
  if (host.port() == 0) return {};
  Checksums c = checksums_of(get_json(host, "/studio/handshake"));
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0) << host.output();
  return c;
}

std::vector<std::string> strings(const rapidjson::Value& array) {
  std::vector<std::string> out;
  for (const auto& v : array.GetArray()) out.push_back(v.GetString());
  return out;
}

const rapidjson::Value* find_by(const rapidjson::Value& array, const char* key,
                                const std::string& value) {
  for (const auto& v : array.GetArray()) {
    if (v[key].GetString() == value) return &v;
  }
  return nullptr;
}

std::string host_version() {
  auto r = plughost::testing::run_plughost({"version", "--json"});
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  return d.HasParseError() || !d.IsObject() ? "" : d["version"].GetString();
}

// ---- handshake ---------------------------------------------------------------------------------

TEST(studio_handshake, DescribesTheRunningHost) {
  Lab lab;
  Host host(lab.config(
      "  studio:\n"
      "    config: {project_name: Demo Shop, project_version: 2.4.1, environment: staging}\n"
      "  studio_probe: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto hs = get_json(host, "/studio/handshake");

  EXPECT_STREQ(hs["protocol_version"].GetString(), "1.0");
  EXPECT_TRUE(std::regex_match(hs["timestamp"].GetString(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00)")))
      << hs["timestamp"].GetString();
  const auto& project = hs["project"];
  EXPECT_STREQ(project["name"].GetString(), "Demo Shop");
  EXPECT_STREQ(project["version"].GetString(), "2.4.1");
  EXPECT_STREQ(project["environment"].GetString(), "staging");
  EXPECT_FALSE(project["debug_mode"].GetBool());
  std::string version = host_version();
  ASSERT_FALSE(version.empty());
  EXPECT_EQ(project["aksara_version"].GetString(), version);
  EXPECT_EQ(project["host_version"].GetString(), version);
  EXPECT_FALSE(std::string(project["python_version"].GetString()).empty());
  EXPECT_STREQ(project["python_version"].GetString(), project["runtime_version"].GetString());

  const auto& db = hs["database"];
  EXPECT_TRUE(db["connected"].GetBool());
  EXPECT_STREQ(db["dialect"].GetString(), "sqlite");
  EXPECT_EQ(db["pool_size"].GetInt(), 3);
  EXPECT_GE(db["pool_available"].GetInt(), 0);
  EXPECT_LE(db["pool_available"].GetInt(), 3);
  ASSERT_TRUE(db["latency_ms"].IsNumber());  // measured, not null
  EXPECT_GE(db["latency_ms"].GetDouble(), 0.0);
  EXPECT_TRUE(db["last_error"].IsNull());

  EXPECT_EQ(strings(hs["capabilities"]),
            (std::vector<std::string>{"read_schema", "read_migrations"}));
  for (const auto& [name, value] : checksums_of(hs)) {
    EXPECT_TRUE(std::regex_match(value, std::regex("[0-9a-f]{16}"))) << name << " " << value;
  }
  EXPECT_EQ(checksums_of(hs).size(), 4u);

  const auto& endpoints = hs["endpoints"];
  EXPECT_STREQ(endpoints["context_summary"].GetString(), "/studio/context/summary");
  EXPECT_STREQ(endpoints["health"].GetString(), "/studio/health");
  EXPECT_FALSE(endpoints.HasMember("query_execute"));  // no plugin serves one
  EXPECT_FALSE(endpoints.HasMember("context_full"));
  ASSERT_TRUE(hs["metadata"].IsObject());
  auto* probe = find_by(hs["metadata"]["plugins"], "name", "studio_probe");
  ASSERT_NE(probe, nullptr);
  EXPECT_STREQ((*probe)["status"].GetString(), "running");
  EXPECT_TRUE(hs["metadata"]["catalog_error"].IsNull());
}

TEST(studio_handshake, CapabilitiesAndEndpointsFollowWhatPluginsRegister) {
  Lab lab;
  Host host(
      lab.config("  studio:\n"
                 "    config: {debug: true, environment: development}\n"
                 "  studio_probe:\n"
                 "    config:\n"
                 "      routes:\n"
                 "        - {method: POST, path: /api/query, permission: query.execute}\n"
                 "        - {method: POST, path: /api/datachat/chat/}\n"
                 "        - {method: GET, path: /api/auth/users, permission: users.manage}\n"
                 "      connectors: [{kind: llm, name: probe_llm}]\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto hs = get_json(host, "/studio/handshake");
  EXPECT_EQ(strings(hs["capabilities"]),
            (std::vector<std::string>{"read_schema", "read_data", "write_data", "read_migrations",
                                      "apply_migrations", "ai_tools", "ai_query", "admin_access",
                                      "debug_panels"}));
  EXPECT_TRUE(hs["project"]["debug_mode"].GetBool());
  EXPECT_STREQ(hs["endpoints"]["query_execute"].GetString(), "/api/query");
  EXPECT_STREQ(hs["endpoints"]["datachat"].GetString(), "/api/datachat/chat/");
  EXPECT_FALSE(hs["endpoints"].HasMember("codegen_preview"));
}

TEST(studio_handshake, LiveHandshakeValidatesAgainstItsSchema) {
  Lab lab;
  Host host(lab.config(kStudioAndProbe));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto schema_doc = get_json(host, "/studio/schema/handshake");
  EXPECT_STREQ(schema_doc["$schema"].GetString(), "https://json-schema.org/draft/2020-12/schema");
  EXPECT_STREQ(schema_doc["title"].GetString(), "StudioHandshake");
  for (const char* def :
       {"StudioCapability", "StudioChecksums", "StudioDatabaseStatus", "StudioProjectInfo"}) {
    EXPECT_TRUE(schema_doc["$defs"].HasMember(def)) << def;
  }
  EXPECT_EQ(strings(schema_doc["required"]),
            (std::vector<std::string>{"project", "database", "capabilities", "checksums"}));
  EXPECT_EQ(strings(schema_doc["$defs"]["StudioCapability"]["enum"]).size(), 12u);

  rapidjson::SchemaDocument schema(schema_doc);
  auto valid = [&](const rapidjson::Document& doc) {
    rapidjson::SchemaValidator validator(schema);
    return doc.Accept(validator);
  };
  auto live = get_json(host, "/studio/handshake");
  EXPECT_TRUE(valid(live));

  // The schema can say no: each broken copy of the live document is refused.
  auto broken = [&](auto&& change) {
    rapidjson::Document copy;
    copy.CopyFrom(live, copy.GetAllocator());
    change(copy);
    return !valid(copy);
  };
  EXPECT_TRUE(broken([](rapidjson::Document& d) { d.RemoveMember("project"); }));
  EXPECT_TRUE(broken([](rapidjson::Document& d) {
    d["capabilities"].PushBack(rapidjson::Value("time_travel"), d.GetAllocator());
  }));
  EXPECT_TRUE(broken([](rapidjson::Document& d) {
    d["checksums"]["routes_checksum"].SetString("not-a-checksum", d.GetAllocator());
  }));
  EXPECT_TRUE(broken([](rapidjson::Document& d) {
    d["timestamp"].SetString("2024-01-15T10:30:00Z", d.GetAllocator());
  }));
  EXPECT_TRUE(broken([](rapidjson::Document& d) { d["database"]["connected"].SetString("yes"); }));
}

// ---- summary and health ------------------------------------------------------------------------

TEST(studio_summary, CountsAndModelsComeFromTheHostAndItsCatalog) {
  Lab lab(2);
  Host host(lab.config(
      "  studio: {}\n"
      "  studio_probe:\n"
      "    config:\n"
      "      routes: [{method: GET, path: /probe/extra}, {method: POST, path: /probe/extra}]\n"
      "      connectors: [{kind: embedder, name: probe_embedder}]\n"
      "      extra_migrations:\n"
      "        - {name: 0003_four_columns, sql: \"CREATE TABLE probe_four (a INT, b INT, c INT,"
      " d INT)\"}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto s = get_json(host, "/studio/context/summary");
  auto routes = json(http(host.port(), "GET", "/studio/handshake"));  // for its checksums
  auto summary = get_json(host, "/studio/migrations/summary");
  const int migrations =  // the probe's and the host's own
      3 + (*find_by(summary["apps"], "app_label", "plughost"))["total"].GetInt();

  EXPECT_EQ(s["app_count"].GetInt(), 2);  // studio and the probe are running
  EXPECT_EQ(s["route_count"].GetInt(), 5 + 1 + 2);
  EXPECT_EQ(s["viewset_count"].GetInt(), 5 + 1 + 1);  // one path, two methods: one viewset
  EXPECT_EQ(s["ai_tool_count"].GetInt(), 1);
  EXPECT_EQ(s["migration_count"].GetInt(), migrations);
  EXPECT_EQ(s["pending_migrations"].GetInt(), 0);
  EXPECT_TRUE(s["database_status"]["connected"].GetBool());
  EXPECT_TRUE(s["database_status"]["latency_ms"].IsNumber());
  const auto& ms = s["migration_status"];
  EXPECT_EQ(ms["total"].GetInt(), migrations);
  EXPECT_EQ(ms["applied"].GetInt(), migrations);
  EXPECT_EQ(ms["pending"].GetInt(), 0);
  EXPECT_FALSE(ms["has_conflicts"].GetBool());
  EXPECT_STREQ(ms["last_applied"].GetString(), "0003_four_columns");

  const auto& models = s["models"];
  EXPECT_EQ(s["model_count"].GetInt(), static_cast<int>(models.Size()));
  auto* widgets = find_by(models, "table_name", "probe_widgets");
  auto* tags = find_by(models, "table_name", "probe_widget_tags");
  auto* four = find_by(models, "table_name", "probe_four");
  ASSERT_TRUE(widgets && tags && four) << plughost::sdk::to_json(models);
  EXPECT_STREQ((*widgets)["name"].GetString(), "ProbeWidgets");
  EXPECT_EQ((*widgets)["field_count"].GetInt(), 3);
  EXPECT_TRUE((*widgets)["has_relations"].GetBool());  // probe_widget_tags refers to it
  EXPECT_EQ((*tags)["field_count"].GetInt(), 3);
  EXPECT_TRUE((*tags)["has_relations"].GetBool());
  EXPECT_EQ((*four)["field_count"].GetInt(), 4);
  EXPECT_FALSE((*four)["has_relations"].GetBool());
  std::vector<std::string> names;
  for (const auto& m : models.GetArray()) names.push_back(m["name"].GetString());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(checksums_of(s), checksums_of(routes));
}

TEST(studio_health, HealthyAfterARealRoundTrip) {
  Lab lab;
  Host host(lab.config(kStudioAndProbe));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto h = get_json(host, "/studio/health");
  EXPECT_STREQ(h["status"].GetString(), "healthy");
  EXPECT_EQ(h["aksara_version"].GetString(), host_version());
  EXPECT_TRUE(h["database"]["connected"].GetBool());
  ASSERT_TRUE(h["database"]["latency_ms"].IsNumber());
  EXPECT_TRUE(h["database"]["last_error"].IsNull());
  EXPECT_TRUE(std::regex_match(h["timestamp"].GetString(), std::regex(R"(.*T.*\.\d{6}\+00:00)")));
}

// ---- migrations --------------------------------------------------------------------------------

TEST(studio_migrations, SummaryPerPluginWithHeadsAndBranchConflicts) {
  Lab lab(2);
  Host host(lab.config(
      "  studio: {}\n"
      "  studio_probe:\n"
      "    config:\n"
      "      extra_migrations:\n"
      "        - {name: 0002_widget_colors, sql: \"CREATE TABLE probe_colors (id INTEGER)\"}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto m = get_json(host, "/studio/migrations/summary");
  const int builtin = (*find_by(m["apps"], "app_label", "plughost"))["total"].GetInt();
  EXPECT_EQ(m["total_migrations"].GetInt(), 3 + builtin);
  EXPECT_EQ(m["applied_migrations"].GetInt(), 3 + builtin);
  EXPECT_EQ(m["pending_migrations"].GetInt(), 0);
  auto* probe = find_by(m["apps"], "app_label", "studio_probe");
  ASSERT_NE(probe, nullptr) << plughost::sdk::to_json(m);
  EXPECT_EQ((*probe)["total"].GetInt(), 3);
  EXPECT_EQ((*probe)["applied"].GetInt(), 3);
  EXPECT_EQ((*probe)["pending"].GetInt(), 0);
  EXPECT_TRUE((*probe)["has_conflicts"].GetBool());
  std::vector<std::string> heads = {"0002_widget_colors", "0002_widget_tags"};
  EXPECT_EQ(strings((*probe)["head_migrations"]), heads);
  ASSERT_EQ(m["conflicts"].Size(), 1u);
  const auto& c = m["conflicts"][0];
  EXPECT_STREQ(c["app_label"].GetString(), "studio_probe");
  EXPECT_EQ(strings(c["heads"]), heads);
  EXPECT_STREQ(c["message"].GetString(),
               "App 'studio_probe' has 2 conflicting head migrations that need to be merged.");
  std::string last = m["last_applied"].GetString();
  EXPECT_TRUE(last == "0002_widget_colors" || last == "0002_widget_tags") << last;

  auto hs = get_json(host, "/studio/handshake");
  EXPECT_STREQ(m["migrations_checksum"].GetString(),
               hs["checksums"]["migrations_checksum"].GetString());
  auto s = get_json(host, "/studio/context/summary");
  EXPECT_TRUE(s["migration_status"]["has_conflicts"].GetBool());
}

TEST(studio_migrations, LinearHistoryHasOneHeadAndNoConflict) {
  Lab lab(2);
  Host host(lab.config(kStudioAndProbe));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto m = get_json(host, "/studio/migrations/summary");
  auto* probe = find_by(m["apps"], "app_label", "studio_probe");
  ASSERT_NE(probe, nullptr);
  EXPECT_FALSE((*probe)["has_conflicts"].GetBool());
  EXPECT_EQ(strings((*probe)["head_migrations"]), std::vector<std::string>{"0002_widget_tags"});
  EXPECT_EQ(m["conflicts"].Size(), 0u);
  EXPECT_STREQ(m["last_applied"].GetString(), "0002_widget_tags");
}

// ---- checksums ---------------------------------------------------------------------------------

TEST(studio_checksums, StableAcrossRestartsOfAnUnchangedHost) {
  Lab lab;
  std::string yaml = lab.config(kStudioAndProbe);
  Checksums first = checksums_after_start(yaml);
  Checksums second = checksums_after_start(yaml);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first, second);
}

TEST(studio_checksums, StudioAloneSeesOnlyTheHostsBuiltInMigrations) {
  // The host's own tables (tasks, events) come from migrations of the app "plughost", so a real
  // host always has some; sixteen zeros (no migrations at all) is covered by the unit tests.
  Lab lab;
  Host host(lab.config("  studio: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto m = get_json(host, "/studio/migrations/summary");
  ASSERT_EQ(m["apps"].Size(), 1u) << plughost::sdk::to_json(m);
  EXPECT_STREQ(m["apps"][0]["app_label"].GetString(), "plughost");
  EXPECT_EQ(m["total_migrations"].GetInt(), m["apps"][0]["total"].GetInt());
  EXPECT_GT(m["total_migrations"].GetInt(), 0);
  auto hs = get_json(host, "/studio/handshake");
  EXPECT_STREQ(m["migrations_checksum"].GetString(),
               hs["checksums"]["migrations_checksum"].GetString());
  EXPECT_STRNE(hs["checksums"]["migrations_checksum"].GetString(), "0000000000000000");
}

TEST(studio_checksums, AddingAPluginChangesRoutesMigrationsSchemaAndSettings) {
  Lab lab;
  Checksums before = checksums_after_start(lab.config("  studio: {}\n"));
  Checksums after = checksums_after_start(lab.config(kStudioAndProbe));
  ASSERT_EQ(before.size(), 4u);
  ASSERT_EQ(after.size(), 4u);
  for (const char* key :
       {"routes_checksum", "migrations_checksum", "schema_checksum", "settings_checksum"}) {
    EXPECT_NE(before[key], after[key]) << key;
  }
}

TEST(studio_checksums, ChangingAPluginSettingChangesOnlySettings) {
  Lab lab;
  Checksums before = checksums_after_start(lab.config(kStudioAndProbe));
  Checksums after =
      checksums_after_start(lab.config("  studio: {config: {project_name: Renamed}}\n"
                                       "  studio_probe: {}\n"));
  ASSERT_EQ(before.size(), 4u);
  EXPECT_NE(before["settings_checksum"], after["settings_checksum"]);
  EXPECT_EQ(before["routes_checksum"], after["routes_checksum"]);
  EXPECT_EQ(before["migrations_checksum"], after["migrations_checksum"]);
  EXPECT_EQ(before["schema_checksum"], after["schema_checksum"]);
}

TEST(studio_checksums, ApplyingAMigrationChangesOnlyMigrationsAndSchema) {
  Lab lab(1);
  std::string yaml = lab.config(kStudioAndProbe);
  Checksums before = checksums_after_start(yaml);
  lab.use_probe(2);  // the probe's next release ships migration 0002_widget_tags
  Checksums after = checksums_after_start(yaml);
  ASSERT_EQ(before.size(), 4u);
  EXPECT_NE(before["migrations_checksum"], after["migrations_checksum"]);
  EXPECT_NE(before["schema_checksum"], after["schema_checksum"]);
  EXPECT_EQ(before["settings_checksum"], after["settings_checksum"]);
  EXPECT_EQ(before["routes_checksum"], after["routes_checksum"]);
}

// ---- origins and authentication ----------------------------------------------------------------

const char* kEvil = "https://evil.example";

std::string origin_refusal(const std::string& origin) {
  return "{\"detail\": \"Origin '" + origin + "' is not allowed\"}";
}

TEST(studio_origins, HostAllowListAnswersAllowedNoneAndOther) {
  Lab lab;
  Host host(
      lab.config("  studio:\n"
                 "    allowed_origins: [\"https://studio.aksara.dev\"]\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  for (const char* path : {"/studio/handshake", "/studio/health", "/studio/context/summary",
                           "/studio/migrations/summary", "/studio/schema/handshake"}) {
    auto allowed = http(host.port(), "GET", path, {{"Origin", "https://studio.aksara.dev"}});
    EXPECT_EQ(allowed.status, 200) << path << " " << allowed.body;
    EXPECT_EQ(allowed.header("access-control-allow-origin"), "https://studio.aksara.dev");
    EXPECT_EQ(http(host.port(), "GET", path).status, 200) << path;
    auto other = http(host.port(), "GET", path, {{"Origin", kEvil}});
    EXPECT_EQ(other.status, 403) << path;
    EXPECT_EQ(other.body, origin_refusal(kEvil)) << path;
  }
  // Exact match only: no case or trailing-slash folding.
  EXPECT_EQ(
      http(host.port(), "GET", "/studio/health", {{"Origin", "https://studio.aksara.dev/"}}).status,
      403);
}

TEST(studio_origins, PreflightFromAnAllowedOriginIsAnswered) {
  Lab lab;
  Host host(
      lab.config("  studio:\n"
                 "    allowed_origins: [\"http://localhost:3000\"]\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto ok = http(host.port(), "OPTIONS", "/studio/handshake",
                 {{"Origin", "http://localhost:3000"},
                  {"Access-Control-Request-Method", "GET"},
                  {"Access-Control-Request-Headers", "authorization"}});
  EXPECT_EQ(ok.status, 204) << ok.body;
  EXPECT_EQ(ok.header("access-control-allow-origin"), "http://localhost:3000");
  EXPECT_NE(ok.header("access-control-allow-methods").find("GET"), std::string::npos);
  EXPECT_EQ(ok.header("access-control-allow-headers"), "authorization");
  auto refused = http(host.port(), "OPTIONS", "/studio/handshake",
                      {{"Origin", kEvil}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body, origin_refusal(kEvil));
}

TEST(studio_origins, WildcardAllowsEveryOrigin) {
  Lab lab;
  Host host(lab.config("  studio: {allowed_origins: [\"*\"]}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto r = http(host.port(), "GET", "/studio/health", {{"Origin", kEvil}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");  // any origin, never with cookies
  EXPECT_FALSE(r.has("access-control-allow-credentials"));
}

TEST(studio_origins, WithoutAHostListStudiosDefaultsApply) {
  Lab lab;
  Host host(lab.config("  studio: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  for (const char* origin : {"https://studio.aksara.dev", "http://localhost:3000"}) {
    auto r = http(host.port(), "GET", "/studio/health", {{"Origin", origin}});
    EXPECT_EQ(r.status, 200) << origin;
    EXPECT_EQ(r.header("access-control-allow-origin"), origin);
  }
  EXPECT_EQ(http(host.port(), "GET", "/studio/health").status, 200);
  auto other = http(host.port(), "GET", "/studio/handshake", {{"Origin", kEvil}});
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(other.body, origin_refusal(kEvil));
}

TEST(studio_auth, BearerTokenIsRequiredWhenConfigured) {
  Lab lab;
  Host host(
      lab.config("  studio:\n"
                 "    allowed_origins: [\"http://localhost:3000\"]\n"
                 "    config: {auth_token: s3cret-studio-token}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  const std::string refusal = "{\"detail\": \"Studio requires authentication\"}";
  auto none = http(host.port(), "GET", "/studio/handshake");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body, refusal);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer");
  auto wrong = http(host.port(), "GET", "/studio/handshake",
                    {{"Authorization", "Bearer s3cret-studio-tokem"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body, refusal);
  auto right = http(host.port(), "GET", "/studio/handshake",
                    {{"Authorization", "Bearer s3cret-studio-token"}});
  EXPECT_EQ(right.status, 200) << right.body;
  EXPECT_EQ(right.body.find("s3cret-studio-token"), std::string::npos);
  // The origin check comes first.
  auto other = http(host.port(), "GET", "/studio/health",
                    {{"Origin", kEvil}, {"Authorization", "Bearer s3cret-studio-token"}});
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(other.body, origin_refusal(kEvil));
}

TEST(studio_auth, SighupRotatesTheTokenAndProjectLiveButNotThePermission) {
  Lab lab;
  Host host(lab.config("  studio:\n    config: {auth_token: first-token, project_name: alpha}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  const Headers first = {{"Authorization", "Bearer first-token"}};
  const Headers second = {{"Authorization", "Bearer second-token"}};
  ASSERT_EQ(http(host.port(), "GET", "/studio/handshake", first).status, 200);

  plughost::testing::write_file(
      host.dir() + "/plughost.yaml",
      lab.config("  studio:\n    config: {auth_token: second-token, project_name: beta}\n"));
  host.signal(SIGHUP);
  ASSERT_TRUE(host.wait_for_output("\"msg\":\"config reloaded\"")) << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/studio/handshake", first).status, 401);
  auto now = http(host.port(), "GET", "/studio/handshake", second);
  ASSERT_EQ(now.status, 200) << now.body;
  EXPECT_NE(now.body.find("\"beta\""), std::string::npos) << now.body;
  EXPECT_EQ(now.body.find("\"alpha\""), std::string::npos);
  EXPECT_EQ(host.output().find("second-token"), std::string::npos);  // never logged

  // The routes' permission is fixed at start: refused, and the token stays the second one.
  plughost::testing::write_file(
      host.dir() + "/plughost.yaml",
      lab.config("  studio:\n    config: {auth_token: third-token, permission: studio.view}\n"));
  host.signal(SIGHUP);
  ASSERT_TRUE(host.wait_for_output("plugin refused its new config")) << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/studio/handshake", second).status, 200);
  EXPECT_EQ(http(host.port(), "GET", "/studio/handshake", {{"Authorization", "Bearer third-token"}})
                .status,
            401);
  auto ready = json(http(host.port(), "GET", "/readyz"));
  bool reported = false;
  for (const auto& c : ready["checks"].GetArray()) {
    if (std::string(c["name"].GetString()) != "config") continue;
    reported = std::string(c["last_reload_error"].GetString()).find("restart the host") !=
               std::string::npos;
  }
  EXPECT_TRUE(reported);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0);
}

TEST(studio_auth, OpenWithoutAToken) {
  Lab lab;
  Host host(lab.config("  studio: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/studio/handshake").status, 200);
  EXPECT_EQ(
      http(host.port(), "GET", "/studio/handshake", {{"Authorization", "Bearer anything"}}).status,
      200);
}

TEST(studio_auth, HostErrorsOnStudioRoutesUseDetailBodies) {
  Lab lab;
  Host host(lab.config("  studio: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto r = http(host.port(), "POST", "/studio/handshake", {}, "{}");
  EXPECT_EQ(r.status, 405);
  auto d = json(r);
  ASSERT_TRUE(d.IsObject());
  ASSERT_TRUE(d.HasMember("detail")) << r.body;
  EXPECT_FALSE(d.HasMember("error"));
  EXPECT_EQ(r.body.rfind("{\"detail\": ", 0), 0u) << r.body;
}

TEST(studio_auth, HostPermissionCanGuardStudio) {
  Lab lab;
  std::string yaml = lab.config("  studio: {config: {permission: studio.view}}\n");
  yaml.replace(yaml.find("auth: {enabled: false}"), 22, "auth: {enabled: true}");
  Host host(yaml);
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto r = http(host.port(), "GET", "/studio/handshake");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "{\"detail\": \"Studio requires authentication\"}");
}

// ---- PostgreSQL (run by the studio_postgres test, which starts a server)
// -------------------------

TEST(studio_postgres, CatalogAndChecksumsOnPostgres) {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  if (!url || !*url) GTEST_SKIP() << "PLUGHOST_TEST_POSTGRES_URL is not set";
  Lab lab(2);
  std::string yaml = lab.config(kStudioAndProbe, url);
  Checksums first;
  {
    Host host(yaml);
    ASSERT_TRUE(host.wait_ready()) << host.output();
    auto hs = get_json(host, "/studio/handshake");
    EXPECT_STREQ(hs["database"]["dialect"].GetString(), "postgresql");
    EXPECT_TRUE(hs["database"]["connected"].GetBool());
    EXPECT_TRUE(hs["database"]["latency_ms"].IsNumber());
    EXPECT_TRUE(hs["metadata"]["catalog_error"].IsNull()) << plughost::sdk::to_json(hs);
    first = checksums_of(hs);
    auto s = get_json(host, "/studio/context/summary");
    auto* widgets = find_by(s["models"], "table_name", "probe_widgets");
    auto* tags = find_by(s["models"], "table_name", "probe_widget_tags");
    ASSERT_TRUE(widgets && tags) << plughost::sdk::to_json(s["models"]);
    EXPECT_EQ((*widgets)["field_count"].GetInt(), 3);
    EXPECT_TRUE((*widgets)["has_relations"].GetBool());
    EXPECT_EQ((*tags)["field_count"].GetInt(), 3);
    EXPECT_TRUE((*tags)["has_relations"].GetBool());
    EXPECT_EQ(s["model_count"].GetInt(), static_cast<int>(s["models"].Size()));
    host.signal(SIGTERM);
    EXPECT_EQ(host.wait_exit(), 0);
  }
  EXPECT_EQ(checksums_after_start(yaml), first);
}

}  // namespace
}  // namespace studio_test
