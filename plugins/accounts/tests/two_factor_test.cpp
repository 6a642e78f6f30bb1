// Two-factor authentication over HTTP: setup with a TOTP the test computes itself (the plugin's
// RFC-tested totp.cpp), the partial session of a 2FA sign-in, recovery codes, attempt limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <thread>

#include "support.hpp"
#include "totp.hpp"

namespace accounts_test {
namespace {

std::string code_for(const std::string& base32_secret, int step_offset = 0) {
  auto secret = accounts::base32_decode(base32_secret);
  EXPECT_TRUE(secret.has_value());
  return accounts::totp_code(secret.value_or(""), std::time(nullptr) / 30 + step_offset);
}

std::string body_with(const std::string& key, const std::string& value) {
  return "{\"" + key + "\":\"" + value + "\"}";
}

struct Enrolled {
  std::string secret;
  std::vector<std::string> recovery_codes;
};

// Turns 2FA on for the admin signed in on `c`. This spends the current TOTP step: the next TOTP a
// test sends is code_for(secret, 1), the next step's (still inside the ±1 step window).
Enrolled enroll(Client& c) {
  Enrolled e;
  auto setup = c.post("/api/auth/2fa/setup", body_with("password", kAdminPassword));
  EXPECT_EQ(setup.status, 200) << setup.body;
  auto d = json(setup);
  e.secret = str(d, "secret");
  if (d.HasMember("recovery_codes")) {
    for (const auto& code : d["recovery_codes"].GetArray()) {
      e.recovery_codes.push_back(code.GetString());
    }
  }
  auto verify = c.post("/api/auth/2fa/verify-setup", body_with("code", code_for(e.secret)));
  EXPECT_EQ(verify.status, 200) << verify.body;
  return e;
}

// Signs in with the password only: the client then holds a partial session.
void password_step(Client& c) {
  auto r = c.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{\"requires_2fa\":true}");
  EXPECT_FALSE(c.cookies["dango_session"].empty());
}

TEST(accounts_two_factor, SetupGivesSecretUriAndEightRecoveryCodes) {
  auto host = start_host();
  auto c = admin(host->port());
  auto wrong = c->post("/api/auth/2fa/setup", body_with("password", "not-my-password"));
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  auto setup = c->post("/api/auth/2fa/setup", body_with("password", kAdminPassword));
  ASSERT_EQ(setup.status, 200) << setup.body;
  auto d = json(setup);
  std::string secret = str(d, "secret");
  EXPECT_EQ(secret.size(), 32u);  // 20 bytes in base32
  EXPECT_EQ(str(d, "otpauth_uri"), "otpauth://totp/Dango:admin@example.com?secret=" + secret +
                                       "&issuer=Dango&algorithm=SHA1&digits=6&period=30");
  ASSERT_EQ(d["recovery_codes"].Size(), 8u);
  for (const auto& code : d["recovery_codes"].GetArray()) {
    std::string s = code.GetString();
    EXPECT_EQ(s.size(), 9u);
    EXPECT_EQ(s[4], '-');
  }
  auto bad = c->post("/api/auth/2fa/verify-setup", body_with("code", "000000"));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(str(json(bad), "message"), "Invalid verification code");
  EXPECT_FALSE(json(c->get("/api/auth/me"))["user"]["totp_enabled"].GetBool());
  auto ok = c->post("/api/auth/2fa/verify-setup", body_with("code", code_for(secret)));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(json(c->get("/api/auth/me"))["user"]["totp_enabled"].GetBool());
}

TEST(accounts_two_factor, PartialSessionReachesNothingButVerify) {
  auto host = start_host();
  Enrolled e = enroll(*admin(host->port()));
  Client c(host->port());
  password_step(c);
  for (const char* path : {"/api/auth/me", "/api/auth/sessions", "/api/auth/api-keys"}) {
    auto r = c.get(path);
    EXPECT_EQ(r.status, 401) << path << " " << r.body;
    EXPECT_EQ(str(json(r), "error_code"), "DANGO-S001") << path;
  }
  EXPECT_EQ(c.get("/api/admin/users").status, 401);
  EXPECT_EQ(c.post("/api/auth/api-keys", "{\"name\":\"x\"}").status, 401);

  auto verify = c.post("/api/auth/2fa/verify", body_with("code", code_for(e.secret, 1)));
  ASSERT_EQ(verify.status, 200) << verify.body;
  EXPECT_EQ(str(json(verify)["user"], "email"), kAdminEmail);
  EXPECT_NE(c.set_cookie("dango_session").find("HttpOnly"), std::string::npos);
  EXPECT_EQ(c.get("/api/auth/me").status, 200);
  EXPECT_EQ(c.get("/api/admin/users").status, 200);
}

TEST(accounts_two_factor, VerifyWithoutAPartialSessionIs401) {
  auto host = start_host();
  auto r = http(host->port(), "POST", "/api/auth/2fa/verify", {}, "{\"code\":\"123456\"}");
  EXPECT_EQ(r.status, 401) << r.body;
}

TEST(accounts_two_factor, RecoveryCodeWorksOnce) {
  auto host = start_host();
  Enrolled e = enroll(*admin(host->port()));
  ASSERT_EQ(e.recovery_codes.size(), 8u);
  Client c(host->port());
  password_step(c);
  auto first = c.post("/api/auth/2fa/verify", body_with("code", e.recovery_codes[0]));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(c.get("/api/auth/me").status, 200);

  Client again(host->port());
  password_step(again);
  auto reused = again.post("/api/auth/2fa/verify", body_with("code", e.recovery_codes[0]));
  EXPECT_EQ(reused.status, 400) << reused.body;
  // Lower case without the dash is the same code; is_recovery forces the recovery path.
  std::string other = e.recovery_codes[1];
  std::string relaxed = other.substr(0, 4) + other.substr(5);
  for (char& ch : relaxed) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto ok =
      again.post("/api/auth/2fa/verify", "{\"code\":\"" + relaxed + "\",\"is_recovery\":true}");
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(accounts_two_factor, FiveWrongCodesEndThePartialSession) {
  auto host = start_host();
  Enrolled e = enroll(*admin(host->port()));
  Client c(host->port());
  password_step(c);
  for (int i = 0; i < 4; ++i) {
    auto r = c.post("/api/auth/2fa/verify", body_with("code", "000000"));
    EXPECT_EQ(r.status, 400) << r.body;
  }
  auto fifth = c.post("/api/auth/2fa/verify", body_with("code", "000000"));
  EXPECT_EQ(fifth.status, 401) << fifth.body;
  EXPECT_EQ(str(json(fifth), "message"), "Too many failed attempts. Please log in again.");
  auto late = c.post("/api/auth/2fa/verify", body_with("code", code_for(e.secret)));
  EXPECT_EQ(late.status, 401) << late.body;
}

TEST(accounts_two_factor, PartialSessionExpires) {
  HostSetup s;
  s.accounts = "      partial_session_seconds: 1\n";
  auto host = start_host(s);
  Enrolled e = enroll(*admin(host->port()));
  Client c(host->port());
  password_step(c);
  std::string partial = c.cookies["dango_session"];
  EXPECT_TRUE(eventually(
      [&] {
        Client probe(host->port());
        probe.cookies["dango_session"] = partial;
        return probe.post("/api/auth/2fa/verify", body_with("code", "000000")).status == 401;
      },
      10));
  EXPECT_EQ(c.post("/api/auth/2fa/verify", body_with("code", code_for(e.secret))).status, 401);
}

TEST(accounts_two_factor, RegenerateNeedsPasswordAndCodeAndVoidsOldCodes) {
  auto host = start_host();
  auto c = admin(host->port());
  Enrolled e = enroll(*c);
  EXPECT_EQ(c->post("/api/auth/2fa/regenerate-recovery",
                    "{\"password\":\"" + std::string(kAdminPassword) + "\",\"code\":\"000000\"}")
                .status,
            400);
  EXPECT_EQ(c->post("/api/auth/2fa/regenerate-recovery",
                    "{\"password\":\"wrong-one\",\"code\":\"" + code_for(e.secret) + "\"}")
                .status,
            400);
  auto r = c->post("/api/auth/2fa/regenerate-recovery",
                   "{\"password\":\"" + std::string(kAdminPassword) + "\",\"code\":\"" +
                       code_for(e.secret, 1) + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  ASSERT_EQ(d["recovery_codes"].Size(), 8u);
  std::string fresh = d["recovery_codes"][0].GetString();

  Client login(host->port());
  password_step(login);
  EXPECT_EQ(login.post("/api/auth/2fa/verify", body_with("code", e.recovery_codes[2])).status, 400);
  EXPECT_EQ(login.post("/api/auth/2fa/verify", body_with("code", fresh)).status, 200);
}

TEST(accounts_two_factor, DisableNeedsThePasswordAndSignInIsOneStepAgain) {
  auto host = start_host();
  auto c = admin(host->port());
  enroll(*c);
  EXPECT_EQ(c->post("/api/auth/2fa/setup", body_with("password", kAdminPassword)).status, 400);
  auto wrong = c->post("/api/auth/2fa/disable", body_with("password", "nope-nope"));
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  auto ok = c->post("/api/auth/2fa/disable", body_with("password", kAdminPassword));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(json(ok)["success"].GetBool());
  Client fresh(host->port());
  auto r = fresh.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword));
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(json(r).HasMember("user"));
  EXPECT_EQ(c->post("/api/auth/2fa/disable", body_with("password", kAdminPassword)).status, 400);
}

TEST(accounts_two_factor, TokenEndpointWantsTheCodeToo) {
  auto host = start_host();
  Enrolled e = enroll(*admin(host->port()));
  std::string creds =
      "\"username\":\"" + std::string(kAdminEmail) + "\",\"password\":\"" + kAdminPassword + "\"";
  auto without = http(host->port(), "POST", "/api/auth/token/", {}, "{" + creds + "}");
  EXPECT_EQ(without.status, 401) << without.body;
  auto with = http(host->port(), "POST", "/api/auth/token/", {},
                   "{" + creds + ",\"code\":\"" + code_for(e.secret, 1) + "\"}");
  EXPECT_EQ(with.status, 200) << with.body;
}

std::string token_body(const std::string& code) {
  return "{\"username\":\"" + std::string(kAdminEmail) + "\",\"password\":\"" + kAdminPassword +
         "\",\"code\":\"" + code + "\"}";
}

void expect_2fa_locked(const HttpResponse& r) {
  EXPECT_EQ(r.status, 423) << r.body;
  auto d = json(r);
  EXPECT_EQ(str(d, "message"), "Account is temporarily locked") << r.body;
  ASSERT_TRUE(d.HasMember("remaining_seconds") && d["remaining_seconds"].IsInt64()) << r.body;
  EXPECT_GT(d["remaining_seconds"].GetInt64(), 0);
  EXPECT_LE(d["remaining_seconds"].GetInt64(), 900);
}

TEST(accounts_two_factor, WrongCodesCountPerUserAcrossReLogins) {
  auto host = start_host();
  auto adm = admin(host->port());
  Enrolled e = enroll(*adm);
  // Three wrong codes on one partial session, two on a fresh one: the user's fifth in a row.
  Client first(host->port());
  password_step(first);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(first.post("/api/auth/2fa/verify", body_with("code", "000000")).status, 400);
  }
  Client second(host->port());
  password_step(second);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(second.post("/api/auth/2fa/verify", body_with("code", "000000")).status, 400);
  }
  // Locked for lockout_seconds, even with the right code, on any partial session or the token
  // endpoint; the password step itself still works (it is not the guess being limited).
  expect_2fa_locked(second.post("/api/auth/2fa/verify", body_with("code", code_for(e.secret))));
  Client third(host->port());
  password_step(third);
  expect_2fa_locked(third.post("/api/auth/2fa/verify", body_with("code", e.recovery_codes[0])));
  auto token = http(host->port(), "POST", "/api/auth/token/", {}, token_body(code_for(e.secret)));
  EXPECT_EQ(token.status, 423) << token.body;
  EXPECT_EQ(str(json(token)["error"], "code"), "ACCOUNT_LOCKED");
  // An admin's unlock clears it (the admin's own session still works: it predates the lock).
  ASSERT_EQ(adm->post("/api/admin/users/1/unlock").status, 200);
  EXPECT_EQ(third.post("/api/auth/2fa/verify", body_with("code", e.recovery_codes[0])).status, 200);
}

