// The plugin with host storage and the warehouse on PostgreSQL: layers as schemas, the run
// history's migrations and unique index, a column widened and one added, a malformed file loading
// nothing, file rows deleted. Runs under tests/scripts/with_postgres.sh, which provides a fresh
// database in PLUGHOST_TEST_POSTGRES_URL; skipped without it (as accounts' PostgreSQL test).
#include <gtest/gtest.h>

#include <cstdlib>

#include "lab.hpp"

namespace {

using namespace dango_test;

int64_t row_count(Lab& lab) {
  return json(lab.get("/api/sources"))[0]["row_count"].GetInt64();
}

TEST(dango_postgres, SyncsIntoPostgresSchemas) {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  if (!url || !*url) GTEST_SKIP() << "PLUGHOST_TEST_POSTGRES_URL is not set";
  LabSetup setup("[{name: PgSales, type: csv}]", false,
                 "warehouse: {url: \"" + std::string(url) + "\"}");
  setup.storage_url = url;
  Lab lab(setup);
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  const std::string f = lab.folder("pgsales");
  write_text(f + "/a.csv", "id,amount,day\n1,2.5,2026-01-01\n2,3,2026-01-02\n");
  ASSERT_EQ(lab.sync_and_wait("pgsales"), "success") << lab.host().output();
  auto list = json(lab.get("/api/sources"));
  EXPECT_EQ(list[0]["row_count"].GetInt64(), 2);
  EXPECT_STREQ(list[0]["tables"][0]["schema"].GetString(), "raw_pgsales");
  EXPECT_STREQ(list[0]["tables"][0]["name"].GetString(), "pgsales");
  EXPECT_STREQ(json(lab.get("/api/status"))["warehouse"]["dialect"].GetString(), "postgresql");

  // "id" was BIGINT; a code in it widens the column to TEXT, and a new column is added.
  write_text(f + "/b.csv", "id,amount,day,region\nA-7,1,2026-01-03,north\n");
  ASSERT_EQ(lab.sync_and_wait("pgsales"), "success")
      << json(lab.get("/api/sources/pgsales/details"))["sync_history"][0]["error"].GetString();
  EXPECT_EQ(row_count(lab), 3);

  write_text(f + "/c.csv", "id,amount\n9,1,extra\n");
  EXPECT_EQ(lab.sync_and_wait("pgsales"), "failed");
  EXPECT_EQ(row_count(lab), 3);
  fs::remove(f + "/c.csv");

  auto files = json(lab.get("/api/sources/pgsales/csv-files"));
  EXPECT_EQ(files["files"][0]["row_count"].GetInt64(), 2);
  auto del = lab.del("/api/sources/pgsales/csv-files?file_path=a.csv");
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(json(del)["rows_deleted"].GetInt64(), 2);
  EXPECT_EQ(row_count(lab), 1);

  // Full refresh through the job API on PostgreSQL storage.
  auto job =
      json(lab.post("/api/sync/trigger", "{\"sources\":[\"pgsales\"],\"full_refresh\":true}"));
  std::string id = std::to_string(job["job_id"].GetInt64());
  std::string status;
  ASSERT_TRUE(eventually(
      [&] {
        status = json(lab.get("/api/sync/status/" + id))["status"].GetString();
        return status != "running";
      },
      30));
  EXPECT_EQ(status, "success");
  EXPECT_EQ(row_count(lab), 1);
}

// The sql source type reading PostgreSQL (here the warehouse's own raw table of a csv source),
// typed from PostgreSQL's column types and incremental by cursor column.
TEST(dango_postgres, SqlSourceReadsPostgresIncrementally) {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  if (!url || !*url) GTEST_SKIP() << "PLUGHOST_TEST_POSTGRES_URL is not set";
  LabSetup setup("[{name: pgsrc, type: csv}, {name: pgcopy, type: sql, options: {url: \"" +
                     std::string(url) +
                     "\", tables: [{name: raw_pgsrc.pgsrc, cursor_column: id}]}}]",
                 false, "warehouse: {url: \"" + std::string(url) + "\"}");
  setup.storage_url = url;
  Lab lab(setup);
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto copied = [&] {
    auto list = json(lab.get("/api/sources"));
    for (const auto& s : list.GetArray()) {
      if (std::string(s["name"].GetString()) == "pgcopy") return s["row_count"].GetInt64();
    }
    return int64_t{-1};
  };
  write_text(lab.folder("pgsrc") + "/a.csv", "id,amount,day\n1,2.5,2026-01-01\n2,3,2026-01-02\n");
  ASSERT_EQ(lab.sync_and_wait("pgsrc"), "success");
  ASSERT_EQ(lab.sync_and_wait("pgcopy"), "success")
      << json(lab.get("/api/sources/pgcopy/details"))["sync_history"][0]["error"].GetString();
  EXPECT_EQ(copied(), 2);
  write_text(lab.folder("pgsrc") + "/b.csv", "id,amount,day\n3,4,2026-01-03\n");
  ASSERT_EQ(lab.sync_and_wait("pgsrc"), "success");
  ASSERT_EQ(lab.sync_and_wait("pgcopy"), "success");
  EXPECT_EQ(copied(), 3);
  auto details = json(lab.get("/api/sources/pgcopy/details"));
  EXPECT_EQ(details["sync_history"][0]["rows_loaded"].GetInt64(), 1);
}

// POST /api/query on a PostgreSQL warehouse: reads answer, writes are refused by the read-only
// transaction (the row count stays), and a query that runs forever is cancelled by
// statement_timeout at the configured 0.5 s.
TEST(dango_postgres, QueryIsReadOnlyAndStoppedAtTheTimeout) {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  if (!url || !*url) GTEST_SKIP() << "PLUGHOST_TEST_POSTGRES_URL is not set";
  LabSetup setup(
      "[{name: PgQuery, type: csv}]", false,
      "warehouse: {url: \"" + std::string(url) + "\"}, query: {timeout_seconds: 0.5, max_rows: 2}");
  setup.storage_url = url;
  Lab lab(setup);
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("pgquery") + "/a.csv", "id\n1\n2\n3\n");
  ASSERT_EQ(lab.sync_and_wait("pgquery"), "success") << lab.host().output();

  auto ok = lab.post("/api/query", "{\"sql\": \"SELECT id FROM raw_pgquery.pgquery ORDER BY id\"}");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json(ok)["row_count"].GetInt64(), 2);
  EXPECT_TRUE(json(ok)["truncated"].GetBool());
  EXPECT_EQ(json(ok)["rows"][0][0].GetInt64(), 1);

  for (const char* sql :
       {"WITH d AS (DELETE FROM raw_pgquery.pgquery RETURNING id) SELECT * FROM d",
        "SELECT 1; DELETE FROM raw_pgquery.pgquery",
        "SELECT set_config('transaction_read_only', 'off', true)"}) {
    auto r = lab.post("/api/query", "{\"sql\": \"" + std::string(sql) + "\"}");
    EXPECT_EQ(r.status, 400) << sql << " " << r.body;
  }
  EXPECT_EQ(json(lab.get("/api/sources"))[0]["row_count"].GetInt64(), 3);

  auto slow = lab.post("/api/query", "{\"sql\": \"SELECT pg_sleep(60)\"}");
  EXPECT_EQ(slow.status, 408) << slow.body;
  EXPECT_STREQ(json(slow)["error_code"].GetString(), "DANGO-Q004");
  auto forever = lab.post("/api/query",
                          "{\"sql\": \"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                          "FROM c) SELECT max(x) FROM c\"}");
  EXPECT_EQ(forever.status, 408) << forever.body;
}

}  // namespace
