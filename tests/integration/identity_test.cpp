// The host's identity middleware over real HTTP: principals from an authenticator connector
// (the fixture_auth plugin), route permissions, CSRF, origin allow-lists and CORS preflight,
// rate limits, X-Tenant-ID and plugin error formatters.
#include <gtest/gtest.h>
#include <plughost/abi.h>
#include <rapidjson/document.h>

#include <ctime>
#include <map>
#include <memory>
#include <string>

#include "support.hpp"

namespace itest {
namespace {

using Headers = std::map<std::string, std::string>;

std::string config(const std::string& auth) {
  return "version: 1\n"
         "server: {listen: 127.0.0.1:0}\n"
         "log: {format: json}\n"
         "storage: {url: sqlite://plughost.db}\n" +
         auth +
         "plugins_dir: " FIXTURE_PLUGIN_DIR
         "\n"
         "plugins:\n"
         "  fixture_auth:\n"
         "    allowed_origins: [\"https://good.example\"]\n"
         "  fixture_good: {}\n";
}

const char* kAuthOn =
    "auth:\n"
    "  enabled: true\n"
    "rate_limits:\n"
    "  classes: {tight: {limit: 3, window_seconds: 3600}}\n";

Headers bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

std::string str(const rapidjson::Value& v, const char* key) {
  return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "<missing>";
}

void expect_fx_error(const HttpResponse& r, int status, const std::string& code,
                     const std::string& detail = "") {
  EXPECT_EQ(r.status, status) << r.body;
  auto d = json(r);
  ASSERT_TRUE(d.IsObject()) << r.body;
  EXPECT_EQ(d["fx_status"].GetInt(), status);
  EXPECT_EQ(str(d, "fx_code"), code) << r.body;
  EXPECT_EQ(str(d, "fx_detail"), detail) << r.body;
}

class Identity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    host_ = new Host(config(kAuthOn));
    ASSERT_TRUE(host_->wait_ready()) << host_->output();
  }
  static void TearDownTestSuite() {
    delete host_;
    host_ = nullptr;
  }
  HttpResponse get(const std::string& path, const Headers& h = {}) {
    return http(host_->port(), "GET", path, h);
  }
  HttpResponse post(const std::string& path, const Headers& h = {}) {
    return http(host_->port(), "POST", path, h, "{}");
  }
  static Host* host_;
};
Host* Identity::host_ = nullptr;

TEST_F(Identity, PublicRouteServesAnonymousCallers) {
  auto r = get("/fx/public");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  EXPECT_EQ(str(d["principal"], "kind"), "anonymous");
  EXPECT_EQ(str(d["principal"], "scheme"), "none");
  EXPECT_TRUE(d["principal"]["auth_enabled"].GetBool());
  EXPECT_EQ(d["principal"]["permissions"].Size(), 0u);
}

TEST_F(Identity, AnonymousCallerGets401InThePluginsOwnEnvelope) {
  expect_fx_error(get("/fx/me"), 401, "UNAUTHORIZED");
}

TEST_F(Identity, PluginWithoutFormatterGetsTheHostEnvelope) {
  auto r = get("/api/good/hello");
  EXPECT_EQ(r.status, 401);
  auto d = json(r);
  ASSERT_TRUE(d.HasMember("error")) << r.body;
  EXPECT_EQ(str(d["error"], "code"), "UNAUTHORIZED");
  EXPECT_EQ(str(d["error"], "trace_id"), r.header("x-trace-id"));
  EXPECT_EQ(get("/api/good/hello", bearer("tok-viewer-2")).status, 200);
}

