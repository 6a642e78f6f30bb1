// OAuth sign-in and data-source connections against a provider stub on loopback: the real
// authorization-code + PKCE exchange over HTTP, state binding, sign-up rules and sealed storage.
#include <sodium.h>

#include <ctime>
#include <mutex>

#include "crypto.hpp"
#include "support.hpp"
#include "totp.hpp"

namespace accounts_test {
namespace {

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> form_fields(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at <= text.size()) {
    size_t amp = text.find('&', at);
    std::string pair = text.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    size_t eq = pair.find('=');
    if (eq != std::string::npos)
      out[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  return out;
}

std::map<std::string, std::string> query_of(const std::string& url) {
  size_t q = url.find('?');
  return q == std::string::npos ? std::map<std::string, std::string>{}
                                : form_fields(url.substr(q + 1));
}

std::string s256(const std::string& verifier) {
  unsigned char d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(d, reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size());
  return accounts::base64url_encode(std::string(reinterpret_cast<const char*>(d), sizeof(d)));
}

constexpr const char* kClientSecret = "stub-client-secret-5f1e";
constexpr const char* kRefreshToken = "rt-refresh-secret-93ab";

// An OAuth provider: /token trades "good-code" for a token when the client secret and the PKCE
// verifier check out; /userinfo answers the e-mail the test sets.
class Provider {
 public:
  Provider() : server_([this](const StubRequest& rq) { return answer(rq); }) {}

  std::string url() const { return server_.url(); }
  // verified: "true", "false" or "" (the user info omits email_verified).
  void set_user(const std::string& email, const std::string& verified = "true") {
    std::lock_guard<std::mutex> lock(mu_);
    email_ = email;
    verified_ = verified;
  }
  void expect_challenge(const std::string& challenge) {
    std::lock_guard<std::mutex> lock(mu_);
    challenge_ = challenge;
  }
  std::vector<StubRequest> requests() const { return server_.requests(); }

 private:
  StubReply answer(const StubRequest& rq) {
    std::lock_guard<std::mutex> lock(mu_);
    if (rq.method == "POST" && rq.path == "/token") {
      auto f = form_fields(rq.body);
      if (f["grant_type"] != "authorization_code" || f["code"] != "good-code" ||
          f["client_secret"] != kClientSecret || f["client_id"] != "plughost-test" ||
          s256(f["code_verifier"]) != challenge_) {
        return {400, R"({"error":"invalid_grant"})"};
      }
      return {200, std::string(R"({"access_token":"at-)") + std::to_string(++issued_) +
                       R"(-secret","token_type":"Bearer","expires_in":3600,"refresh_token":")" +
                       kRefreshToken + R"("})"};
    }
    if (rq.method == "GET" && rq.path == "/userinfo") {
      if (rq.header("authorization").rfind("Bearer at-", 0) != 0) return {401, "{}"};
      return {200, R"({"email":")" + email_ + "\"" +
                       (verified_.empty() ? "" : ",\"email_verified\":" + verified_) +
                       R"(,"name":"Stub User"})"};
    }
    return {404, "{}"};
  }

