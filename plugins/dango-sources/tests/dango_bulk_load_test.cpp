// The bulk CSV load's batching through the real host: files whose row count is not a multiple of
// the hand-over batch (4096 rows) or of the multi-row INSERT (64 rows), quoted fields copied out of
// the parser's buffer, a malformed last line that loads nothing, and the monitoring metrics taken
// from the load's own counts (fresh table) or from a scan (rows appended to existing ones).
#include <gtest/gtest.h>

#include <plughost/json.hpp>

#include "csv_reader.hpp"
#include "lab.hpp"

namespace {

using namespace dango_test;
using plughost::sdk::to_json;

std::string last_error(Lab& lab, const std::string& source) {
  const auto d = json(lab.get("/api/sources/" + source + "/details"));
  const auto& e = d["sync_history"][0]["error"];
  return e.IsString() ? e.GetString() : "";
}

// Rows id 1…n: note empty on every 7th row, quoted with the delimiter and an escaped quote on
// every 10th (when not empty), amount id/4 (a real), code with a leading zero (text).
std::string orders_csv(int first, int n, bool bad_last_line = false) {
  std::string text = "id,amount,note,code\n";
  for (int i = first; i < first + n; ++i) {
    std::string note = i % 7 == 0    ? ""
                       : i % 10 == 0 ? "\"gift, \"\"wrapped\"\" " + std::to_string(i) + "\""
                                     : "web";
    text += std::to_string(i) + "," + std::to_string(i / 4.0) + "," + note + ",0" +
            std::to_string(i % 100);
    if (bad_last_line && i == first + n - 1) text += ",extra";
    text += "\n";
  }
  return text;
}

int empty_notes(int first, int n) {
  int count = 0;
  for (int i = first; i < first + n; ++i) count += i % 7 == 0;
  return count;
}

const rapidjson::Value& last_measurement(const rapidjson::Document& history) {
  const auto& list = history["history"];
  return list[list.Size() - 1];
}

TEST(dango_bulk_load, RowCountsThatAreNoMultipleOfTheBatchesLoadEveryRow) {
  Lab lab(LabSetup("[{name: orders, type: csv}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  // Two full batches, three full multi-row inserts and five single rows.
  const int n = 2 * 4096 + 3 * 64 + 5;
  write_text(lab.folder("orders") + "/a.csv", orders_csv(1, n));
  ASSERT_EQ(lab.sync_and_wait("orders"), "success") << last_error(lab, "orders");

  const std::string db = lab.warehouse();
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_orders__orders"), std::to_string(n));
  EXPECT_EQ(scalar(db, "SELECT SUM(id) FROM raw_orders__orders"),
            std::to_string(int64_t{n} * (n + 1) / 2));
  EXPECT_EQ(scalar(db, "SELECT COUNT(DISTINCT id) FROM raw_orders__orders"), std::to_string(n));
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_orders__orders WHERE note IS NULL"),
            std::to_string(empty_notes(1, n)));
  EXPECT_EQ(scalar(db,
                   "SELECT typeof(id) || typeof(amount) || typeof(code) FROM "
                   "raw_orders__orders WHERE id = 8389"),
            "integerrealtext");
  EXPECT_EQ(scalar(db, "SELECT amount FROM raw_orders__orders WHERE id = 8389"), "2097.25");
  EXPECT_EQ(scalar(db, "SELECT code FROM raw_orders__orders WHERE id = 8305"), "05");
  // Quoted fields in the first, a middle and the last (partial) batch, each its own text.
  for (int id : {10, 4100, 8380}) {
    EXPECT_EQ(scalar(db, "SELECT note FROM raw_orders__orders WHERE id = " + std::to_string(id)),
              "gift, \"wrapped\" " + std::to_string(id));
  }
  EXPECT_EQ(
      json(lab.get("/api/sources/orders/details"))["sync_history"][0]["rows_loaded"].GetInt64(), n);

  // The fresh table's metrics come from the load's counts and match the table.
  auto history = json(lab.get("/api/monitoring/history?days=1&source=orders"));
  ASSERT_EQ(history["count"].GetInt64(), 1) << to_json(history);
  const auto& m = last_measurement(history);
  EXPECT_EQ(m["row_count"].GetInt64(), n);
  EXPECT_DOUBLE_EQ(m["null_rates"]["note"].GetDouble(), double(empty_notes(1, n)) / n);
  EXPECT_DOUBLE_EQ(m["null_rates"]["id"].GetDouble(), 0.0);
  EXPECT_DOUBLE_EQ(m["null_rates"]["_dango_loaded_at"].GetDouble(), 0.0);

  // A second file appended to those rows: the metrics are measured over the whole table.
  const int more = 100;
  write_text(lab.folder("orders") + "/b.csv", orders_csv(n + 1, more));
  ASSERT_EQ(lab.sync_and_wait("orders"), "success") << last_error(lab, "orders");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_orders__orders"), std::to_string(n + more));
  history = json(lab.get("/api/monitoring/history?days=1&source=orders"));
  ASSERT_EQ(history["count"].GetInt64(), 2) << to_json(history);
  const auto& m2 = last_measurement(history);
  EXPECT_EQ(m2["row_count"].GetInt64(), n + more);
  EXPECT_DOUBLE_EQ(m2["null_rates"]["note"].GetDouble(),
                   double(empty_notes(1, n + more)) / (n + more));
}

TEST(dango_bulk_load, AMalformedLastLineOfABigFileLoadsNothing) {
  Lab lab(LabSetup("[{name: orders, type: csv}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("orders") + "/a.csv", orders_csv(1, 3));
  ASSERT_EQ(lab.sync_and_wait("orders"), "success") << last_error(lab, "orders");

  // Its last line falls in the last, partial batch; it is line n + 1 (after the header).
  const int n = 4096 + 70;
  write_text(lab.folder("orders") + "/big.csv", orders_csv(4, n, true));
  EXPECT_EQ(lab.sync_and_wait("orders"), "failed");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_orders__orders"), "3");
  std::string error = last_error(lab, "orders");
  EXPECT_NE(error.find("big.csv:" + std::to_string(n + 1) + ": expected 4 fields, found 5"),
            std::string::npos)
      << error;

  // Fixed, it loads whole.
  write_text(lab.folder("orders") + "/big.csv", orders_csv(4, n));
  ASSERT_EQ(lab.sync_and_wait("orders"), "success") << last_error(lab, "orders");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_orders__orders"),
            std::to_string(3 + n));
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT MAX(id) FROM raw_orders__orders"),
            std::to_string(3 + n));
}

TEST(dango_bulk_load, CsvStreamKeepsQuotedAndPlainFieldsInOrderAndResumesAfterErrors) {
  const std::string text =
      "a,\"b,\"\"1\"\"\",c\r\n"
      "x,y\"z,w\n"
      "\"p\"q,r\n"
      "\n"
      "\"m\nn\",,\"\"\n"
      "last,\"open\n";
  dango::CsvStream stream(text, ',', '"');
  std::string error;
  using Fields = std::vector<std::string_view>;
  ASSERT_TRUE(stream.next(error));
  EXPECT_EQ(error, "");
  EXPECT_EQ(stream.fields(), (Fields{"a", "b,\"1\"", "c"}));
  ASSERT_TRUE(stream.next(error));
  EXPECT_EQ(error, "quote \" inside an unquoted field");
  EXPECT_TRUE(stream.fields().empty());
  EXPECT_EQ(stream.line(), 2u);
  ASSERT_TRUE(stream.next(error));
  EXPECT_EQ(error, "unexpected character after closing quote \"");
  EXPECT_TRUE(stream.fields().empty());
  EXPECT_EQ(stream.line(), 3u);
  ASSERT_TRUE(stream.next(error));
  EXPECT_EQ(error, "");
  EXPECT_EQ(stream.line(), 5u);
  EXPECT_EQ(stream.fields(), (Fields{"m\nn", "", ""}));
  ASSERT_TRUE(stream.next(error));
  EXPECT_EQ(error, "unterminated quoted field opened on line 7");
  EXPECT_TRUE(stream.fields().empty());
  EXPECT_FALSE(stream.next(error));
}

}  // namespace
