// POST /api/query: the SDK's read-only guard on its own against a WAL-mode SQLite file like the
// warehouse (every kind of write refused by the database, not by Dango's text check), the lexical
// outline Dango's policy uses, and the endpoint over HTTP: answers, caps, timeout, errors.
#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <plughost/read_only_query.hpp>

#include "lab.hpp"

namespace {

using namespace dango_test;
namespace ro = plughost::readonly;

// A WAL-mode database with one table, as the warehouse keeps it, held open by a writer the way
// the plugin's pool holds it.
class dango_query_guard : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    path_ = dir_ + "/wh.db";
    ASSERT_EQ(sqlite3_open(path_.c_str(), &writer_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(writer_,
                           "PRAGMA journal_mode=WAL; CREATE TABLE raw_s__s (id INTEGER, name TEXT);"
                           "INSERT INTO raw_s__s VALUES (1, 'a'), (2, 'b');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  void TearDown() override {
    sqlite3_close(writer_);
    fs::remove_all(dir_);
  }
  std::string dir_, path_;
  sqlite3* writer_ = nullptr;
};

TEST_F(dango_query_guard, TheDatabaseRefusesEveryKindOfWrite) {
  ro::ReadOnlyDatabase db("sqlite://" + path_);
  const std::string attached = dir_ + "/other.db";
  const std::string vacuumed = dir_ + "/copy.db";
  const std::vector<std::string> writes = {
      "INSERT INTO raw_s__s VALUES (3, 'c')",
      "UPDATE raw_s__s SET name = 'x'",
      "DELETE FROM raw_s__s",
      "REPLACE INTO raw_s__s VALUES (1, 'z')",
      "DROP TABLE raw_s__s",
      "CREATE TABLE evil (a)",
      "CREATE TEMP TABLE evil (a)",
      "CREATE INDEX i ON raw_s__s (id)",
      "CREATE VIEW v AS SELECT 1",
      "ALTER TABLE raw_s__s ADD COLUMN x",
      "WITH d AS (SELECT 1) DELETE FROM raw_s__s",
      "WITH d AS (SELECT 9, 'w') INSERT INTO raw_s__s SELECT * FROM d",
      "WITH d AS (SELECT 1) UPDATE raw_s__s SET name = 'u'",
      "ATTACH DATABASE '" + attached + "' AS other",
      "DETACH DATABASE main",
      "PRAGMA user_version = 7",
      "PRAGMA journal_mode = DELETE",
      "PRAGMA query_only = 0",
      "PRAGMA writable_schema = ON",
      "SELECT 1; DELETE FROM raw_s__s",
      "SELECT * FROM raw_s__s; SELECT 2",
      "SELECT load_extension('/nonexistent/libevil')",
      "SELECT fts3_tokenizer('simple')",
      "VACUUM",
      "VACUUM INTO '" + vacuumed + "'",
      "REINDEX",
      "ANALYZE",
      "BEGIN IMMEDIATE",
      "SAVEPOINT s",
  };
  for (const auto& sql : writes) {
    EXPECT_THROW(db.run(sql, {}), ro::QueryRefused) << sql;
  }
  // Nothing changed: rows, schema, settings, and no file appeared.
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) || group_concat(name) FROM raw_s__s"), "2a,b");
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM sqlite_master"), "1");
  EXPECT_EQ(scalar(path_, "PRAGMA user_version"), "0");
  EXPECT_EQ(scalar(path_, "PRAGMA journal_mode"), "wal");
  EXPECT_FALSE(fs::exists(attached));
  EXPECT_FALSE(fs::exists(vacuumed));
  // Reading still works on the same guard, with a recursive CTE and a trailing ';' or comment.
  auto r = db.run(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3)"
      " SELECT x FROM c; -- done",
      {});
  EXPECT_EQ(r.rows.size(), 3u);
}

TEST_F(dango_query_guard, InterruptsAQueryThatRunsForever) {
  ro::ReadOnlyDatabase db("sqlite://" + path_);
  ro::Limits limits;
  limits.timeout_ms = 100;
  EXPECT_THROW(
      db.run("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
             limits),
      ro::QueryTimeout);
}

