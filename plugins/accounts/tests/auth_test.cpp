// Sign-in, sessions, cookies, CSRF, lockout, rate limits, password changes and API keys, over
// HTTP against the real host.
#include <gtest/gtest.h>

#include <thread>

#include "support.hpp"

namespace accounts_test {
namespace {

void expect_message(const HttpResponse& r, int status, const std::string& message) {
  EXPECT_EQ(r.status, status) << r.body;
  auto d = json(r);
  EXPECT_EQ(str(d, "message"), message) << r.body;
}

void expect_s001(const HttpResponse& r) {
  EXPECT_EQ(r.status, 401) << r.body;
  auto d = json(r);
  EXPECT_EQ(str(d, "error_code"), "DANGO-S001") << r.body;
  EXPECT_EQ(str(d, "message"), "Authentication required.");
}

TEST(accounts_login, SetsHttpOnlySessionAndReadableCsrfCookiesAndAnswersTheUser) {
  auto host = start_host();
  Client c(host->port());
  auto r = c.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword));
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  EXPECT_EQ(str(d["user"], "email"), kAdminEmail);
  EXPECT_EQ(str(d["user"], "role"), "admin");
  EXPECT_FALSE(d["must_change_password"].GetBool());
  EXPECT_FALSE(d["requires_2fa_setup"].GetBool());
  for (const char* field :
       {"id", "is_active", "totp_enabled", "oauth_provider", "failed_login_attempts",
        "locked_until", "last_login", "invite_expires_at", "created_at", "updated_at",
        "has_pending_invite"}) {
    EXPECT_TRUE(d["user"].HasMember(field)) << field;
  }
  std::string session = c.set_cookie("dango_session");
  EXPECT_NE(session.find("HttpOnly"), std::string::npos) << session;
  EXPECT_NE(session.find("SameSite=Lax"), std::string::npos) << session;
  EXPECT_NE(session.find("Path=/"), std::string::npos) << session;
  EXPECT_EQ(session.find("Secure"), std::string::npos) << "plain http from loopback: " << session;
  EXPECT_EQ(c.cookies["dango_session"].size(), 43u);  // 32 bytes, URL-safe base64
  std::string csrf = c.set_cookie("csrftoken");
  ASSERT_FALSE(csrf.empty());
  EXPECT_EQ(csrf.find("HttpOnly"), std::string::npos) << csrf;

  auto me = c.get("/api/auth/me");
  ASSERT_EQ(me.status, 200) << me.body;
  auto m = json(me);
  EXPECT_TRUE(m["auth_enabled"].GetBool());
  EXPECT_EQ(str(m["user"], "email"), kAdminEmail);
}

TEST(accounts_login, CookieIsSecureBehindHttpsProxy) {
  auto host = start_host();
  Client c(host->port());
  auto r = c.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword),
                  {{"X-Forwarded-Proto", "https"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(c.set_cookie("dango_session").find("Secure"), std::string::npos);
}

TEST(accounts_login, WrongPasswordAndBadBodiesAre400NeverA401) {
  auto host = start_host();
  Client c(host->port());
  expect_message(c.post("/api/auth/login", login_body(kAdminEmail, "wrong-password")), 400,
                 "Invalid email or password");
  expect_message(c.post("/api/auth/login", login_body("nobody@example.com", "whatever-pass")), 400,
                 "Invalid email or password");
  expect_message(c.post("/api/auth/login", "{\"email\":\"a@b.c\"}"), 400, "Invalid request body");
  expect_message(c.post("/api/auth/login", "not json"), 400, "Invalid request body");
  expect_message(c.post("/api/auth/login", login_body(std::string(250, 'a') + "@b.cd", "x")), 400,
                 "Invalid request body");
  EXPECT_TRUE(c.cookies.empty());
}

TEST(accounts_me, AnonymousWithAuthOnIs401S001) {
  auto host = start_host();
  expect_s001(http(host->port(), "GET", "/api/auth/me"));
  expect_s001(http(host->port(), "GET", "/api/auth/me", {{"Cookie", "dango_session=forged"}}));
}

TEST(accounts_lockout, FifthFailureLocksThePairWith423UntilAnAdminUnlocks) {
  auto host = start_host();
  auto adm = admin(host->port());
  int64_t id = create_user(*adm, "eve@example.com", "viewer", "Sunny-Meadow-Passphrase-42");
  Client c(host->port());
  for (int i = 0; i < 5; ++i) {
    expect_message(c.post("/api/auth/login", login_body("eve@example.com", "bad-guess")), 400,
                   "Invalid email or password");
  }
  auto locked =
      c.post("/api/auth/login", login_body("eve@example.com", "Sunny-Meadow-Passphrase-42"));
  ASSERT_EQ(locked.status, 423) << locked.body;
  auto d = json(locked);
  EXPECT_EQ(str(d, "message"), "Account is temporarily locked");
  EXPECT_GT(d["remaining_seconds"].GetInt64(), 890);
  EXPECT_LE(d["remaining_seconds"].GetInt64(), 900);

  auto users = json(adm->get("/api/admin/users"));
  bool seen = false;
  for (const auto& u : users["users"].GetArray()) {
    if (u["id"].GetInt64() != id) continue;
    seen = true;
    EXPECT_EQ(u["failed_login_attempts"].GetInt64(), 5);
    EXPECT_TRUE(u["locked_until"].IsString());
  }
  EXPECT_TRUE(seen);

  auto unlock = adm->post("/api/admin/users/" + std::to_string(id) + "/unlock");
  ASSERT_EQ(unlock.status, 200) << unlock.body;
  EXPECT_EQ(
      c.post("/api/auth/login", login_body("eve@example.com", "Sunny-Meadow-Passphrase-42")).status,
      200);
}

TEST(accounts_lockout, ConcurrentFailuresAllCount) {
  HostSetup s;
  s.accounts = "      lockout_threshold: 8\n";
  auto host = start_host(s);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      http(host->port(), "POST", "/api/auth/login", {}, login_body(kAdminEmail, "wrong-guess"));
    });
  }
  for (auto& t : threads) t.join();
  auto r = http(host->port(), "POST", "/api/auth/login", {}, login_body(kAdminEmail, kAdminPassword));
  EXPECT_EQ(r.status, 423) << r.body;
}

