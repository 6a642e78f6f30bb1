// The read-only guard: every kind of write is refused by the database (SQLite file opened
// read-only + authorizer; PostgreSQL READ ONLY transaction), single statements only, allowed
// tables enforced, row cap, and a query that would run forever is stopped at the time cap.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <plughost/read_only_query.hpp>
#include <plughost/testing.hpp>

#include "offline_translator.hpp"
#include "schema_catalog.hpp"

namespace {

using plughost::readonly::Limits;
using plughost::readonly::QueryFailed;
using plughost::readonly::QueryRefused;
using plughost::readonly::QueryTimeout;
using plughost::readonly::ReadOnlyDatabase;

const char* kFixture =
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);"
    "CREATE TABLE secret (v TEXT);"
    "INSERT INTO t (name) VALUES ('a'), ('b'), ('c');"
    "INSERT INTO secret VALUES ('s');";

const std::vector<std::string> kWrites = {
    "INSERT INTO t (name) VALUES ('x')",
    "UPDATE t SET name = 'x'",
    "DELETE FROM t",
    "WITH d AS (SELECT 1) DELETE FROM t",
    "CREATE TABLE u (x)",
    "DROP TABLE t",
    "SELECT 1; DELETE FROM t",
    "SELECT * FROM t; SELECT 1",
};

class datachat_read_only_sqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = plughost::testing::make_temp_dir();
    path_ = dir_ + "/ro.db";
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, kFixture, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  int64_t rows_in_t() {
    return ReadOnlyDatabase("sqlite://" + path_)
        .run("SELECT COUNT(*) FROM t", {})
        .rows[0][0]
        .integer;
  }
  std::string dir_, path_;
};

TEST_F(datachat_read_only_sqlite, ReadsRowsWithTypes) {
  auto r =
      ReadOnlyDatabase("sqlite://" + path_).run("SELECT id, name, 1.5 AS x FROM t ORDER BY id", {});
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.columns, (std::vector<std::string>{"id", "name", "x"}));
  EXPECT_EQ(r.rows[2][0].integer, 3);
  EXPECT_EQ(r.rows[0][1].text, "a");
  EXPECT_DOUBLE_EQ(r.rows[0][2].real, 1.5);
  EXPECT_FALSE(r.truncated);
}

TEST_F(datachat_read_only_sqlite, RefusesEveryKindOfWrite) {
  ReadOnlyDatabase db("sqlite://" + path_);
  std::vector<std::string> writes = kWrites;
  writes.push_back("ATTACH DATABASE '" + dir_ + "/other.db' AS other");
  writes.push_back("PRAGMA journal_mode = DELETE");
  writes.push_back("PRAGMA user_version = 7");
  writes.push_back("PRAGMA writable_schema = 1");
  writes.push_back("VACUUM");
  writes.push_back("BEGIN");
  for (const auto& sql : writes) {
    EXPECT_THROW(db.run(sql, {}), QueryRefused) << sql;
  }
  EXPECT_EQ(rows_in_t(), 3);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/other.db"));
}

TEST_F(datachat_read_only_sqlite, EnforcesAllowedTablesButLetsCteNamesPass) {
  ReadOnlyDatabase db("sqlite://" + path_);
  Limits only_t;
  only_t.allowed_tables = {"t"};
  EXPECT_THROW(db.run("SELECT * FROM secret", only_t), QueryRefused);
  EXPECT_THROW(db.run("SELECT (SELECT v FROM secret) FROM t", only_t), QueryRefused);
  auto r = db.run("WITH named AS (SELECT name FROM t) SELECT COUNT(*) FROM named", only_t);
  EXPECT_EQ(r.rows[0][0].integer, 3);
}

TEST_F(datachat_read_only_sqlite, CapsRowsAndFlagsTruncation) {
  Limits two;
  two.max_rows = 2;
  auto r = ReadOnlyDatabase("sqlite://" + path_).run("SELECT * FROM t", two);
  EXPECT_EQ(r.rows.size(), 2u);
  EXPECT_TRUE(r.truncated);
}

TEST_F(datachat_read_only_sqlite, StopsAQueryThatRunsForeverAtTheTimeCap) {
  Limits quick;
  quick.timeout_ms = 200;
  EXPECT_THROW(ReadOnlyDatabase("sqlite://" + path_)
                   .run("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
                        "SELECT COUNT(*) FROM r",
                        quick),
               QueryTimeout);
}

TEST_F(datachat_read_only_sqlite, ReportsBadSqlAndMissingFilesAsFailures) {
  EXPECT_THROW(ReadOnlyDatabase("sqlite://" + path_).run("SELECT nope FROM t", {}), QueryFailed);
  EXPECT_THROW(ReadOnlyDatabase("sqlite://" + dir_ + "/absent.db").run("SELECT 1", {}),
               QueryFailed);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/absent.db"));
  EXPECT_THROW(ReadOnlyDatabase("mysql://x"), std::invalid_argument);
}

