// The dummy password hash (checked when a sign-in names an unknown e-mail): made and stored by
// the first start, read back by later ones, made again when its parameters no longer match.
#include <gtest/gtest.h>
#include <sodium.h>
#include <sqlite3.h>

#include <filesystem>

#include "support.hpp"

namespace accounts_test {
namespace {

constexpr const char* kComputed = "computed and stored the dummy password hash";
// The tests' hashing cost (support.hpp: opslimit 1, memlimit 1024 KiB).
constexpr unsigned long long kOps = 1;
constexpr size_t kMem = 1024 * 1024;

// Runs `sql` on the file; returns the first column of the first row ("" when none).
std::string sql_value(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string value;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_text(st, 0)) {
    value = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return value;
}

std::string hash_of(const std::string& password, unsigned long long ops, size_t mem) {
  char out[crypto_pwhash_STRBYTES];
  EXPECT_EQ(crypto_pwhash_str(out, password.data(), password.size(), ops, mem), 0);
  return out;
}

class accounts_dummy_hash : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    setup_.storage_url = "sqlite://" + dir_ + "/accounts.db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string stored() {
    return sql_value(db_, "SELECT value FROM accounts_state WHERE name = 'dummy_password_hash'");
  }
  void store(const std::string& hash) {
    sql_value(
        db_, "UPDATE accounts_state SET value = '" + hash + "' WHERE name = 'dummy_password_hash'");
    ASSERT_EQ(stored(), hash);
  }

  std::string dir_ = plughost::testing::make_temp_dir();
  std::string db_ = dir_ + "/accounts.db";
  HostSetup setup_;
};

TEST_F(accounts_dummy_hash, FirstStartStoresItAndLaterStartsReuseIt) {
  std::string first;
  {
    auto host = start_host(setup_);
    EXPECT_NE(host->output().find(kComputed), std::string::npos) << host->output();
    first = stored();
  }
  ASSERT_EQ(first.rfind("$argon2id$", 0), 0u) << first;
  EXPECT_EQ(crypto_pwhash_str_needs_rehash(first.c_str(), kOps, kMem), 0) << first;
  auto host = start_host(setup_);
  EXPECT_EQ(host->output().find(kComputed), std::string::npos) << host->output();
  EXPECT_EQ(stored(), first);
  // Still serving: the admin signs in, an unknown e-mail does not.
  Client c(host->port());
  EXPECT_EQ(c.post("/api/auth/login", login_body(kAdminEmail, kAdminPassword)).status, 200);
  auto r = c.post("/api/auth/login", login_body("nobody@example.com", kAdminPassword));
  EXPECT_EQ(r.status, 400) << r.body;  // Dango's answer to bad credentials
  EXPECT_NE(r.body.find("Invalid email or password"), std::string::npos) << r.body;
}

TEST_F(accounts_dummy_hash, OtherParametersOrAMalformedValueAreMadeAgain) {
  start_host(setup_).reset();
  for (const std::string& old :
       {hash_of("x", kOps + 1, kMem), hash_of("x", kOps, 2 * kMem), std::string("not a hash")}) {
    store(old);
    auto host = start_host(setup_);
    EXPECT_NE(host->output().find(kComputed), std::string::npos) << host->output();
    std::string now = stored();
    EXPECT_NE(now, old);
    EXPECT_EQ(crypto_pwhash_str_needs_rehash(now.c_str(), kOps, kMem), 0) << now;
  }
}

// The stored hash is what an unknown e-mail is checked against, and a password matching it signs
// nobody in.
TEST_F(accounts_dummy_hash, AMatchOnTheDummyHashSignsNobodyIn) {
  start_host(setup_).reset();
  const std::string password = "Dummy-Matching-Password-7";
  std::string known = hash_of(password, kOps, kMem);
  store(known);
  auto host = start_host(setup_);
  EXPECT_EQ(host->output().find(kComputed), std::string::npos) << host->output();
  EXPECT_EQ(stored(), known);
  Client c(host->port());
  auto r = c.post("/api/auth/login", login_body("nobody@example.com", password));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("Invalid email or password"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace accounts_test
