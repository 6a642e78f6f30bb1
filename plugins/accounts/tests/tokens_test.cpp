// The automate API's token pair over HTTP: HS256 access tokens (expiry, tampering, revocation by
// generation) and single-use refresh tokens (rotation, reuse detection).
#include <gtest/gtest.h>

#include "crypto.hpp"
#include "support.hpp"

namespace accounts_test {
namespace {

Headers bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

std::string credentials() {
  return "{\"username\":\"" + std::string(kAdminEmail) + "\",\"password\":\"" + kAdminPassword +
         "\"}";
}

rapidjson::Document token_pair(int port) {
  auto r = http(port, "POST", "/api/auth/token/", {}, credentials());
  EXPECT_EQ(r.status, 200) << r.body;
  return json(r);
}

TEST(accounts_tokens, PasswordGivesAnHs256PairThatAuthenticates) {
  auto host = start_host();
  auto d = token_pair(host->port());
  std::string access = str(d, "access");
  EXPECT_EQ(d["expires_in"].GetInt(), 3600);
  EXPECT_FALSE(str(d, "refresh").empty());
  ASSERT_EQ(std::count(access.begin(), access.end(), '.'), 2) << access;
  auto header = accounts::base64url_decode(access.substr(0, access.find('.')));
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(*header, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
  size_t p = access.find('.') + 1;
  auto payload = accounts::base64url_decode(access.substr(p, access.rfind('.') - p));
  ASSERT_TRUE(payload.has_value());
  rapidjson::Document claims;
  claims.Parse(payload->c_str());
  EXPECT_EQ(str(claims, "sub"), "1");
  EXPECT_TRUE(claims.HasMember("exp") && claims.HasMember("jti"));

  auto me = http(host->port(), "GET", "/api/auth/me", bearer(access));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(str(json(me)["user"], "email"), kAdminEmail);
  // Bearer callers need no CSRF defence.
  EXPECT_EQ(
      http(host->port(), "POST", "/api/auth/api-keys", bearer(access), "{\"name\":\"t\"}").status,
      200);
  // The e-mail key works as well as username, with and without the trailing slash.
  EXPECT_EQ(
      http(host->port(), "POST", "/api/auth/token", {},
           "{\"email\":\"admin@example.com\",\"password\":\"" + std::string(kAdminPassword) + "\"}")
          .status,
      200);
}

TEST(accounts_tokens, WrongPasswordAndBadBodiesUseTheHostEnvelope) {
  auto host = start_host();
  auto wrong = http(host->port(), "POST", "/api/auth/token/", {},
                    "{\"username\":\"admin@example.com\",\"password\":\"nope-nope\"}");
  ASSERT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(str(json(wrong)["error"], "code"), "UNAUTHORIZED");
  auto bad = http(host->port(), "POST", "/api/auth/token/", {}, "{\"username\":\"x\"}");
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(str(json(bad)["error"], "code"), "VALIDATION_ERROR");
}

TEST(accounts_tokens, TamperedTokensAreRejected) {
  auto host = start_host();
  std::string access = str(token_pair(host->port()), "access");
  auto flip = [](std::string t, size_t at) {
    t[at] = t[at] == 'A' ? 'B' : 'A';
    return t;
  };
  size_t first = access.find('.'), second = access.rfind('.');
  for (const std::string& forged :
       {flip(access, access.size() - 5), flip(access, second + 1), flip(access, first + 3),
        flip(access, 2), access.substr(0, second), access + "x", std::string("a.b.c")}) {
    auto r = http(host->port(), "GET", "/api/auth/me", bearer(forged));
    EXPECT_EQ(r.status, 401) << forged;
    EXPECT_EQ(str(json(r), "error_code"), "DANGO-S001");
  }
  // A token signed with another key ("alg":"none" tricks included) does not pass either.
  std::string none = accounts::base64url_encode("{\"alg\":\"none\",\"typ\":\"JWT\"}") +
                     access.substr(first, second - first) + ".";
  EXPECT_EQ(http(host->port(), "GET", "/api/auth/me", bearer(none)).status, 401);
  EXPECT_EQ(http(host->port(), "GET", "/api/auth/me", bearer(access)).status, 200);
}

TEST(accounts_tokens, AccessTokensExpire) {
  HostSetup s;
  s.accounts = "      access_token_seconds: 1\n";
  auto host = start_host(s);
  auto d = token_pair(host->port());
  EXPECT_EQ(d["expires_in"].GetInt(), 1);
  std::string access = str(d, "access");
  EXPECT_TRUE(eventually(
      [&] { return http(host->port(), "GET", "/api/auth/me", bearer(access)).status == 401; }, 10));
}

TEST(accounts_tokens, RefreshRotatesAndAReusedTokenRevokesTheFamily) {
  auto host = start_host();
  int port = host->port();
  auto first = token_pair(port);
  auto refresh = [&](const std::string& token) {
    return http(port, "POST", "/api/auth/token/refresh/", {}, "{\"refresh\":\"" + token + "\"}");
  };
  auto rotated = refresh(str(first, "refresh"));
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  auto second = json(rotated);
  EXPECT_NE(str(second, "refresh"), str(first, "refresh"));
  EXPECT_EQ(http(port, "GET", "/api/auth/me", bearer(str(second, "access"))).status, 200);
  auto reused = refresh(str(first, "refresh"));
  EXPECT_EQ(reused.status, 401) << reused.body;
  EXPECT_EQ(refresh(str(second, "refresh")).status, 401) << "reuse revoked every refresh token";
  EXPECT_EQ(refresh("made-up").status, 401);
  EXPECT_EQ(http(port, "POST", "/api/auth/token/refresh/", {}, "{}").status, 400);
}

TEST(accounts_tokens, AReusedRefreshTokenAlsoVoidsTheUsersAccessTokens) {
  auto host = start_host();
  int port = host->port();
  auto first = token_pair(port);
  auto refresh = [&](const std::string& token) {
    return http(port, "POST", "/api/auth/token/refresh/", {}, "{\"refresh\":\"" + token + "\"}");
  };
  auto rotated = refresh(str(first, "refresh"));
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  std::string access = str(json(rotated), "access");
  ASSERT_EQ(http(port, "GET", "/api/auth/me", bearer(access)).status, 200);
  ASSERT_EQ(http(port, "GET", "/api/auth/me", bearer(str(first, "access"))).status, 200);
  EXPECT_EQ(refresh(str(first, "refresh")).status, 401);
  EXPECT_EQ(http(port, "GET", "/api/auth/me", bearer(access)).status, 401);
  EXPECT_EQ(http(port, "GET", "/api/auth/me", bearer(str(first, "access"))).status, 401);
  // A fresh sign-in works again.
  EXPECT_EQ(http(port, "GET", "/api/auth/me", bearer(str(token_pair(port), "access"))).status, 200);
}

TEST(accounts_tokens, PasswordChangeVoidsAccessAndRefreshTokens) {
  auto host = start_host();
  int port = host->port();
  auto pair = token_pair(port);
  std::string access = str(pair, "access");
  auto r = http(port, "POST", "/api/auth/change-password", bearer(access),
                "{\"current_password\":\"" + std::string(kAdminPassword) +
                    "\",\"new_password\":\"Silver-Maple-Canyon-88\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(http(port, "GET", "/api/auth/me", bearer(access)).status, 401);
  EXPECT_EQ(http(port, "POST", "/api/auth/token/refresh/", {},
                 "{\"refresh\":\"" + str(pair, "refresh") + "\"}")
                .status,
            401);
}

TEST(accounts_tokens, LeakNothingIntoTheLog) {
  auto host = start_host();
  auto pair = token_pair(host->port());
  http(host->port(), "GET", "/api/auth/me", bearer(str(pair, "access")));
  http(host->port(), "POST", "/api/auth/token/refresh/", {},
       "{\"refresh\":\"" + str(pair, "refresh") + "\"}");
  std::string out = host->output();
  EXPECT_EQ(out.find(str(pair, "access")), std::string::npos);
  EXPECT_EQ(out.find(str(pair, "refresh")), std::string::npos);
  EXPECT_EQ(out.find(kAdminPassword), std::string::npos);
}

}  // namespace
}  // namespace accounts_test
