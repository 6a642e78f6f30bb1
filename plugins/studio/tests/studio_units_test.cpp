// Unit tests of the studio plugin's pure parts: SHA-256 and checksums, migration heads and
// conflicts, capabilities, documents built from made-up hosts, access checks, timestamps.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <regex>

#include "access.hpp"
#include "capabilities.hpp"
#include "catalog.hpp"
#include "checksums.hpp"
#include "documents.hpp"
#include "migration_summary.hpp"
#include "sha256.hpp"
#include "timestamp.hpp"

namespace studio {
namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

MigrationRow applied(const std::string& plugin, const std::string& name, const std::string& at) {
  return {plugin, name, "c-" + name, true, at};
}
MigrationRow pending(const std::string& plugin, const std::string& name) {
  return {plugin, name, "c-" + name, false, std::nullopt};
}

class studio_units : public ::testing::Test {
 protected:
  void SetUp() override { init_crypto(); }
};

TEST_F(studio_units, Sha256MatchesFips180Vectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_F(studio_units, ConstantTimeEqualComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equal("s3cret", "s3cret"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cres"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cret "));
  EXPECT_FALSE(constant_time_equal("", "x"));
}

TEST_F(studio_units, CanonicalJsonSortsKeysAtEveryDepth) {
  auto a = parse(R"({"b":1,"a":{"d":[{"z":1,"y":2}],"c":null}})");
  auto b = parse(R"({"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1})");
  EXPECT_EQ(canonical_json(a), R"({"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1})");
  EXPECT_EQ(canonical_json(a), canonical_json(b));
  EXPECT_EQ(short_checksum(canonical_json(a)), sha256_hex(canonical_json(b)).substr(0, 16));
}

TEST_F(studio_units, ChecksumsAreSixteenHexAndZeroWithoutMigrations) {
  HostSnapshot s;
  s.settings.SetObject();
  Checksums none = compute_checksums(s);
  EXPECT_EQ(none.migrations, kEmptyChecksum);
  EXPECT_EQ(none.schema, kEmptyChecksum);
  s.migrations = {applied("p", "0001_a", "2026-01-01T00:00:00Z")};
  Checksums one = compute_checksums(s);
  EXPECT_TRUE(std::regex_match(one.migrations, std::regex("[0-9a-f]{16}")));
  EXPECT_NE(one.migrations, kEmptyChecksum);
  EXPECT_NE(one.schema, kEmptyChecksum);
  EXPECT_EQ(one.settings, none.settings);
  EXPECT_EQ(one.routes, none.routes);
}

TEST_F(studio_units, RoutesChecksumIgnoresOrderButNotMethods) {
  std::vector<RouteInfo> a = {
      {"GET", "/x", "p", "public"}, {"POST", "/x", "p", "public"}, {"GET", "/y", "q", "public"}};
  std::vector<RouteInfo> b = {
      {"GET", "/y", "q", "public"}, {"POST", "/x", "p", "public"}, {"GET", "/x", "p", "public"}};
  HostSnapshot sa, sb;
  sa.settings.SetObject();
  sb.settings.SetObject();
  sa.routes = a;
  sb.routes = b;
  EXPECT_EQ(compute_checksums(sa).routes, compute_checksums(sb).routes);
  sb.routes.pop_back();
  EXPECT_NE(compute_checksums(sa).routes, compute_checksums(sb).routes);
}

TEST_F(studio_units, MigrationsChecksumFollowsTheLedger) {
  std::vector<MigrationRow> before = {pending("p", "0001_a")};
  std::vector<MigrationRow> after = {applied("p", "0001_a", "2026-01-01T00:00:00Z")};
  EXPECT_NE(migrations_checksum(before), migrations_checksum(after));
  EXPECT_EQ(migrations_checksum(after), migrations_checksum(after));
}