TEST(accounts_lockout, UnknownEmailsLockToo) {
  auto host = start_host();
  Client c(host->port());
  for (int i = 0; i < 5; ++i) c.post("/api/auth/login", login_body("ghost@example.com", "guess-1"));
  EXPECT_EQ(c.post("/api/auth/login", login_body("ghost@example.com", "guess-1")).status, 423);
  // Another e-mail from the same address is not affected.
  EXPECT_EQ(c.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword)).status, 200);
}

TEST(accounts_lockout, LockEndsAfterLockoutSeconds) {
  HostSetup s;
  s.accounts = "      lockout_seconds: 1\n      lockout_threshold: 2\n";
  auto host = start_host(s);
  Client c(host->port());
  c.post("/api/auth/login", login_body(kAdminEmail, "bad-guess"));
  c.post("/api/auth/login", login_body(kAdminEmail, "bad-guess"));
  EXPECT_EQ(c.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword)).status, 423);
  EXPECT_TRUE(eventually(
      [&] {
        return c.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword)).status == 200;
      },
      10));
}

TEST(accounts_rate_limit, LoginIsLimitedWith429DangoW002AndRetryAfter) {
  HostSetup s;
  s.login_limit = "{limit: 3, window_seconds: 3600}";
  auto host = start_host(s);
  Client c(host->port());
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(c.post("/api/auth/login", login_body(kAdminEmail, "nope-nope")).status, 429);
  }
  auto r = c.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword));
  ASSERT_EQ(r.status, 429) << r.body;
  auto d = json(r);
  EXPECT_EQ(str(d, "error_code"), "DANGO-W002");
  EXPECT_EQ(str(d, "message"), "Too many requests. Please try again later.");
  EXPECT_TRUE(r.has("retry-after"));
  EXPECT_GE(std::stoi(r.header("retry-after")), 1);
}

TEST(accounts_logout, EndsTheSessionAndClearsTheCookie) {
  auto host = start_host();
  auto c = admin(host->port());
  std::string token = c->cookies["dango_session"];
  auto r = c->post("/api/auth/logout");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json(r)["success"].GetBool());
  EXPECT_NE(c->set_cookie("dango_session").find("Max-Age=0"), std::string::npos);
  expect_s001(http(host->port(), "GET", "/api/auth/me", {{"Cookie", "dango_session=" + token}}));
  expect_s001(c->post("/api/auth/logout"));
}

TEST(accounts_sessions, ListShowsCurrentAndRevokingAnotherEndsItAtOnce) {
  auto host = start_host();
  auto a = admin(host->port());
  auto b = admin(host->port());
  auto list = a->get("/api/auth/sessions");
  ASSERT_EQ(list.status, 200) << list.body;
  auto d = json(list);
  ASSERT_EQ(d["sessions"].Size(), 2u);
  int64_t current = 0, other = 0;
  for (const auto& s : d["sessions"].GetArray()) {
    (s["current"].GetBool() ? current : other) = s["id"].GetInt64();
    EXPECT_TRUE(s.HasMember("ip_address"));
    EXPECT_FALSE(s.HasMember("token_hash"));
  }
  ASSERT_NE(current, 0);
  ASSERT_NE(other, 0);
  expect_message(a->del("/api/auth/sessions/" + std::to_string(current)), 400,
                 "Cannot revoke current session. Use logout.");
  EXPECT_EQ(b->get("/api/auth/me").status, 200);
  auto revoke = a->del("/api/auth/sessions/" + std::to_string(other));
  ASSERT_EQ(revoke.status, 200) << revoke.body;
  EXPECT_TRUE(json(revoke)["success"].GetBool());
  expect_s001(b->get("/api/auth/me"));
  expect_message(a->del("/api/auth/sessions/" + std::to_string(other)), 404, "Session not found");
  expect_message(a->del("/api/auth/sessions/abc"), 404, "Session not found");
}