TEST(dango_query_outline, FindsTheFirstKeywordCompoundsAndStatements) {
  auto o = ro::outline("  -- note\n /* c */ SeLeCt 1 FROM t;  ");
  EXPECT_EQ(o.first_keyword, "select");
  EXPECT_FALSE(o.compound);
  EXPECT_EQ(o.statements, 1);
  EXPECT_TRUE(ro::outline("SELECT 1 UNION SELECT 2").compound);
  EXPECT_TRUE(ro::outline("select 1 except select 2").compound);
  // Inside parentheses, quotes or comments a compound keyword is not the statement's.
  EXPECT_FALSE(ro::outline("WITH c AS (SELECT 1 UNION ALL SELECT 2) SELECT * FROM c").compound);
  EXPECT_FALSE(ro::outline("SELECT 'union', \"union\", [union] -- union\n FROM t").compound);
  EXPECT_EQ(ro::outline("SELECT 1; DROP TABLE t").statements, 2);
  EXPECT_EQ(ro::outline("SELECT ';'").statements, 1);
  EXPECT_EQ(ro::outline(" ;; -- only a comment").statements, 0);
  EXPECT_EQ(ro::outline("(SELECT 1)").first_keyword, "");
  EXPECT_EQ(ro::outline("PRAGMA table_info(t)").first_keyword, "pragma");
  // Unterminated quotes and comments end the text; nothing is read past it.
  EXPECT_EQ(ro::outline("SELECT 'open").statements, 1);
  EXPECT_EQ(ro::outline("/* open").statements, 0);
}

std::string sql_body(const std::string& sql) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("sql");
  w.String(sql.c_str(), static_cast<rapidjson::SizeType>(sql.size()));
  w.EndObject();
  return buf.GetString();
}

class QueryApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lab_ = new Lab(LabSetup("[{name: q, type: csv}]"));
    ASSERT_TRUE(lab_->ready()) << lab_->host().output();
    write_text(lab_->folder("q") + "/a.csv", "id,name,price\n1,apple,1.5\n2,pear,\n3,fig,2\n");
    ASSERT_EQ(lab_->sync_and_wait("q"), "success");
  }
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }
  HttpResponse query(const std::string& sql) { return lab_->post("/api/query", sql_body(sql)); }
  void expect_error(const HttpResponse& r, int status, const char* code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto d = json(r);
    ASSERT_TRUE(d.IsObject() && d.HasMember("error_code")) << r.body;
    EXPECT_STREQ(d["error_code"].GetString(), code) << r.body;
  }
  static Lab* lab_;
};
Lab* QueryApi::lab_ = nullptr;

TEST_F(QueryApi, AnswersColumnsRowsAndTiming) {
  auto r = query("SELECT id, name, price FROM raw_q__q ORDER BY id");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  ASSERT_EQ(d["columns"].Size(), 3u);
  EXPECT_STREQ(d["columns"][1].GetString(), "name");
  ASSERT_EQ(d["rows"].Size(), 3u);
  EXPECT_EQ(d["rows"][0][0].GetInt64(), 1);
  EXPECT_STREQ(d["rows"][0][1].GetString(), "apple");
  EXPECT_DOUBLE_EQ(d["rows"][0][2].GetDouble(), 1.5);
  EXPECT_TRUE(d["rows"][1][2].IsNull());
  EXPECT_EQ(d["row_count"].GetInt64(), 3);
  EXPECT_FALSE(d["truncated"].GetBool());
  EXPECT_TRUE(d["warning"].IsNull());
  EXPECT_TRUE(d["execution_time_ms"].IsNumber());
  EXPECT_GE(d["execution_time_ms"].GetDouble(), 0.0);

  // Bytes that are not UTF-8 still make valid JSON; infinity becomes null.
  auto odd = json(query("SELECT CAST(x'ff41' AS TEXT) AS t, 1e999 AS inf"));
  EXPECT_STREQ(odd["rows"][0][0].GetString(),
               "\xEF\xBF\xBD"
               "A");
  EXPECT_TRUE(odd["rows"][0][1].IsNull());
}