  mutable std::mutex mu_;
  std::string email_ = kAdminEmail;
  std::string verified_ = "true";
  std::string challenge_;
  int issued_ = 0;
  StubServer server_;  // last: stops before the members its handler reads go away
};

std::string app_yaml(const Provider& p, const std::string& extra) {
  return "{authorize_url: \"https://idp.example/authorize\", token_url: \"" + p.url() +
         "/token\", userinfo_url: \"" + p.url() +
         "/userinfo\", client_id: plughost-test, client_secret: \"" + kClientSecret +
         "\", scopes: [openid, email]" + extra + "}";
}

HostSetup with_oauth(const Provider& p) {
  HostSetup s;
  s.accounts =
      "      public_url: \"http://127.0.0.1:9\"\n"
      "      oauth:\n"
      "        providers:\n"
      "          stub: " +
      app_yaml(p, "") +
      "\n"
      "          open: " +
      app_yaml(p, ", allow_signup: true, allowed_domains: [example.org]") +
      "\n"
      "        connections:\n"
      "          github: " +
      app_yaml(p, "") + "\n";
  return s;
}

// Starts a flow on `client`; returns the query of the provider URL it was sent to.
std::map<std::string, std::string> begin(Client& client, Provider& p, const std::string& target) {
  auto r = client.get(target);
  EXPECT_EQ(r.status, 302) << r.body;
  std::string location = r.header("location");
  EXPECT_EQ(location.rfind("https://idp.example/authorize?", 0), 0u) << location;
  auto q = query_of(location);
  p.expect_challenge(q["code_challenge"]);
  return q;
}

TEST(accounts_oauth, SignInWithAnExistingAccount) {
  Provider p;
  auto host = start_host(with_oauth(p));
  Client browser(host->port());
  auto q = begin(browser, p, "/api/auth/oauth/stub/login?next=/dashboard");
  EXPECT_EQ(q["response_type"], "code");
  EXPECT_EQ(q["client_id"], "plughost-test");
  EXPECT_EQ(q["redirect_uri"], "http://127.0.0.1:9/api/auth/oauth/stub/callback");
  EXPECT_EQ(q["code_challenge_method"], "S256");
  EXPECT_EQ(q["scope"], "openid email");
  ASSERT_GE(q["state"].size(), 40u);
  std::string state_cookie = browser.set_cookie("dango_session_oauth");
  EXPECT_NE(state_cookie.find("HttpOnly"), std::string::npos) << state_cookie;
  EXPECT_NE(state_cookie.find("SameSite=Lax"), std::string::npos) << state_cookie;

  auto cb = browser.get("/api/auth/oauth/stub/callback?code=good-code&state=" + q["state"]);
  ASSERT_EQ(cb.status, 302) << cb.body;
  EXPECT_EQ(cb.header("location"), "/dashboard");
  EXPECT_FALSE(browser.set_cookie("dango_session").empty());
  EXPECT_EQ(browser.cookies.count("dango_session_oauth"), 0u);  // spent: the cookie is cleared

  auto me = json(browser.get("/api/auth/me"));
  EXPECT_EQ(str(me["user"], "email"), kAdminEmail);
  EXPECT_EQ(str(me["user"], "oauth_provider"), "stub");

  // The token request carried what the authorisation request promised.
  bool saw_token = false;
  for (const auto& rq : p.requests()) {
    if (rq.path != "/token") continue;
    saw_token = true;
    auto f = form_fields(rq.body);
    EXPECT_EQ(f["redirect_uri"], q["redirect_uri"]);
    EXPECT_EQ(s256(f["code_verifier"]), q["code_challenge"]);
  }
  EXPECT_TRUE(saw_token);
  // Neither the client secret nor any token reaches the log.
  std::string log = host->output();
  EXPECT_EQ(log.find(kClientSecret), std::string::npos);
  EXPECT_EQ(log.find("at-1-secret"), std::string::npos);
  EXPECT_EQ(log.find(q["state"]), std::string::npos);
}

TEST(accounts_oauth, StateIsSingleUseAndBoundToTheBrowser) {
  Provider p;
  auto host = start_host(with_oauth(p));
  Client browser(host->port());
  auto q = begin(browser, p, "/api/auth/oauth/stub/login");
  std::string callback = "/api/auth/oauth/stub/callback?code=good-code&state=" + q["state"];

  // Another browser (no state cookie) carrying the callback URL is refused.
  Client other(host->port());
  auto r = other.get(callback);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(str(json(r), "message"), "Invalid or expired OAuth state");
  // A state cookie that does not match the URL's state is refused as well.
  other.cookies["dango_session_oauth"] = q["state"] + "x";
  EXPECT_EQ(other.get(callback).status, 400);

  auto saved_cookie = browser.cookies["dango_session_oauth"];
  EXPECT_EQ(browser.get(callback).status, 302);
  // Replayed: the state is spent even when the browser still has the cookie.
  browser.cookies["dango_session_oauth"] = saved_cookie;
  EXPECT_EQ(browser.get(callback).status, 400);
  // A state minted for one provider does not finish another's flow.
  Client third(host->port());
  auto q2 = begin(third, p, "/api/auth/oauth/stub/login");
  EXPECT_EQ(third.get("/api/auth/oauth/open/callback?code=good-code&state=" + q2["state"]).status,
            400);
}

TEST(accounts_oauth, UnknownEmailsNeedSignUpAndAnAllowedDomain) {
  Provider p;
  auto host = start_host(with_oauth(p));

  p.set_user("stranger@example.org");
  Client a(host->port());
  auto q = begin(a, p, "/api/auth/oauth/stub/login");
  auto r = a.get("/api/auth/oauth/stub/callback?code=good-code&state=" + q["state"]);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(str(json(r), "message"), "No account uses this e-mail; ask an admin for an invite");

  p.set_user("outsider@elsewhere.test");
  Client b(host->port());
  q = begin(b, p, "/api/auth/oauth/open/login");
  r = b.get("/api/auth/oauth/open/callback?code=good-code&state=" + q["state"]);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(str(json(r), "message"), "This e-mail domain may not sign in with open");

  p.set_user("New.Person@Example.org");
  Client c(host->port());
  q = begin(c, p, "/api/auth/oauth/open/login");
  r = c.get("/api/auth/oauth/open/callback?code=good-code&state=" + q["state"]);
  ASSERT_EQ(r.status, 302) << r.body;
  auto me = json(c.get("/api/auth/me"));
  EXPECT_EQ(str(me["user"], "email"), "new.person@example.org");
  EXPECT_EQ(str(me["user"], "role"), "viewer");
  EXPECT_EQ(str(me["user"], "oauth_provider"), "open");

  p.set_user(kAdminEmail, "false");
  Client d(host->port());
  q = begin(d, p, "/api/auth/oauth/stub/login");
  r = d.get("/api/auth/oauth/stub/callback?code=good-code&state=" + q["state"]);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(str(json(r), "message"), "The OAuth provider did not confirm an e-mail address");

  // Silence is not a confirmation: without email_verified the admin's address is refused too.
  p.set_user(kAdminEmail, "");
  Client e(host->port());
  q = begin(e, p, "/api/auth/oauth/stub/login");
  EXPECT_EQ(e.get("/api/auth/oauth/stub/callback?code=good-code&state=" + q["state"]).status, 403);
}

TEST(accounts_oauth, TrustEmailAcceptsProvidersThatNeverSayVerified) {
  Provider p;
  HostSetup s = with_oauth(p);
  s.accounts =
      "      public_url: \"http://127.0.0.1:9\"\n"
      "      oauth:\n"
      "        providers:\n"
      "          trusting: " +
      app_yaml(p, ", trust_email: true") + "\n";
  auto host = start_host(s);
  p.set_user(kAdminEmail, "");
  Client c(host->port());
  auto q = begin(c, p, "/api/auth/oauth/trusting/login");
  auto r = c.get("/api/auth/oauth/trusting/callback?code=good-code&state=" + q["state"]);
  EXPECT_EQ(r.status, 302) << r.body;
}

TEST(accounts_oauth, FailuresAreClearAndOpenRedirectsClosed) {
  Provider p;
  auto host = start_host(with_oauth(p));

  auto r = http(host->port(), "GET", "/api/auth/oauth/nope/login", {}, "");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(str(json(r), "message"), "OAuth provider 'nope' is not configured");

  Client a(host->port());
  auto q = begin(a, p, "/api/auth/oauth/stub/login");
  r = a.get("/api/auth/oauth/stub/callback?error=access_denied&state=" + q["state"]);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(str(json(r), "message"), "The OAuth provider refused the authorisation: access_denied");

  Client b(host->port());
  q = begin(b, p, "/api/auth/oauth/stub/login");
  r = b.get("/api/auth/oauth/stub/callback?code=bad-code&state=" + q["state"]);
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(str(json(r), "message"), "OAuth token exchange with stub failed");
  EXPECT_TRUE(b.cookies.count("dango_session") == 0);

  for (std::string next : {"https://evil.example/x", "//evil.example/x", "/%5Cevil"}) {
    Client c(host->port());
    q = begin(c, p, "/api/auth/oauth/stub/login?next=" + next);
    r = c.get("/api/auth/oauth/stub/callback?code=good-code&state=" + q["state"]);
    ASSERT_EQ(r.status, 302) << r.body;
    EXPECT_EQ(r.header("location"), "/") << next;
  }
}

TEST(accounts_oauth, ConnectionsKeepTokensSealedAndNeedConfigManage) {
  Provider p;
  p.set_user("octocat@example.com");
  HostSetup setup = with_oauth(p);
  auto host = start_host(setup);
  auto admin_client = admin(host->port());

  auto q = begin(*admin_client, p, "/oauth/connect/github?next=/settings");
  EXPECT_EQ(q["redirect_uri"], "http://127.0.0.1:9/oauth/callback/github");
  auto r = admin_client->get("/oauth/callback/github?code=good-code&state=" + q["state"]);
  ASSERT_EQ(r.status, 302) << r.body;
  EXPECT_EQ(r.header("location"), "/settings");

  auto list = json(admin_client->get("/api/secrets/oauth"));
  ASSERT_TRUE(list["providers"].IsArray());
  ASSERT_EQ(list["providers"].Size(), 1u);
  EXPECT_EQ(str(list["providers"][0], "source_type"), "github");
  EXPECT_EQ(str(list["providers"][0], "account"), "octocat@example.com");
  EXPECT_TRUE(list["providers"][0]["expires_at"].IsString());
  std::string listing = admin_client->get("/api/secrets/oauth").body;
  EXPECT_EQ(listing.find("at-"), std::string::npos);
  EXPECT_EQ(listing.find(kRefreshToken), std::string::npos);
  // At rest the tokens are sealed: not in the database file.
  std::string db = read_file(host->dir() + "/accounts.db");
  EXPECT_FALSE(db.empty());
  EXPECT_EQ(db.find(kRefreshToken), std::string::npos);
  EXPECT_EQ(host->output().find(kRefreshToken), std::string::npos);

  // A viewer may neither start nor finish a connection.
  create_user(*admin_client, "viewer@example.com", "viewer", "Staple-Lamp-Orbit-42");
  auto viewer = signed_in(host->port(), "viewer@example.com", "Staple-Lamp-Orbit-42");
  EXPECT_EQ(viewer->get("/oauth/connect/github").status, 403);
  EXPECT_EQ(viewer->get("/oauth/callback/github?code=good-code&state=x").status, 403);
  EXPECT_EQ(admin_client->get("/oauth/connect/unknown").status, 404);

  EXPECT_EQ(admin_client->del("/api/secrets/oauth/github").status, 200);
  EXPECT_EQ(json(admin_client->get("/api/secrets/oauth"))["providers"].Size(), 0u);
}

TEST(accounts_oauth, TwoFactorAccountsStillGiveTheirSecondFactor) {
  Provider p;
  auto host = start_host(with_oauth(p));
  auto admin_client = admin(host->port());
  auto setup = json(admin_client->post("/api/auth/2fa/setup",
                                       std::string(R"({"password":")") + kAdminPassword + "\"}"));
  auto secret = accounts::base32_decode(str(setup, "secret"));
  ASSERT_TRUE(secret.has_value());
  long step = std::time(nullptr) / 30;
  auto enabled = admin_client->post("/api/auth/2fa/verify-setup",
                                    R"({"code":")" + accounts::totp_code(*secret, step) + "\"}");
  ASSERT_EQ(enabled.status, 200) << enabled.body;