TEST(accounts_two_factor, TokenEndpointWrongCodesLockTheUsersSecondFactor) {
  auto host = start_host();
  Enrolled e = enroll(*admin(host->port()));
  for (int i = 0; i < 5; ++i) {
    auto r = http(host->port(), "POST", "/api/auth/token/", {}, token_body("000000"));
    EXPECT_EQ(r.status, 401) << r.body;
  }
  auto r = http(host->port(), "POST", "/api/auth/token/", {}, token_body(code_for(e.secret)));
  EXPECT_EQ(r.status, 423) << r.body;
  Client c(host->port());
  password_step(c);
  expect_2fa_locked(c.post("/api/auth/2fa/verify", body_with("code", code_for(e.secret))));
}

TEST(accounts_two_factor, ACorrectCodeEndsTheStreak) {
  auto host = start_host();
  Enrolled e = enroll(*admin(host->port()));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(http(host->port(), "POST", "/api/auth/token/", {}, token_body("000000")).status, 401);
  }
  Client c(host->port());
  password_step(c);
  ASSERT_EQ(c.post("/api/auth/2fa/verify", body_with("code", e.recovery_codes[0])).status, 200);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(http(host->port(), "POST", "/api/auth/token/", {}, token_body("000000")).status, 401);
  }
  Client again(host->port());
  password_step(again);
  EXPECT_EQ(again.post("/api/auth/2fa/verify", body_with("code", e.recovery_codes[1])).status, 200);
}

