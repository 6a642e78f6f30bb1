// The CSV reader, type inference and the file source types' incremental rules, in process.
#include <gtest/gtest.h>

#include <filesystem>
#include <plughost/testing.hpp>

#include "csv_reader.hpp"
#include "settings.hpp"
#include "source_types.hpp"
#include "tabular.hpp"

namespace {

using namespace dango;
namespace fs = std::filesystem;

TEST(dango_csv, InfersSemicolonDelimiterAndReadsQuotedFields) {
  CsvResult r =
      read_csv("id;name;note\n1;\"Smith; John\";\"said \"\"hi\"\"\"\n2;Ann;\n", {}, "a.csv");
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  EXPECT_EQ(r.delimiter, ';');
  ASSERT_EQ(r.table.columns.size(), 3u);
  EXPECT_EQ(r.table.columns[1].name, "name");
  ASSERT_EQ(r.table.rows.size(), 2u);
  EXPECT_EQ(*r.table.rows[0][1], "Smith; John");
  EXPECT_EQ(*r.table.rows[0][2], "said \"hi\"");
  EXPECT_FALSE(r.table.rows[1][2].has_value());  // empty cell: NULL
}

TEST(dango_csv, InfersTabAndSingleQuotesWithoutHeader) {
  CsvOptions o;
  o.header = false;
  CsvResult r = read_csv("'a\tb'\t2\n'c'\t3\n", o, "t.csv");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.delimiter, '\t');
  EXPECT_EQ(r.quote, '\'');
  ASSERT_EQ(r.table.columns.size(), 2u);
  EXPECT_EQ(r.table.columns[0].name, "column_1");
  EXPECT_EQ(*r.table.rows[0][0], "a\tb");
}

TEST(dango_csv, ReportsMalformedLinesWithTheirLineNumbers) {
  // Line 3 has too many fields; the quoted field of line 4 spans into line 5, so line 6 is the
  // next record and its stray quote is reported on line 6.
  std::string text =
      "id,name\n"
      "1,ok\n"
      "2,too,many\n"
      "3,\"two\nlines\"\n"
      "4,bad\"quote\n"
      "5,fine\n";
  CsvResult r = read_csv(text, {}, "bad.csv");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].line, 3u);
  EXPECT_EQ(r.errors[0].file, "bad.csv");
  EXPECT_NE(r.errors[0].message.find("expected 2 fields, found 3"), std::string::npos);
  EXPECT_EQ(r.errors[1].line, 6u);
  EXPECT_EQ(r.table.rows.size(), 3u);  // 1, 3 and 5; the caller loads nothing when errors exist
}

TEST(dango_csv, ReportsAnUnterminatedQuote) {
  CsvResult r = read_csv("a,b\n1,\"open\n2,3\n", {}, "q.csv");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_NE(r.errors[0].message.find("unterminated"), std::string::npos);
}

TEST(dango_csv, ConvertsLatin1AndDropsTheBom) {
  EXPECT_EQ(to_utf8("\xEF\xBB\xBFname\n"), "name\n");
  EXPECT_EQ(to_utf8("caf\xE9"), "caf\xC3\xA9");
  EXPECT_EQ(to_utf8("caf\xC3\xA9"), "caf\xC3\xA9");  // valid UTF-8 untouched
}

TEST(dango_types, InfersTheNarrowestColumnType) {
  EXPECT_EQ(cell_type("42"), ColumnType::kInteger);
  EXPECT_EQ(cell_type("-7"), ColumnType::kInteger);
  EXPECT_EQ(cell_type("007"), ColumnType::kText);  // an identifier, not a number
  EXPECT_EQ(cell_type("99999999999999999999"), ColumnType::kReal);
  EXPECT_EQ(cell_type("3.5e2"), ColumnType::kReal);
  EXPECT_EQ(cell_type("nan"), ColumnType::kText);
  EXPECT_EQ(cell_type("2024-02-29"), ColumnType::kDate);
  EXPECT_EQ(cell_type("2024-13-01"), ColumnType::kText);
  EXPECT_EQ(cell_type("2024-02-29T10:00:00Z"), ColumnType::kTimestamp);
  EXPECT_EQ(cell_type("2024-02-29 10:00:00.123+02:00"), ColumnType::kTimestamp);
  EXPECT_EQ(widen(ColumnType::kInteger, ColumnType::kReal), ColumnType::kReal);
  EXPECT_EQ(widen(ColumnType::kDate, ColumnType::kTimestamp), ColumnType::kTimestamp);
  EXPECT_EQ(widen(ColumnType::kInteger, ColumnType::kDate), ColumnType::kText);

  Table t;
  t.columns = {{"a", ColumnType::kText}, {"b", ColumnType::kText}, {"c", ColumnType::kText}};
  t.rows = {{std::string("1"), std::string("1.5"), std::nullopt},
            {std::string("2"), std::string("2"), std::nullopt}};
  infer_column_types(t);
  EXPECT_EQ(t.columns[0].type, ColumnType::kInteger);
  EXPECT_EQ(t.columns[1].type, ColumnType::kReal);
  EXPECT_EQ(t.columns[2].type, ColumnType::kText);  // no value at all
}

