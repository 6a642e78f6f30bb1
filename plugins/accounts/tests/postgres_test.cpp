// The plugin on PostgreSQL: one pass over every table (users, sessions, keys, lockout, TOTP,
// recovery codes, refresh tokens, secrets). Runs under tests/scripts/with_postgres.sh, which
// provides a fresh database in PLUGHOST_TEST_POSTGRES_URL; skipped without it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <thread>

#include "support.hpp"
#include "totp.hpp"

namespace accounts_test {
namespace {

TEST(accounts_postgres, EveryTableWorksOnPostgres) {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  if (!url || !*url) GTEST_SKIP() << "PLUGHOST_TEST_POSTGRES_URL is not set";
  HostSetup s;
  s.storage_url = url;
  auto host = start_host(s);
  int port = host->port();
  auto adm = admin(port);
  int64_t id = create_user(*adm, "pg@example.com", "viewer", "Granite-Harbor-Lights-7");
  ASSERT_GT(id, 0);
  Client c(port);
  for (int i = 0; i < 5; ++i) c.post("/api/auth/login", login_body("pg@example.com", "bad-guess"));
  EXPECT_EQ(
      c.post("/api/auth/login", login_body("pg@example.com", "Granite-Harbor-Lights-7")).status,
      423);
  ASSERT_EQ(adm->post("/api/admin/users/" + std::to_string(id) + "/unlock").status, 200);
  auto viewer = signed_in(port, "pg@example.com", "Granite-Harbor-Lights-7");
  EXPECT_EQ(json(viewer->get("/api/auth/sessions"))["sessions"].Size(), 1u);
  auto key = json(viewer->post("/api/auth/api-keys", "{\"name\":\"pg\"}"));
  EXPECT_EQ(http(port, "GET", "/api/auth/me", {{"X-API-Key", str(key, "key")}}).status, 200);

  auto setup = json(
      adm->post("/api/auth/2fa/setup", "{\"password\":\"" + std::string(kAdminPassword) + "\"}"));
  std::string secret = *accounts::base32_decode(str(setup, "secret"));
  std::string code = accounts::totp_code(secret, std::time(nullptr) / 30);
  ASSERT_EQ(adm->post("/api/auth/2fa/verify-setup", "{\"code\":\"" + code + "\"}").status, 200);
  Client second(port);
  ASSERT_EQ(second.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword)).body,
            "{\"requires_2fa\":true}");
  EXPECT_EQ(second
                .post("/api/auth/2fa/verify",
                      "{\"code\":\"" + std::string(setup["recovery_codes"][0].GetString()) + "\"}")
                .status,
            200);
  // The per-user second-factor lock (one UPDATE … RETURNING) on PostgreSQL.
  std::string admin_creds = "{\"username\":\"" + std::string(kAdminEmail) + "\",\"password\":\"" +
                            kAdminPassword + "\",\"code\":\"";
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(http(port, "POST", "/api/auth/token/", {}, admin_creds + "000000\"}").status, 401);
  }
  EXPECT_EQ(http(port, "POST", "/api/auth/token/", {}, admin_creds + code + "\"}").status, 423);

  auto pair =
      json(http(port, "POST", "/api/auth/token/", {},
                "{\"username\":\"pg@example.com\",\"password\":\"Granite-Harbor-Lights-7\"}"));
  EXPECT_EQ(http(port, "POST", "/api/auth/token/refresh/", {},
                 "{\"refresh\":\"" + str(pair, "refresh") + "\"}")
                .status,
            200);
  ASSERT_EQ(
      adm->post("/api/secrets", "{\"key\":\"PG_SECRET\",\"value\":\"hunter2hunter2\"}").status,
      200);
  ASSERT_EQ(
      adm->post("/api/secrets", "{\"key\":\"PG_SECRET\",\"value\":\"hunter3hunter3\"}").status,
      200);
  EXPECT_EQ(str(json(adm->get("/api/secrets"))["secrets"][0], "masked_value"), "hu**********r3");
  EXPECT_EQ(
      adm->del("/api/admin/users/" + std::to_string(id), "{\"confirm_email\":\"pg@example.com\"}")
          .status,
      200);
}

TEST(accounts_postgres, ConcurrentLoginFailuresAllCount) {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  if (!url || !*url) GTEST_SKIP() << "PLUGHOST_TEST_POSTGRES_URL is not set";
  HostSetup s;
  s.storage_url = url;
  s.accounts = "      lockout_threshold: 8\n";
  auto host = start_host(s);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      http(host->port(), "POST", "/api/auth/login", {}, login_body("racer@example.com", "guess"));
    });
  }
  for (auto& t : threads) t.join();
  auto r = http(host->port(), "POST", "/api/auth/login", {}, login_body("racer@example.com", "x"));
  EXPECT_EQ(r.status, 423) << r.body;
}

}  // namespace
}  // namespace accounts_test