TEST_F(studio_units, MigrationSummaryCountsPerPluginWithHeads) {
  auto m = summarize_migrations({applied("blog", "0001_init", "2026-01-01T00:00:01Z"),
                                 applied("blog", "0002_tags", "2026-01-01T00:00:02Z"),
                                 pending("blog", "0003_slugs"),
                                 applied("auth", "0001_users", "2026-01-01T00:00:03Z")});
  EXPECT_EQ(m.total, 4);
  EXPECT_EQ(m.applied, 3);
  EXPECT_EQ(m.pending, 1);
  ASSERT_EQ(m.apps.size(), 2u);
  EXPECT_EQ(m.apps[0].app_label, "auth");
  EXPECT_EQ(m.apps[1].app_label, "blog");
  EXPECT_EQ(m.apps[1].pending, 1);
  EXPECT_EQ(m.apps[1].head_migrations, std::vector<std::string>{"0003_slugs"});
  EXPECT_EQ(m.apps[1].last_applied, "0002_tags");
  EXPECT_FALSE(m.apps[1].has_conflicts);
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_EQ(m.last_applied, "0001_users");
}

TEST_F(studio_units, NumberedStepsOrderNumericallyNotByText) {
  auto m = summarize_migrations({applied("p", "9_nine", "t1"), applied("p", "10_ten", "t1")});
  EXPECT_EQ(m.apps[0].head_migrations, std::vector<std::string>{"10_ten"});
  EXPECT_EQ(m.last_applied, "10_ten");  // same applied_at: the later step wins
}

TEST_F(studio_units, TwoMigrationsOnTheSameParentAreAConflict) {
  auto heads = summarize_migrations(
      {applied("blog", "0007_x", "t"), applied("blog", "0008_b", "t"), pending("blog", "0008_a")});
  ASSERT_EQ(heads.conflicts.size(), 1u);
  EXPECT_EQ(heads.conflicts[0].heads, (std::vector<std::string>{"0008_a", "0008_b"}));
  EXPECT_EQ(heads.conflicts[0].message,
            "App 'blog' has 2 conflicting head migrations that need to be merged.");
  EXPECT_TRUE(heads.apps[0].has_conflicts);
  EXPECT_EQ(heads.apps[0].head_migrations, (std::vector<std::string>{"0008_a", "0008_b"}));

  auto inner = summarize_migrations({applied("p", "0001_a", "t"), applied("p", "0002_b", "t"),
                                     applied("p", "0002_c", "t"), applied("p", "0003_merge", "t")});
  ASSERT_EQ(inner.conflicts.size(), 1u);
  EXPECT_EQ(inner.conflicts[0].order, "0002");
  EXPECT_EQ(inner.apps[0].head_migrations, std::vector<std::string>{"0003_merge"});

  auto linear = summarize_migrations({applied("p", "0001_a", "t"), pending("p", "0002_b")});
  EXPECT_TRUE(linear.conflicts.empty());
  EXPECT_FALSE(linear.apps[0].has_conflicts);
}

TEST_F(studio_units, PendingIsNeverNegative) {
  // Ledger rows of a plugin no longer loaded count as applied migrations of that app.
  auto m = summarize_migrations({applied("gone", "0001_a", "t")});
  EXPECT_EQ(m.pending, 0);
  EXPECT_EQ(m.apps[0].pending, 0);
}

HostSnapshot host_with(std::vector<RouteInfo> routes, std::vector<ConnectorEntry> connectors,
                       bool connected = true) {
  HostSnapshot s;
  s.settings.SetObject();
  s.routes = std::move(routes);
  s.connectors = std::move(connectors);
  s.storage.connected = connected;
  s.storage.dialect = "sqlite";
  return s;
}

TEST_F(studio_units, BareHostOffersSchemaAndMigrationsOnly) {
  auto s = host_with({{"GET", "/studio/handshake", "studio", "public"}}, {});
  EXPECT_EQ(derive_capabilities(s, false),
            (std::vector<std::string>{"read_schema", "read_migrations"}));
  EXPECT_EQ(derive_capabilities(s, true),
            (std::vector<std::string>{"read_schema", "write_data", "read_migrations",
                                      "apply_migrations", "debug_panels"}));
}