TEST(dango_settings, NormalizesSourceNames) {
  EXPECT_EQ(normalize_source_name("Sales_2024").value_or(""), "sales_2024");
  EXPECT_FALSE(normalize_source_name("bad-name"));
  EXPECT_FALSE(normalize_source_name(""));
  EXPECT_FALSE(normalize_source_name(std::string(129, 'a')));
  EXPECT_TRUE(normalize_source_name(std::string(128, 'a')));
}

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { folder_ = plughost::testing::make_temp_dir(); }
  void TearDown() override { fs::remove_all(folder_); }
  ReadRequest request(const std::string& state = "") {
    ReadRequest rq;
    rq.source = "sales";
    rq.folder = folder_;
    rq.state_json = state;
    rq.loaded_at = "2026-01-01T00:00:00Z";
    return rq;
  }
  std::string folder_;
};

TEST_F(FileSourceTest, LoadsNewFilesThenOnlyChangesAndDeletions) {
  plughost::testing::write_file(folder_ + "/a.csv", "id,amount\n1,2.5\n2,3\n");
  plughost::testing::write_file(folder_ + "/b.csv", "id,region\n3,north\n");
  plughost::testing::write_file(folder_ + "/empty.csv", "id,amount\n");
  plughost::testing::write_file(folder_ + "/notes.txt", "not a csv");
  SourceBatch first = read_csv_source(request());
  ASSERT_TRUE(first.errors.empty());
  ASSERT_EQ(first.tables.size(), 1u);
  const Table& t = first.tables[0].table;
  EXPECT_EQ(first.tables[0].name, "sales");
  ASSERT_EQ(t.rows.size(), 3u);
  // Union of columns: id, amount, _dango_*, region (gaps NULL).
  std::vector<std::string> names;
  for (const auto& c : t.columns) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "amount", "_dango_filename", "_dango_file_mtime",
                                             "_dango_loaded_at", "region"}));
  EXPECT_EQ(t.columns[0].type, ColumnType::kInteger);
  EXPECT_EQ(t.columns[1].type, ColumnType::kReal);
  EXPECT_FALSE(t.rows[2][1].has_value());
  EXPECT_EQ(*t.rows[2][2], "b.csv");
  bool skipped = false;
  for (const auto& n : first.notes) skipped = skipped || n == "skipped empty.csv: no rows";
  EXPECT_TRUE(skipped);

  // Nothing changed: nothing to load.
  SourceBatch same = read_csv_source(request(first.state_json));
  EXPECT_TRUE(same.tables.empty());

  // a.csv updated, b.csv deleted.
  plughost::testing::write_file(folder_ + "/a.csv", "id,amount\n1,9\n");
  fs::last_write_time(folder_ + "/a.csv",
                      fs::last_write_time(folder_ + "/a.csv") + std::chrono::seconds(5));
  fs::remove(folder_ + "/b.csv");
  SourceBatch next = read_csv_source(request(first.state_json));
  ASSERT_EQ(next.tables.size(), 1u);
  EXPECT_EQ(next.tables[0].table.rows.size(), 1u);
  auto deleted = next.tables[0].delete_values;
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"a.csv", "b.csv"}));
  EXPECT_EQ(next.tables[0].delete_column, "_dango_filename");
}

TEST_F(FileSourceTest, ReadsJsonArraysAndNdjson) {
  plughost::testing::write_file(folder_ + "/a.json", "[{\"id\":1,\"tags\":[\"x\"]},{\"id\":2}]");
  plughost::testing::write_file(folder_ + "/b.ndjson", "{\"id\":3,\"ok\":true}\n\n{\"id\":4}\n");
  SourceBatch b = read_json_source(request());
  ASSERT_TRUE(b.errors.empty());
  ASSERT_EQ(b.tables.size(), 1u);
  const Table& t = b.tables[0].table;
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_EQ(t.columns[0].type, ColumnType::kInteger);
  EXPECT_EQ(*t.rows[0][1], "[\"x\"]");

  plughost::testing::write_file(folder_ + "/c.jsonl", "{\"id\":5}\n{broken\n");
  SourceBatch bad = read_json_source(request());
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].file, "c.jsonl");
  EXPECT_EQ(bad.errors[0].line, 2u);
}

TEST(dango_protocol, BatchJsonRoundTrips) {
  SourceBatch b;
  TableLoad load;
  load.name = "items";
  load.table.columns = {{"id", ColumnType::kInteger}, {"label", ColumnType::kText}};
  load.table.rows = {{std::string("1"), std::nullopt}};
  load.delete_column = "id";
  load.delete_values = {"1"};
  b.tables.push_back(load);
  b.state_json = "{\"cursor\":7}";
  b.errors.push_back({"f.csv", 3, "bad"});
  SourceBatch back = parse_batch(batch_json(b));
  ASSERT_EQ(back.tables.size(), 1u);
  EXPECT_EQ(back.tables[0].table.columns[0].type, ColumnType::kInteger);
  EXPECT_FALSE(back.tables[0].table.rows[0][1].has_value());
  EXPECT_EQ(back.tables[0].delete_values, std::vector<std::string>{"1"});
  EXPECT_EQ(back.state_json, "{\"cursor\":7}");
  ASSERT_EQ(back.errors.size(), 1u);
  EXPECT_EQ(back.errors[0].line, 3u);
  EXPECT_THROW(parse_batch("{\"tables\":[{\"name\":\"x\",\"columns\":[\"a\"],\"rows\":[[1,2]]}]}"),
               std::invalid_argument);
}

}  // namespace