TEST(datachat_read_only_url, RedactsPasswords) {
  ReadOnlyDatabase db("postgresql://reader:hunter2@db.example:5432/shop");
  EXPECT_EQ(db.redacted_url().find("hunter2"), std::string::npos);
  EXPECT_EQ(db.dialect(), plughost::readonly::Dialect::kPostgresql);
}

// Runs under tests/scripts/with_postgres.sh (ctest datachat_postgres); skipped elsewhere is not
// allowed, so without a server the test only checks that the variable is absent.
TEST(datachat_read_only_postgres, RefusesWritesAndStopsAtTheTimeCap) {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  if (!url || !*url) {
    EXPECT_TRUE(url == nullptr || *url == '\0');
    return;
  }
  // Set up the fixture through a writable connection: the guard cannot write, by design.
  std::string setup = std::string("psql -q -d '") + url +
                      "' -c 'DROP TABLE IF EXISTS t, secret; CREATE TABLE t (id serial PRIMARY "
                      "KEY, name text); CREATE TABLE secret (v text); INSERT INTO t (name) VALUES "
                      "($$a$$), ($$b$$), ($$c$$);' >/dev/null";
  ASSERT_EQ(std::system(setup.c_str()), 0);
  ReadOnlyDatabase db(url);
  for (const auto& sql : kWrites) {
    EXPECT_ANY_THROW(db.run(sql, {})) << sql;  // refused, or not even a cursor query
  }
  EXPECT_EQ(db.run("SELECT COUNT(*) FROM t", {}).rows[0][0].integer, 3);
  Limits only_t;
  only_t.allowed_tables = {"t"};
  EXPECT_THROW(db.run("SELECT * FROM secret", only_t), QueryRefused);
  EXPECT_EQ(db.run("WITH n AS (SELECT * FROM t) SELECT COUNT(*) FROM n", only_t).rows[0][0].integer,
            3);
  Limits quick;
  quick.timeout_ms = 200;
  EXPECT_THROW(db.run("SELECT pg_sleep(30)", quick), QueryTimeout);
  Limits two;
  two.max_rows = 2;
  EXPECT_TRUE(db.run("SELECT * FROM t", two).truncated);
}

}  // namespace

namespace {

// The schema catalog and the offline translator over PostgreSQL (information_schema), so "any
// URL" holds for the whole path, not only the guard.
TEST(datachat_read_only_postgres, SchemaCatalogAndTranslatorWorkOnPostgresql) {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  if (!url || !*url) {
    EXPECT_TRUE(url == nullptr || *url == '\0');
    return;
  }
  std::string setup =
      std::string("psql -q -d '") + url +
      "' -c 'DROP TABLE IF EXISTS pets, owners; CREATE TABLE owners (id serial "
      "PRIMARY KEY, name text, city text); CREATE TABLE pets (id serial PRIMARY "
      "KEY, owner_id integer REFERENCES owners(id), kind text, born date); INSERT "
      "INTO owners (name, city) VALUES ($$Ann$$, $$Oslo$$), ($$Bo$$, $$Rome$$); "
      "INSERT INTO pets (owner_id, kind, born) VALUES (1, $$cat$$, $$2024-01-02$$), "
      "(1, $$dog$$, $$2025-05-06$$), (2, $$cat$$, $$2025-07-08$$);' >/dev/null";
  ASSERT_EQ(std::system(setup.c_str()), 0);
  ReadOnlyDatabase db(url);
  datachat::Schema s = datachat::read_schema(db, {"owners", "pets"});
  ASSERT_EQ(s.tables.size(), 2u);
  const datachat::Table* pets = s.table("pets");
  ASSERT_NE(pets, nullptr);
  ASSERT_EQ(pets->foreign_keys.size(), 1u);
  EXPECT_EQ(pets->foreign_keys[0].table, "owners");
  EXPECT_TRUE(pets->column("id")->primary_key);
  EXPECT_TRUE(pets->column("born")->temporal());
  EXPECT_EQ(pets->column("kind")->values, (std::vector<std::string>{"cat", "dog"}));
  auto t = datachat::translate_offline(
      {"How many cats do owners in Oslo have?", s, {}, "postgresql", "2026-03-18"});
  ASSERT_FALSE(t.sql.empty()) << t.cannot_answer;
  EXPECT_EQ(db.run(t.sql, {}).rows[0][0].integer, 1);
  auto since = datachat::translate_offline(
      {"How many pets since 2025-01-01?", s, {}, "postgresql", "2026-03-18"});
  EXPECT_EQ(db.run(since.sql, {}).rows[0][0].integer, 2);
}

}  // namespace