TEST_F(studio_units, CapabilitiesFollowRoutesAndConnectorsInDocumentOrder) {
  auto s = host_with({{"POST", "/api/query", "dango", "query.execute"},
                      {"POST", "/api/datachat/chat/", "automate", "authenticated"},
                      {"GET", "/api/auth/users", "accounts", "users.manage"}},
                     {{"llm", "local", "llm_plugin"}});
  EXPECT_EQ(derive_capabilities(s, false),
            (std::vector<std::string>{"read_schema", "read_data", "read_migrations", "ai_tools",
                                      "ai_query", "admin_access"}));
}

TEST_F(studio_units, NoDatabaseMeansNoDataCapabilities) {
  auto s = host_with({{"POST", "/api/query", "dango", "query.execute"}}, {}, false);
  EXPECT_EQ(derive_capabilities(s, true), std::vector<std::string>{"debug_panels"});
}

TEST_F(studio_units, EmbedderAloneOffersAiToolsOnly) {
  auto s = host_with({}, {{"embedder", "hashing", "rag"}});
  auto caps = derive_capabilities(s, false);
  EXPECT_NE(std::find(caps.begin(), caps.end(), "ai_tools"), caps.end());
  EXPECT_EQ(std::find(caps.begin(), caps.end(), "ai_query"), caps.end());
  EXPECT_EQ(std::find(caps.begin(), caps.end(), "ai_codegen"), caps.end());
}

TEST_F(studio_units, EndpointsListOnlyRoutesThatExist) {
  auto e = existing_endpoints({{"GET", "/studio/health", "studio", "public"},
                               {"POST", "/api/query", "dango", "query.execute"}});
  std::vector<std::pair<std::string, std::string>> want = {{"health", "/studio/health"},
                                                           {"query_execute", "/api/query"}};
  EXPECT_EQ(e, want);
}

TEST_F(studio_units, HealthIsDegradedWithoutASuccessfulProbe) {
  StorageStatus ok;
  ok.connected = true;
  ok.latency_ms = 0.2;
  EXPECT_STREQ(health_status(ok), "healthy");
  StorageStatus down;
  down.last_error = "connection refused";
  EXPECT_STREQ(health_status(down), "degraded");
  HostSnapshot s;
  s.storage = down;
  s.host.version = "0.1.0";
  auto h = parse(health_json(s, "2026-01-01T00:00:00.000000+00:00"));
  EXPECT_STREQ(h["status"].GetString(), "degraded");
  EXPECT_FALSE(h["database"]["connected"].GetBool());
  EXPECT_STREQ(h["database"]["last_error"].GetString(), "connection refused");
  EXPECT_TRUE(h["database"]["latency_ms"].IsNull());
}

TEST_F(studio_units, SummaryModelsComeFromTheCatalog) {
  HostSnapshot s = host_with({}, {});
  s.catalog.tables = {{"blog_posts",
                       {{"id", "INTEGER", true, true}, {"author_id", "INTEGER", true, false}},
                       {{"author_id", "users"}},
                       false},
                      {"users", {{"id", "INTEGER", true, true}}, {}, true},
                      {"logs", {{"line", "TEXT", false, false}}, {}, false}};
  auto d = parse(context_summary_json(s));
  EXPECT_EQ(d["model_count"].GetInt(), 3);
  const auto& models = d["models"];
  EXPECT_STREQ(models[0]["name"].GetString(), "BlogPosts");
  EXPECT_STREQ(models[0]["table_name"].GetString(), "blog_posts");
  EXPECT_EQ(models[0]["field_count"].GetInt(), 2);
  EXPECT_TRUE(models[0]["has_relations"].GetBool());
  EXPECT_TRUE(models[1]["has_relations"].GetBool());  // referenced by blog_posts
  EXPECT_FALSE(models[2]["has_relations"].GetBool());
}