TEST_F(QueryApi, CapsRowsAtTenThousandWithATruncationFlag) {
  auto r = query(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10001)"
      " SELECT x FROM c");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  auto d = json(r);
  EXPECT_EQ(d["row_count"].GetInt64(), 10000);
  EXPECT_EQ(d["rows"].Size(), 10000u);
  EXPECT_TRUE(d["truncated"].GetBool());
  EXPECT_STREQ(d["warning"].GetString(), "Results truncated to 10000 rows");
  auto exact =
      json(query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000)"
                 " SELECT x FROM c"));
  EXPECT_EQ(exact["row_count"].GetInt64(), 10000);
  EXPECT_FALSE(exact["truncated"].GetBool());
}

TEST_F(QueryApi, RefusesEveryWriteAndNonSelectWithQ002) {
  const std::string db = lab_->warehouse();
  for (const std::string& sql : std::vector<std::string>{
           "INSERT INTO raw_q__q (id) VALUES (9)",
           "UPDATE raw_q__q SET name = 'x'",
           "DELETE FROM raw_q__q",
           "DROP TABLE raw_q__q",
           "CREATE TABLE evil (a)",
           "WITH d AS (SELECT 1) DELETE FROM raw_q__q",
           "WITH d AS (SELECT 1) INSERT INTO raw_q__q (id) SELECT * FROM d",
           "ATTACH DATABASE '" + lab_->dir() + "/x.db' AS x",
           "PRAGMA user_version = 3",
           "PRAGMA table_info(raw_q__q)",
           "EXPLAIN SELECT 1",
           "SELECT 1; DELETE FROM raw_q__q",
           "SELECT load_extension('/nonexistent/libevil')",
           "SELECT 1 UNION SELECT 2",
           "VACUUM",
       }) {
    expect_error(query(sql), 400, "DANGO-Q002");
  }
  auto body = json(query("DELETE FROM raw_q__q"));
  EXPECT_STREQ(body["message"].GetString(), "Only SELECT queries are allowed");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_q__q"), "3");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'evil'"), "0");
  EXPECT_EQ(scalar(db, "PRAGMA user_version"), "0");
  EXPECT_FALSE(fs::exists(lab_->dir() + "/x.db"));
}

TEST_F(QueryApi, ReportsEmptyLongAndFailingQueries) {
  expect_error(query(""), 400, "DANGO-Q001");
  expect_error(query("  -- nothing\n ; "), 400, "DANGO-Q001");
  auto failed = query("SELECT nope FROM raw_q__q");
  expect_error(failed, 400, "DANGO-Q005");
  EXPECT_NE(json(failed)["message"].GetString(), std::string());
  EXPECT_EQ(std::string(json(failed)["message"].GetString()).rfind("Query execution failed: ", 0),
            0u);

  // 102,400 characters pass (counted as characters, not bytes); one more is 422.
  std::string padded = "SELECT 'é' AS e";
  std::string at_cap = padded + std::string(102400 - 15, ' ');
  EXPECT_EQ(query(at_cap).status, 200);
  auto too_long = query(at_cap + " ");
  EXPECT_EQ(too_long.status, 422) << too_long.body;
  EXPECT_TRUE(json(too_long).HasMember("detail"));

  EXPECT_EQ(lab_->post("/api/query", "{}").status, 422);
  EXPECT_EQ(lab_->post("/api/query", "{\"sql\": 5}").status, 422);
  EXPECT_EQ(lab_->post("/api/query", "not json").status, 422);
}

TEST(dango_query, StopsAQueryThatRunsForeverAtTheConfiguredTimeout) {
  Lab lab(LabSetup("[{name: t, type: csv}]", false, "query: {timeout_seconds: 0.3, max_rows: 5}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto r = lab.post(
      "/api/query",
      sql_body(
          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"));
  EXPECT_EQ(r.status, 408) << r.body;
  EXPECT_STREQ(json(r)["error_code"].GetString(), "DANGO-Q004");
  EXPECT_STREQ(json(r)["message"].GetString(), "Query timed out after 0.3 seconds");
  // The configured row cap, and the host still answers queries afterwards.
  auto capped = lab.post(
      "/api/query",
      sql_body("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 9)"
               " SELECT x FROM c"));
  ASSERT_EQ(capped.status, 200) << capped.body;
  EXPECT_EQ(json(capped)["row_count"].GetInt64(), 5);
  EXPECT_TRUE(json(capped)["truncated"].GetBool());
  EXPECT_STREQ(json(capped)["warning"].GetString(), "Results truncated to 5 rows");
}

}  // namespace