TEST_F(Identity, ViewerIsForbiddenWhereAdminIsAllowed) {
  expect_fx_error(get("/fx/admin", bearer("tok-viewer-7")), 403, "FORBIDDEN", "users.manage");
  auto r = get("/fx/admin", bearer("tok-admin-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  EXPECT_EQ(str(d["principal"], "id"), "1");
  EXPECT_EQ(str(d["principal"], "scheme"), "bearer");
  EXPECT_EQ(str(d["principal"], "via"), "fixture");  // the authenticator's own members pass
  ASSERT_EQ(d["principal"]["permissions"].Size(), 1u);
  EXPECT_EQ(std::string(d["principal"]["permissions"][0].GetString()), "*");
}

TEST_F(Identity, EveryCredentialSchemeResolvesAPrincipal) {
  auto by_cookie = json(get("/fx/me", {{"Cookie", "fx_session=editor:3"}}));
  EXPECT_EQ(str(by_cookie["principal"], "scheme"), "session");
  EXPECT_EQ(str(by_cookie["principal"], "id"), "3");
  EXPECT_TRUE(by_cookie["can_sync"].GetBool());  // editor holds source.sync
  auto by_key = json(get("/fx/me", {{"X-API-Key", "key-viewer-4"}}));
  EXPECT_EQ(str(by_key["principal"], "scheme"), "api_key");
  EXPECT_FALSE(by_key["can_sync"].GetBool());
  // Default order: the session cookie is tried before the bearer token.
  auto both = get("/fx/admin",
                  {{"Cookie", "fx_session=viewer:5"}, {"Authorization", "Bearer tok-admin-1"}});
  EXPECT_EQ(both.status, 403);
}

TEST_F(Identity, UnknownOrFailingCredentialsLeaveTheCallerAnonymous) {
  expect_fx_error(get("/fx/me", bearer("not-a-token")), 401, "UNAUTHORIZED");
  expect_fx_error(get("/fx/me", bearer("tok-admin-explode")), 401, "UNAUTHORIZED");
  auto pub = json(get("/fx/public", bearer("tok-admin-explode")));
  EXPECT_EQ(str(pub["principal"], "kind"), "anonymous");
  EXPECT_EQ(get("/fx/public").status, 200);  // the failing authenticator took nothing down
  EXPECT_NE(host_->output().find("authenticator failed"), std::string::npos);
}

TEST_F(Identity, PartialPrincipalReachesOnlyPublicRoutes) {
  Headers partial{{"Cookie", "fx_session=partial:9"}};
  expect_fx_error(get("/fx/me", partial), 401, "UNAUTHORIZED");
  auto d = json(get("/fx/public", partial));
  EXPECT_TRUE(d["principal"]["partial"].GetBool());
  EXPECT_EQ(str(d["principal"], "id"), "9");
  EXPECT_EQ(d["principal"]["permissions"].Size(), 0u);
}

TEST_F(Identity, WildcardPermissionsCoverTheirPrefixOnly) {
  EXPECT_EQ(get("/fx/sync", bearer("scoped-source.*")).status, 200);
  EXPECT_EQ(get("/fx/sync", bearer("scoped-source.sync")).status, 200);
  EXPECT_EQ(get("/fx/sync", bearer("scoped-sources.*")).status, 403);
  EXPECT_EQ(get("/fx/sync", bearer("scoped-source")).status, 403);
  EXPECT_EQ(get("/fx/sync", bearer("scoped-source.sync.extra")).status, 403);
}

TEST_F(Identity, NoSpellingOfAnAdminPathLetsAViewerIn) {
  Headers viewer = bearer("tok-viewer-7");
  const std::map<std::string, int> spellings = {
      {"/fx/admin/users/1", 403},           {"/fx/admin/users/1/", 403},
      {"/fx//admin//users/1", 403},         {"/fx/%61dmin/users/1", 403},
      {"/fx/admin%2Fusers/1", 403},         {"/FX/admin/users/1", 404},
      {"/fx/Admin/users/1", 404},           {"/fx/x/../admin/users/1", 400},
      {"/fx/%2e%2e/fx/admin/users/1", 400}, {"/fx/./admin/users/1", 400},
      {"/fx/admin/users/1%00", 400}};
  for (const auto& [path, expected] : spellings) {
    auto r = get(path, viewer);
    EXPECT_EQ(r.status, expected) << path << " " << r.body;
    EXPECT_NE(r.status, 200) << path;
  }
  EXPECT_EQ(get("/fx/admin/users/1/", bearer("tok-admin-1")).status, 200);
}

TEST_F(Identity, CookieAuthenticatedWritesNeedCsrfProof) {
  Headers cookie{{"Cookie", "fx_session=admin:1"}};
  expect_fx_error(post("/fx/write", cookie), 403, "CSRF_FAILED");
  Headers with_header = cookie;
  with_header["X-Requested-With"] = "XMLHttpRequest";
  EXPECT_EQ(post("/fx/write", with_header).status, 200);
  EXPECT_EQ(
      post("/fx/write", {{"Cookie", "fx_session=admin:1"}, {"X-CSRF-Protection", "1"}}).status,
      200);
  Headers double_submit{{"Cookie", "fx_session=admin:1; csrftoken=abc123"},
                        {"X-CSRFToken", "abc123"}};
  EXPECT_EQ(post("/fx/write", double_submit).status, 200);
  double_submit["X-CSRFToken"] = "abc124";
  expect_fx_error(post("/fx/write", double_submit), 403, "CSRF_FAILED");
  EXPECT_EQ(post("/fx/write", bearer("tok-admin-1")).status, 200);  // tokens need no proof
  EXPECT_EQ(post("/fx/hook", cookie).status, 200);                  // route opted out
  EXPECT_EQ(get("/fx/me", cookie).status, 200);                     // safe method
}

TEST_F(Identity, AnonymousCookieClientsNeedCsrfProofToo) {
  expect_fx_error(post("/fx/anon-write", {{"Cookie", "csrftoken=zzz"}}), 403, "CSRF_FAILED");
  EXPECT_EQ(post("/fx/anon-write", {{"Cookie", "csrftoken=zzz"}, {"X-CSRFToken", "zzz"}}).status,
            200);
  EXPECT_EQ(post("/fx/anon-write").status, 200);  // not a cookie client
}

TEST_F(Identity, FlaggedRouteIssuesACsrfCookieOnlyWhenMissing) {
  auto first = get("/fx/page");
  ASSERT_EQ(first.status, 200);
  std::string cookie = first.header("set-cookie");
  ASSERT_EQ(cookie.rfind("csrftoken=", 0), 0u) << cookie;
  std::string token = cookie.substr(10, cookie.find(';') - 10);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
  EXPECT_EQ(get("/fx/page", {{"Cookie", "csrftoken=" + token}}).has("set-cookie"), false);
  EXPECT_NE(get("/fx/page").header("set-cookie"), cookie);  // a fresh token each time
}

TEST_F(Identity, OriginAllowListRefusesOthersAndAnswersPreflight) {
  auto ok = get("/fx/public", {{"Origin", "https://good.example"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.header("access-control-allow-origin"), "https://good.example");
  EXPECT_EQ(ok.header("vary"), "Origin");
  expect_fx_error(get("/fx/public", {{"Origin", "https://evil.example"}}), 403,
                  "ORIGIN_NOT_ALLOWED", "https://evil.example");
  expect_fx_error(get("/fx/public", {{"Origin", "https://GOOD.example"}}), 403,
                  "ORIGIN_NOT_ALLOWED", "https://GOOD.example");  // exact match only
  expect_fx_error(get("/fx/public", {{"Origin", "null"}}), 403, "ORIGIN_NOT_ALLOWED", "null");
  EXPECT_EQ(ok.header("access-control-allow-credentials"), "true");
  EXPECT_EQ(get("/fx/public").status, 200);  // no Origin: same-origin/CLI

  auto pre = http(host_->port(), "OPTIONS", "/fx/admin",
                  {{"Origin", "https://good.example"},
                   {"Access-Control-Request-Method", "POST"},
                   {"Access-Control-Request-Headers", "content-type, x-csrftoken"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("access-control-allow-origin"), "https://good.example");
  EXPECT_NE(pre.header("access-control-allow-methods").find("POST"), std::string::npos);
  EXPECT_NE(pre.header("access-control-allow-methods").find("GET"), std::string::npos);
  EXPECT_EQ(pre.header("access-control-allow-headers"), "content-type, x-csrftoken");
  EXPECT_EQ(pre.header("access-control-max-age"), "86400");
  auto denied =
      http(host_->port(), "OPTIONS", "/fx/admin",
           {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(denied.status, 403);
  // A plugin without an allow-list neither checks origins nor answers preflights.
  EXPECT_EQ(get("/api/good/hello",
                {{"Origin", "https://evil.example"}, {"Authorization", "Bearer tok-admin-1"}})
                .status,
            200);
  EXPECT_EQ(http(host_->port(), "OPTIONS", "/api/good/hello",
                 {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}})
                .status,
            405);
}

TEST_F(Identity, CrossSiteBrowserWritesAreRefusedUnlessTheSiteIsListedOrATokenIsUsed) {
  // What a browser sends when another site's form or script posts here.
  Headers cross{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}};
  EXPECT_EQ(post("/fx/anon-write", cross).status, 403);
  Headers listed{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://good.example"}};
  EXPECT_EQ(post("/fx/anon-write", listed).status, 200);
  Headers no_origin{{"Sec-Fetch-Site", "cross-site"}};
  expect_fx_error(post("/fx/anon-write", no_origin), 403, "CSRF_FAILED");
  Headers with_token{{"Sec-Fetch-Site", "cross-site"}, {"Authorization", "Bearer tok-admin-1"}};
  EXPECT_EQ(post("/fx/write", with_token).status, 200);
  EXPECT_EQ(post("/fx/anon-write", {{"Sec-Fetch-Site", "same-origin"}}).status, 200);
  EXPECT_EQ(get("/fx/public", {{"Sec-Fetch-Site", "cross-site"}}).status, 200);  // reads pass
}

TEST_F(Identity, RateLimitCountsPerCallerWithHeadersThen429) {
  Headers caller = bearer("tok-viewer-rate1");
  for (int i = 0; i < 3; ++i) {
    auto r = get("/fx/tight", caller);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-ratelimit-limit"), "3");
    EXPECT_EQ(r.header("x-ratelimit-remaining"), std::to_string(2 - i));
    EXPECT_GT(std::stoll(r.header("x-ratelimit-reset")),
              static_cast<long long>(std::time(nullptr)));
  }
  auto limited = get("/fx/tight", caller);
  expect_fx_error(limited, 429, "RATE_LIMITED");
  EXPECT_GT(std::stoi(limited.header("retry-after")), 0);
  EXPECT_EQ(limited.header("x-ratelimit-remaining"), "0");
  EXPECT_EQ(get("/fx/tight", bearer("tok-viewer-rate2")).status, 200);  // its own budget
  auto unlimited = get("/fx/unlimited", caller);
  EXPECT_EQ(unlimited.status, 200);
  EXPECT_FALSE(unlimited.has("x-ratelimit-limit"));
  // The default class (standard, 120/min) applies to routes that name none.
  EXPECT_EQ(get("/fx/me", caller).header("x-ratelimit-limit"), "120");
}

TEST_F(Identity, TenantHeaderIsCarriedAndValidated) {
  EXPECT_EQ(str(json(get("/fx/public")), "tenant"), "default");
  auto acme = json(get("/fx/public", {{"X-Tenant-ID", "acme-01"}}));
  EXPECT_EQ(str(acme, "tenant"), "acme-01");
  EXPECT_EQ(str(acme["principal"], "tenant"), "acme-01");
  EXPECT_EQ(get("/fx/public", {{"X-Tenant-ID", "a b"}}).status, 400);
  EXPECT_EQ(get("/fx/public", {{"X-Tenant-ID", std::string(65, 'a')}}).status, 400);
}

TEST_F(Identity, EventStreamNeedsAPrincipal) {
  EXPECT_EQ(get("/api/events/stream").status, 401);
}

TEST_F(Identity, AccessLogNamesThePrincipalNeverTheCredential) {
  ASSERT_EQ(get("/fx/me", bearer("tok-editor-secretive")).status, 200);
  ASSERT_TRUE(host_->wait_for_output("\"principal\":\"user:secretive\""));
  EXPECT_EQ(host_->output().find("tok-editor-secretive"), std::string::npos);
}

TEST(IdentityConfig, AuthDisabledMakesEveryoneAnAnonymousAdmin) {
  Host host(config("auth: {enabled: false}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto r = http(host.port(), "POST", "/fx/admin", {}, "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  EXPECT_EQ(str(d["principal"], "kind"), "anonymous");
  EXPECT_FALSE(d["principal"]["auth_enabled"].GetBool());
  EXPECT_EQ(std::string(d["principal"]["permissions"][0].GetString()), "*");
}

TEST(IdentityConfig, OrderAndRolesComeFromConfig) {
  Host host(
      config("auth:\n"
             "  order: [bearer, session]\n"
             "  roles: {syncer: [\"source.*\"], viewer: []}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto both = http(host.port(), "GET", "/fx/admin",
                   {{"Cookie", "fx_session=viewer:5"}, {"Authorization", "Bearer tok-admin-1"}});
  EXPECT_EQ(both.status, 403);  // admin is no longer a configured role: no permissions
  auto sync = http(host.port(), "GET", "/fx/sync",
                   {{"Cookie", "fx_session=viewer:5"}, {"Authorization", "Bearer tok-syncer-6"}});
  EXPECT_EQ(sync.status, 200) << sync.body;  // bearer first
}

TEST(IdentityConfig, StarOriginAndLoopbackExemption) {
  Host open(
      "version: 1\n"
      "server: {listen: 127.0.0.1:0}\n"
      "auth: {enabled: false}\n"
      "rate_limits: {exempt_loopback: true, classes: {tight: {limit: 1, window_seconds: 60}}}\n"
      "plugins_dir: " FIXTURE_PLUGIN_DIR
      "\n"
      "plugins:\n"
      "  fixture_auth: {allowed_origins: [\"*\"]}\n");
  ASSERT_TRUE(open.wait_ready()) << open.output();
  for (int i = 0; i < 3; ++i) {
    auto r = http(open.port(), "GET", "/fx/tight", {{"Origin", "https://anywhere.example"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.has("x-ratelimit-limit"));
    // "*" admits every origin without credentials: never a reflected origin with cookies.
    EXPECT_EQ(r.header("access-control-allow-origin"), "*");
    EXPECT_FALSE(r.has("access-control-allow-credentials"));
  }
  auto opaque = http(open.port(), "GET", "/fx/tight", {{"Origin", "null"}});
  EXPECT_EQ(opaque.header("access-control-allow-origin"), "*");
}

}  // namespace
}  // namespace itest

namespace itest {
namespace {

TEST(HostDescribe, PluginsSeeTheHostItsRoutesSettingsStorageAndMigrations) {
  std::string dir = make_temp_dir();
  Host host(
      "version: 1\n"
      "server: {listen: 127.0.0.1:0}\n"
      "auth: {enabled: false}\n"
      "storage: {url: \"sqlite://" +
      dir +
      "/d.db\", pool_size: 3}\n"
      "plugins_dir: " FIXTURE_PLUGIN_DIR
      "\n"
      "plugins:\n"
      "  fixture_store: {}\n"
      "  fixture_auth:\n"
      "    config: {api_token: hunter2, nested: {db_password: pw2, list: [{secret: s3}]},"
      " plain: visible, secrets: {github: gh4}, dsn: \"postgresql://u:pw5@db/x\"}\n");
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto get = [&](const std::string& what) {
    return http(host.port(), "GET", "/fx/describe/" + what);
  };

  auto h = json(get("host"));
  EXPECT_EQ(std::string(h["name"].GetString()), "plughost");
  EXPECT_EQ(std::string(h["abi"].GetString()),
            std::to_string(PH_ABI_MAJOR) + "." + std::to_string(PH_ABI_MINOR));

  auto plugins = json(get("plugins"));
  ASSERT_TRUE(plugins.IsArray());
  bool store_running = false;
  for (const auto& p : plugins.GetArray()) {
    if (std::string(p["name"].GetString()) == "fixture_store") {
      store_running = std::string(p["status"].GetString()) == "running";
    }
  }
  EXPECT_TRUE(store_running);

  auto routes = json(get("routes"));
  bool found = false;
  for (const auto& r : routes.GetArray()) {
    if (std::string(r["path"].GetString()) == "/fx/admin/users/:id") {
      found = std::string(r["permission"].GetString()) == "users.manage";
    }
  }
  EXPECT_TRUE(found);

  auto settings = get("settings");
  EXPECT_EQ(settings.body.find("hunter2"), std::string::npos) << settings.body;
  EXPECT_EQ(settings.body.find("pw2"), std::string::npos);
  EXPECT_EQ(settings.body.find("s3"), std::string::npos);
  EXPECT_EQ(settings.body.find("gh4"), std::string::npos);  // a secret-like key's whole object
  EXPECT_EQ(settings.body.find("pw5"), std::string::npos);  // a password inside a URL
  EXPECT_NE(settings.body.find("postgresql://u:***@db/x"), std::string::npos) << settings.body;
  auto s = json(settings);
  const auto& fx = s["plugins"]["fixture_auth"]["config"];
  EXPECT_EQ(std::string(fx["api_token"].GetString()), "***");
  EXPECT_EQ(std::string(fx["nested"]["db_password"].GetString()), "***");
  EXPECT_EQ(std::string(fx["plain"].GetString()), "visible");
  EXPECT_EQ(s["storage"]["pool_size"].GetInt(), 3);

  auto st = json(get("storage"));
  EXPECT_TRUE(st["connected"].GetBool());
  EXPECT_EQ(std::string(st["dialect"].GetString()), "sqlite");
  EXPECT_EQ(st["pool_size"].GetInt(), 3);
  // Task workers and the event poller borrow sessions too, so only the bound is exact.
  EXPECT_GE(st["pool_available"].GetInt(), 0);
  EXPECT_LE(st["pool_available"].GetInt(), 3);
  EXPECT_TRUE(st["latency_ms"].IsNumber());
  EXPECT_TRUE(st["last_error"].IsNull());

  auto migrations = json(get("migrations"));
  int store = 0;
  for (const auto& m : migrations.GetArray()) {
    if (std::string(m["plugin"].GetString()) == "fixture_store") {
      ++store;
      EXPECT_TRUE(m["applied"].GetBool());
      EXPECT_TRUE(m["applied_at"].IsString());
      EXPECT_FALSE(std::string(m["checksum"].GetString()).empty());
    }
  }
  EXPECT_GT(store, 0);
  EXPECT_EQ(get("nonsense").status, 404);
}

}  // namespace
}  // namespace itest

namespace itest {
namespace {

TEST(IdentityConfig, TrustedProxyForwardsTheClientAddressForLimitsAndPlugins) {
  Host host(
      "version: 1\n"
      "server: {listen: 127.0.0.1:0, trusted_proxies: [\"127.0.0.1\", \"10.0.0.2\"]}\n"
      "auth: {enabled: false}\n"
      "rate_limits: {classes: {tight: {limit: 1, window_seconds: 3600}}}\n"
      "plugins_dir: " FIXTURE_PLUGIN_DIR
      "\n"
      "plugins:\n"
      "  fixture_auth: {}\n"
      "  fixture_good: {}\n");
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto remote = [&](const std::string& xff) {
    auto r = http(host.port(), "GET", "/api/good/items/1", {{"X-Forwarded-For", xff}});
    return std::string(json(r)["remote"].GetString());
  };
  EXPECT_EQ(remote("203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(remote("198.51.100.1, 203.0.113.9, 10.0.0.2"), "203.0.113.9");  // proxies skipped
  EXPECT_EQ(remote("2001:db8::7"), "2001:db8::7");
  EXPECT_EQ(remote("not an address"), "127.0.0.1");  // garbage: the peer itself
  // One budget per forwarded client, not one for everyone behind the proxy.
  EXPECT_EQ(http(host.port(), "GET", "/fx/tight", {{"X-Forwarded-For", "203.0.113.1"}}).status,
            200);
  EXPECT_EQ(http(host.port(), "GET", "/fx/tight", {{"X-Forwarded-For", "203.0.113.1"}}).status,
            429);
  EXPECT_EQ(http(host.port(), "GET", "/fx/tight", {{"X-Forwarded-For", "203.0.113.2"}}).status,
            200);
}

TEST(IdentityConfig, UntrustedPeersCannotForgeTheirAddress) {
  Host host(
      "version: 1\n"
      "server: {listen: 127.0.0.1:0}\n"
      "auth: {enabled: false}\n"
      "plugins_dir: " FIXTURE_PLUGIN_DIR
      "\n"
      "plugins:\n"
      "  fixture_good: {}\n");
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto r = http(host.port(), "GET", "/api/good/items/1", {{"X-Forwarded-For", "203.0.113.9"}});
  EXPECT_EQ(std::string(json(r)["remote"].GetString()), "127.0.0.1");
}

}  // namespace
}  // namespace itest