TEST(accounts_sessions, AbsoluteLifetimeEnds) {
  HostSetup s;
  s.accounts = "      session_absolute_seconds: 1\n";
  auto host = start_host(s);
  auto c = admin(host->port());
  EXPECT_TRUE(eventually([&] { return c->get("/api/auth/me").status == 401; }, 10));
}

TEST(accounts_change_password, ChecksTheRulesAndRevokesEveryOtherSession) {
  auto host = start_host();
  auto a = admin(host->port());
  auto b = admin(host->port());
  auto change = [&](const std::string& current, const std::string& next) {
    return a->post("/api/auth/change-password",
                   "{\"current_password\":\"" + current + "\",\"new_password\":\"" + next + "\"}");
  };
  expect_message(change("wrong-current", "Another-Good-Passphrase-7"), 400,
                 "Current password is incorrect");
  expect_message(change(kAdminPassword, kAdminPassword), 400,
                 "New password must be different from current password");
  for (const char* weak : {"short1", "password123", "admin-is-me-2024"}) {
    auto r = change(kAdminPassword, weak);
    EXPECT_EQ(r.status, 400) << weak;
    auto d = json(r);
    EXPECT_EQ(str(d, "message"), "Password is too weak");
    EXPECT_TRUE(d["issues"].IsArray() && d["issues"].Size() > 0) << r.body;
  }
  auto ok = change(kAdminPassword, "Another-Good-Passphrase-7");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(json(ok)["success"].GetBool());
  EXPECT_EQ(a->get("/api/auth/me").status, 200) << "the caller continues in a new session";
  expect_s001(b->get("/api/auth/me"));
  Client c(host->port());
  EXPECT_EQ(c.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword)).status, 400);
  EXPECT_EQ(c.post("/api/auth/login", login_body(kAdminEmail, "Another-Good-Passphrase-7")).status,
            200);
}

TEST(accounts_csrf, CookieWritesNeedACustomHeaderOrTheDoubleSubmitToken) {
  auto host = start_host();
  auto c = admin(host->port());
  c->send_requested_with = false;
  auto refused = c->post("/api/auth/api-keys", "{\"name\":\"k\"}");
  ASSERT_EQ(refused.status, 403) << refused.body;
  auto d = json(refused);
  EXPECT_EQ(str(d, "error_code"), "DANGO-S002");
  EXPECT_EQ(str(d, "message"), "CSRF validation failed");
  EXPECT_EQ(c->post("/api/auth/api-keys", "{\"name\":\"k\"}", {{"X-Requested-With", "x"}}).status,
            200);
  EXPECT_EQ(c->post("/api/auth/api-keys", "{\"name\":\"k\"}", {{"X-CSRF-Protection", "1"}}).status,
            200);
  EXPECT_EQ(
      c->post("/api/auth/api-keys", "{\"name\":\"k\"}", {{"X-CSRFToken", c->cookies["csrftoken"]}})
          .status,
      200);
  EXPECT_EQ(c->post("/api/auth/api-keys", "{\"name\":\"k\"}", {{"X-CSRFToken", "forged"}}).status,
            403);
}