  Client browser(host->port());
  auto q = begin(browser, p, "/api/auth/oauth/stub/login?next=/home");
  auto r = browser.get("/api/auth/oauth/stub/callback?code=good-code&state=" + q["state"]);
  ASSERT_EQ(r.status, 302) << r.body;
  EXPECT_EQ(r.header("location"), "/home?requires_2fa=true");
  EXPECT_EQ(browser.get("/api/auth/me").status, 401);  // a partial session only
  auto verified = browser.post("/api/auth/2fa/verify",
                               R"({"code":")" + accounts::totp_code(*secret, step + 1) + "\"}");
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(str(json(browser.get("/api/auth/me"))["user"], "email"), kAdminEmail);
}

TEST(accounts_oauth, MisconfiguredProviderStopsThePlugin) {
  Provider p;
  HostSetup s = with_oauth(p);
  s.required = true;
  // A sign-in provider without userinfo_url cannot name the account: refused at start.
  s.accounts =
      "      oauth:\n"
      "        providers:\n"
      "          broken: {authorize_url: \"https://x\", token_url: \"https://y\", client_id: c}\n";
  Host host(config_yaml(s));
  EXPECT_NE(host.wait_exit(), 0);
  EXPECT_NE(host.output().find("oauth.providers.broken needs userinfo_url"), std::string::npos)
      << host.output();
}

}  // namespace
}  // namespace accounts_test
