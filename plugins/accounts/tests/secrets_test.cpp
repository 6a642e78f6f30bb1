// Secrets and OAuth credentials over HTTP: sealed at rest (checked in the SQLite file itself),
// masked in every answer, config.manage only.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "support.hpp"

namespace accounts_test {
namespace {

constexpr const char* kSecretValue = "sk_live_51HzUltraSecretValue";

// Rows of a one-column query on the host's database file.
std::vector<std::string> query(const std::string& db_path, const std::string& sql) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(st, 0);
    rows.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
  }
  EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

TEST(accounts_secrets, StoredSealedAndAnsweredMasked) {
  auto host = start_host();
  auto adm = admin(host->port());
  auto put = adm->post("/api/secrets", "{\"key\":\"STRIPE_API_KEY\",\"value\":\"" +
                                           std::string(kSecretValue) + "\"}");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.body.find(kSecretValue), std::string::npos);
  EXPECT_EQ(str(json(put), "masked_value"), "sk************************ue");
  adm->post("/api/secrets", "{\"key\":\"PIN\",\"value\":\"1234\"}");

  auto list = adm->get("/api/secrets");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body.find(kSecretValue), std::string::npos) << list.body;
  auto d = json(list);
  ASSERT_EQ(d["secrets"].Size(), 2u);
  EXPECT_EQ(str(d["secrets"][0], "key"), "PIN");
  EXPECT_EQ(str(d["secrets"][0], "masked_value"), "****");
  EXPECT_EQ(str(d["secrets"][1], "masked_value"), "sk************************ue");

  std::string db = host->dir() + "/accounts.db";
  auto sealed = query(db, "SELECT value_sealed FROM accounts_secrets ORDER BY name");
  ASSERT_EQ(sealed.size(), 2u);
  for (const auto& v : sealed) {
    EXPECT_EQ(v.rfind("v1:", 0), 0u) << v;
    EXPECT_EQ(v.find(kSecretValue), std::string::npos);
  }
  for (const char* file : {"/accounts.db", "/accounts.db-wal"}) {
    std::string bytes = read_file(host->dir() + file);
    EXPECT_EQ(bytes.find(kSecretValue), std::string::npos) << file;
    EXPECT_EQ(bytes.find(kAdminPassword), std::string::npos) << file;
  }
  EXPECT_EQ(host->output().find(kSecretValue), std::string::npos);

  // Updating keeps one row and the new value's mask.
  ASSERT_EQ(adm->post("/api/secrets", "{\"key\":\"PIN\",\"value\":\"987654\"}").status, 200);
  EXPECT_EQ(str(json(adm->get("/api/secrets"))["secrets"][0], "masked_value"), "98**54");

  auto del = adm->del("/api/secrets/PIN");
  ASSERT_EQ(del.status, 200) << del.body;
  auto gone = adm->del("/api/secrets/PIN");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(str(json(gone), "message"), "Secret not found");
}

TEST(accounts_secrets, RejectsBadNamesAndValues) {
  auto host = start_host();
  auto adm = admin(host->port());
  for (const char* body : {"{\"key\":\"1ABC\",\"value\":\"x\"}",
                           "{\"key\":\"A-B\",\"value\":\"x\"}", "{\"key\":\"\",\"value\":\"x\"}",
                           "{\"value\":\"x\"}", "{\"key\":\"OK\",\"value\":5}", "[]"}) {
    EXPECT_EQ(adm->post("/api/secrets", body).status, 400) << body;
  }
}

TEST(accounts_secrets, NeedConfigManage) {
  auto host = start_host();
  auto adm = admin(host->port());
  create_user(*adm, "ed@example.com", "editor", "Orange-Kite-Harbor-12");
  auto editor = signed_in(host->port(), "ed@example.com", "Orange-Kite-Harbor-12");
  auto r = editor->get("/api/secrets");
  ASSERT_EQ(r.status, 403) << r.body;
  auto d = json(r);
  EXPECT_EQ(str(d, "error_code"), "DANGO-S002");
  EXPECT_EQ(str(d, "message"), "Permission denied: config.manage");
  EXPECT_EQ(editor->post("/api/secrets", "{\"key\":\"A\",\"value\":\"b\"}").status, 403);
  EXPECT_EQ(editor->del("/api/secrets/A").status, 403);
  EXPECT_EQ(editor->get("/api/secrets/oauth").status, 403);
  EXPECT_EQ(editor->del("/api/secrets/oauth/google_sheets").status, 403);
  EXPECT_EQ(http(host->port(), "GET", "/api/secrets").status, 401);
}

TEST(accounts_oauth_credentials, ListedWithoutTokensAndDisconnectable) {
  auto host = start_host();
  auto adm = admin(host->port());
  auto empty = adm->get("/api/secrets/oauth");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(empty.body, "{\"providers\":[]}");
  auto missing = adm->del("/api/secrets/oauth/google_sheets");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(str(json(missing), "message"), "No OAuth credentials for 'google_sheets'");

  // No connect flow yet: a credential row is put in place the way the flow will store it.
  query(host->dir() + "/accounts.db",
        "INSERT INTO accounts_oauth_credentials (source_type, provider, account, token_sealed,"
        " connected_at) VALUES ('google_sheets', 'google', 'ann@example.com', 'v1:opaque', "
        "1700000000)"
        " RETURNING source_type");
  auto list = json(adm->get("/api/secrets/oauth"));
  ASSERT_EQ(list["providers"].Size(), 1u);
  EXPECT_EQ(str(list["providers"][0], "source_type"), "google_sheets");
  EXPECT_TRUE(list["providers"][0]["connected"].GetBool());
  EXPECT_FALSE(list["providers"][0].HasMember("token_sealed"));
  EXPECT_EQ(json(adm->get("/api/secrets"))["oauth"].Size(), 1u);
  EXPECT_EQ(adm->del("/api/secrets/oauth/google_sheets").status, 200);
  EXPECT_EQ(adm->get("/api/secrets/oauth").body, "{\"providers\":[]}");
}

}  // namespace
}  // namespace accounts_test