TEST(accounts_api_keys, CreatedOnceListedByPrefixUsableAndRevokedAtOnce) {
  auto host = start_host();
  auto c = admin(host->port());
  auto created = c->post("/api/auth/api-keys", "{\"name\":\"ci\"}");
  ASSERT_EQ(created.status, 200) << created.body;  // 200, not 201
  auto d = json(created);
  std::string key = str(d, "key");
  ASSERT_EQ(key.rfind("dango_ak_", 0), 0u) << key;
  EXPECT_EQ(str(d, "key_prefix"), key.substr(0, 12));
  EXPECT_EQ(str(d, "name"), "ci");
  int64_t id = d["id"].GetInt64();

  auto list = c->get("/api/auth/api-keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(key), std::string::npos) << "the full key is shown once only";
  EXPECT_NE(list.body.find(key.substr(0, 12)), std::string::npos);

  int port = host->port();
  auto bearer = http(port, "GET", "/api/auth/me", {{"Authorization", "Bearer " + key}});
  ASSERT_EQ(bearer.status, 200) << bearer.body;
  EXPECT_EQ(str(json(bearer), "auth_method"), "bearer");
  EXPECT_EQ(http(port, "GET", "/api/auth/me", {{"X-API-Key", key}}).status, 200);
  // An API key needs no CSRF defence for writes.
  EXPECT_EQ(
      http(port, "POST", "/api/auth/api-keys", {{"X-API-Key", key}}, "{\"name\":\"k2\"}").status,
      200);
  EXPECT_EQ(http(port, "GET", "/api/auth/me", {{"X-API-Key", key + "x"}}).status, 401);

  auto revoke = c->del("/api/auth/api-keys/" + std::to_string(id));
  ASSERT_EQ(revoke.status, 200) << revoke.body;
  EXPECT_EQ(http(port, "GET", "/api/auth/me", {{"Authorization", "Bearer " + key}}).status, 401);
  EXPECT_EQ(http(port, "GET", "/api/auth/me", {{"X-API-Key", key}}).status, 401);
  expect_message(c->del("/api/auth/api-keys/" + std::to_string(id)), 404, "API key not found");
  expect_message(c->post("/api/auth/api-keys", "{}"), 400,
                 "Key name is required (1-100 characters)");
}

TEST(accounts_api_keys, ExpiredKeysStopWorking) {
  auto host = start_host();
  auto c = admin(host->port());
  expect_message(c->post("/api/auth/api-keys", "{\"name\":\"old\",\"expires_at\":\"2001-01-01\"}"),
                 400, "expires_at must be in the future");
  expect_message(c->post("/api/auth/api-keys", "{\"name\":\"old\",\"expires_at\":\"soon\"}"), 400,
                 "Invalid expires_at: expected an ISO-8601 date-time");
  auto created =
      c->post("/api/auth/api-keys", "{\"name\":\"later\",\"expires_at\":\"2999-01-01T00:00:00Z\"}");
  ASSERT_EQ(created.status, 200) << created.body;
  auto d = json(created);
  EXPECT_EQ(str(d, "expires_at"), "2999-01-01T00:00:00Z");
  EXPECT_EQ(http(host->port(), "GET", "/api/auth/me", {{"X-API-Key", str(d, "key")}}).status, 200);
}

TEST(accounts_auth_disabled, MeSaysSoAndAdminRoutesWorkAnonymously) {
  HostSetup s;
  s.auth_enabled = false;
  auto host = start_host(s);
  auto me = http(host->port(), "GET", "/api/auth/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.body, "{\"auth_enabled\":false}");
  auto users = http(host->port(), "GET", "/api/admin/users");
  ASSERT_EQ(users.status, 200) << users.body;
  EXPECT_EQ(json(users)["users"].Size(), 1u);
}

TEST(accounts_oauth_login, UnconfiguredProvidersAnswer404) {
  auto host = start_host();
  expect_message(http(host->port(), "GET", "/api/auth/oauth/google/login"), 404,
                 "OAuth provider 'google' is not configured");
  expect_message(http(host->port(), "GET", "/api/auth/oauth/github/callback?code=x"), 404,
                 "OAuth provider 'github' is not configured");
}

TEST(accounts_startup, MalformedSecretKeyIsAClearInitError) {
  HostSetup s;
  s.required = true;
  s.secret_key = "not-base64-of-32-bytes";
  Host host(config_yaml(s));
  EXPECT_FALSE(host.wait_ready());
  EXPECT_NE(host.wait_exit(), 0);
  EXPECT_NE(host.output().find("secret_key must be the base64 of 32 random bytes"),
            std::string::npos)
      << host.output();
}

TEST(accounts_logs, NeverContainPasswordsKeysOrSessionTokens) {
  auto host = start_host();
  auto c = admin(host->port());
  auto key = str(json(c->post("/api/auth/api-keys", "{\"name\":\"ci\"}")), "key");
  http(host->port(), "GET", "/api/auth/me", {{"Authorization", "Bearer " + key}});
  c->post("/api/auth/change-password", "{\"current_password\":\"" + std::string(kAdminPassword) +
                                           "\",\"new_password\":\"Fresh-Passphrase-9\"}");
  Client bad(host->port());
  bad.post("/api/auth/login", login_body(kAdminEmail, "Typo-Passphrase-1"));
  std::string session = c->cookies["dango_session"];
  std::string out = host->output();
  ASSERT_FALSE(out.empty());
  for (const std::string& secret :
       {std::string(kAdminPassword), std::string("Fresh-Passphrase-9"),
        std::string("Typo-Passphrase-1"), key, key.substr(12), session}) {
    ASSERT_FALSE(secret.empty());
    EXPECT_EQ(out.find(secret), std::string::npos) << "leaked into the log: " << secret;
  }
}

}  // namespace
}  // namespace accounts_test