TEST(accounts_two_factor, ATotpCodeWorksOnceAndEarlierStepsNeverAgain) {
  auto host = start_host();
  Enrolled e = enroll(*admin(host->port()));
  std::string next = code_for(e.secret, 1);
  Client first(host->port());
  password_step(first);
  ASSERT_EQ(first.post("/api/auth/2fa/verify", body_with("code", next)).status, 200);
  Client replay(host->port());
  password_step(replay);
  auto again = replay.post("/api/auth/2fa/verify", body_with("code", next));
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_EQ(str(json(again), "message"), "Invalid verification code");
  EXPECT_EQ(http(host->port(), "POST", "/api/auth/token/", {}, token_body(next)).status, 401);
  // An earlier step's code (still inside the ±1 window) is refused too.
  EXPECT_EQ(http(host->port(), "POST", "/api/auth/token/", {}, token_body(code_for(e.secret)))
                .status,
            401);
}

TEST(accounts_two_factor, APartialSessionOpensAtMostOneFullSession) {
  auto host = start_host();
  Enrolled e = enroll(*admin(host->port()));
  ASSERT_EQ(e.recovery_codes.size(), 8u);
  Client c(host->port());
  password_step(c);
  // Concurrent verifications of one partial session, each with a different valid recovery code.
  std::vector<int> statuses(8, 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] {
      Client each(host->port());
      each.cookies = c.cookies;
      statuses[i] =
          each.post("/api/auth/2fa/verify", body_with("code", e.recovery_codes[i])).status;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 1);
  for (int s : statuses) EXPECT_TRUE(s == 200 || s == 401) << s;
}

}  // namespace
}  // namespace accounts_test