TEST_F(studio_units, CatalogReaderJoinsColumnsAndForeignKeys) {
  std::vector<std::string> seen;
  auto query = [&](const std::string& sql) -> Rows {
    seen.push_back(sql);
    if (sql.find("pragma_table_info") != std::string::npos) {
      return {{"a", "id", "INTEGER", "0", "1"},
              {"a", "b_id", "INTEGER", "1", "0"},
              {"b", "id", "INTEGER", "0", "1"}};
    }
    return {{"a", "b_id", "b"}};
  };
  Catalog c = read_catalog("sqlite", query);
  ASSERT_EQ(c.tables.size(), 2u);
  EXPECT_EQ(c.tables[0].columns.size(), 2u);
  EXPECT_TRUE(c.tables[0].columns[0].primary_key);
  EXPECT_TRUE(c.tables[0].columns[1].not_null);
  EXPECT_EQ(c.tables[0].foreign_keys[0].references, "b");
  EXPECT_TRUE(c.tables[1].referenced);
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_THROW(read_catalog("oracle", query), std::runtime_error);
  EXPECT_EQ(model_name("plughost_task_queue"), "PlughostTaskQueue");
}

TEST_F(studio_units, OriginRulesFollowStudio) {
  std::vector<std::string> list = {"https://studio.aksara.dev", "http://localhost:3000"};
  EXPECT_TRUE(origin_allowed(list, std::nullopt));
  EXPECT_TRUE(origin_allowed(list, std::string_view("http://localhost:3000")));
  EXPECT_FALSE(origin_allowed(list, std::string_view("http://localhost:3000/")));
  EXPECT_FALSE(origin_allowed(list, std::string_view("HTTPS://studio.aksara.dev")));
  EXPECT_TRUE(origin_allowed({"*"}, std::string_view("https://x.example")));
  EXPECT_TRUE(origin_allowed({}, std::string_view("https://x.example")));
}

TEST_F(studio_units, AccessRefusesWithStudioBodies) {
  AccessPolicy p{std::vector<std::string>{"http://localhost:3000"}, "tok"};
  auto bad_origin = check_access(p, std::string_view("https://evil.example"), std::nullopt);
  ASSERT_TRUE(bad_origin);
  EXPECT_EQ(bad_origin->status, 403);
  EXPECT_EQ(bad_origin->body, R"({"detail": "Origin 'https://evil.example' is not allowed"})");
  auto no_token = check_access(p, std::nullopt, std::nullopt);
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  EXPECT_EQ(no_token->body, R"({"detail": "Studio requires authentication"})");
  EXPECT_TRUE(check_access(p, std::nullopt, std::string_view("Bearer tok2")));
  EXPECT_TRUE(check_access(p, std::nullopt, std::string_view("Basic tok")));
  EXPECT_FALSE(check_access(p, std::nullopt, std::string_view("Bearer tok")));
  EXPECT_FALSE(check_access(p, std::nullopt, std::string_view("bearer tok")));
  EXPECT_EQ(format_host_error(403, "ORIGIN_NOT_ALLOWED", "origin x is not allowed", "https://a\"b"),
            R"({"detail": "Origin 'https://a\"b' is not allowed"})");
  EXPECT_EQ(format_host_error(405, "METHOD_NOT_ALLOWED", "method POST is not allowed", ""),
            R"({"detail": "method POST is not allowed"})");
}

TEST_F(studio_units, TimestampsHaveMicrosecondsAndUtcOffset) {
  using namespace std::chrono;
  system_clock::time_point t{seconds(1705314600) + microseconds(42)};
  EXPECT_EQ(iso_timestamp(t), "2024-01-15T10:30:00.000042+00:00");
  EXPECT_TRUE(std::regex_match(now_timestamp(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00)")));
}

}  // namespace
}  // namespace studio
