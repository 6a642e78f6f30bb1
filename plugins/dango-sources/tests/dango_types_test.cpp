// The sql and http_json source types over HTTP against the real host: a real SQLite source database
// file, and a stub HTTP server started by the test on 127.0.0.1 (cursor and offset paging, 429 then
// success, the auth header, the token never in answers or logs, a body that is not JSON);
// incremental syncs by cursor column and the sync's start_date/end_date.
#include <gtest/gtest.h>

#include <atomic>

#include "lab.hpp"
#include "source_types.hpp"

namespace {

using namespace dango_test;

void exec(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

std::map<std::string, std::string> column_types(const std::string& db, const std::string& table) {
  std::map<std::string, std::string> types;
  for (const auto& row : query(db, "SELECT name, type FROM pragma_table_info('" + table + "')")) {
    types[row[0]] = row[1];
  }
  return types;
}

// The value of query parameter `name` in `query` ("" when absent).
std::string param(const std::string& query, const std::string& name) {
  size_t at = 0;
  while (at <= query.size()) {
    size_t amp = query.find('&', at);
    std::string pair = query.substr(at, amp == std::string::npos ? amp : amp - at);
    if (pair.compare(0, name.size() + 1, name + "=") == 0) return pair.substr(name.size() + 1);
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  return "";
}

std::string last_error(Lab& lab, const std::string& source) {
  const auto d = json(lab.get("/api/sources/" + source + "/details"));
  const auto& e = d["sync_history"][0]["error"];
  return e.IsString() ? e.GetString() : "";
}

TEST(dango_types, SqlSourceLoadsTypedTablesAndQueriesIncrementallyByCursor) {
  const std::string dir = make_temp_dir();
  const std::string src = dir + "/shop.db";
  exec(src,
       "CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL, note TEXT, created_on DATE);"
       "INSERT INTO orders VALUES (1, 9.5, 'first', '2026-01-02'), (2, 20, NULL, '2026-01-03'),"
       " (3, 31.25, 'big', '2026-02-01');"
       "CREATE TABLE customers (code TEXT, name TEXT);"
       "INSERT INTO customers VALUES ('c1', 'Ada'), ('c2', 'Grace');");
  Lab lab(LabSetup("[{name: ShopDb, type: sql, options: {url: \"sqlite://" + src +
                   "\", tables: [{name: main.orders, cursor_column: id, primary_key: id, "
                   "date_column: created_on}, "
                   "customers], queries: {big_orders: \"SELECT id, amount * 2 AS doubled FROM "
                   "orders WHERE amount > 10;\"}}}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  ASSERT_EQ(lab.sync_and_wait("shopdb"), "success") << last_error(lab, "shopdb");
  const std::string db = lab.warehouse();
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_shopdb__orders"), "3");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_shopdb__customers"), "2");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_shopdb__big_orders"), "2");
  auto types = column_types(db, "raw_shopdb__orders");
  EXPECT_EQ(types["id"], "INTEGER");
  EXPECT_EQ(types["amount"], "REAL");
  EXPECT_EQ(types["note"], "TEXT");
  EXPECT_EQ(types["created_on"], "DATE");
  EXPECT_EQ(scalar(db, "SELECT created_on FROM raw_shopdb__orders WHERE id = 3"), "2026-02-01");
  EXPECT_EQ(scalar(db, "SELECT note FROM raw_shopdb__orders WHERE id = 2"), "NULL");
  EXPECT_EQ(scalar(db, "SELECT doubled FROM raw_shopdb__big_orders WHERE id = 3"), "62.5");
  EXPECT_EQ(json(lab.get("/api/sources"))[0]["tables"].Size(), 3u);

  // Incremental: only rows past the cursor (id 3) are read and appended; the un-cursored tables
  // are reloaded whole.
  exec(src,
       "INSERT INTO orders VALUES (4, 5, 'late', '2026-02-02'), (5, 6, 'later', '2026-02-03');"
       "UPDATE orders SET note = 'changed' WHERE id = 1;"
       "DELETE FROM customers WHERE code = 'c1';");
  ASSERT_EQ(lab.sync_and_wait("shopdb"), "success") << last_error(lab, "shopdb");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_shopdb__orders"), "5");
  EXPECT_EQ(scalar(db, "SELECT note FROM raw_shopdb__orders WHERE id = 1"), "first");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_shopdb__customers"), "1");
  auto details = json(lab.get("/api/sources/shopdb/details"));
  EXPECT_EQ(details["sync_history"][0]["rows_loaded"].GetInt64(), 2 + 1 + 2);
  EXPECT_NE(scalar(db, "SELECT state FROM _dango_state WHERE source = 'shopdb'")
                .find("\"orders\":{\"value\":\"5\",\"type\":\"integer\"}"),
            std::string::npos);

  // A date window re-reads that window (replacing rows by primary key), whatever the cursor.
  ASSERT_EQ(
      lab.sync_and_wait("shopdb", R"({"start_date": "2026-01-01", "end_date": "2026-01-02"})"),
      "success")
      << last_error(lab, "shopdb");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_shopdb__orders"), "5");
  EXPECT_EQ(scalar(db, "SELECT note FROM raw_shopdb__orders WHERE id = 1"), "changed");
  EXPECT_EQ(scalar(db, "SELECT note FROM raw_shopdb__orders WHERE id = 2"), "NULL");

  // A full refresh reloads everything.
  ASSERT_EQ(lab.sync_and_wait("shopdb", R"({"full_refresh": true})"), "success");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_shopdb__orders"), "5");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_shopdb__big_orders"), "2");
}

TEST(dango_types, SqlSourceFailsClearlyAndMasksThePassword) {
  const std::string dir = make_temp_dir();
  Lab lab(LabSetup("[{name: gone, type: sql, options: {url: \"sqlite://" + dir +
                   "/missing.db\", tables: [t]}}, {name: pg, type: sql, options: {url: "
                   "\"postgresql://dango:hunter2secret@127.0.0.1:1/wh\", queries: {q: \"SELECT "
                   "1\"}}}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  EXPECT_EQ(lab.sync_and_wait("gone"), "failed");
  EXPECT_NE(last_error(lab, "gone").find("does not exist"), std::string::npos);
  EXPECT_EQ(lab.sync_and_wait("pg"), "failed");
  std::string error = last_error(lab, "pg");
  EXPECT_FALSE(error.empty());
  auto config = lab.get("/api/config");
  auto details = lab.get("/api/sources/pg/details");
  auto logs = lab.get("/api/logs");
  for (const std::string* text : {&config.body, &details.body, &logs.body, &error}) {
    EXPECT_EQ(text->find("hunter2secret"), std::string::npos) << *text;
  }
  EXPECT_NE(config.body.find("postgresql://dango:hu*et@127.0.0.1:1/wh"), std::string::npos)
      << config.body;
}

// A Stripe-like list endpoint: /v1/charges?limit=&starting_after= → {data, has_more}.
struct StripeStub {
  std::vector<std::string> ids;  // charge ids, created = 1700000000 + index
  std::atomic<int> throttle{0};  // answer this many 429s first
  StubServer server{[this](const StubRequest& rq) { return answer(rq); }};

  StubReply answer(const StubRequest& rq) {
    if (throttle > 0) {
      --throttle;
      StubReply r(429, R"({"error": {"message": "Too many requests"}})");
      r.headers.push_back({"Retry-After", "0"});
      return r;
    }
    if (rq.header("authorization") != "Bearer sk_test_51SuperSecretToken") {
      return StubReply(401, R"({"error": {"message": "Invalid API Key"}})");
    }
    size_t limit = std::stoul(param(rq.query, "limit").empty() ? "10" : param(rq.query, "limit"));
    std::string after = param(rq.query, "starting_after");
    std::string gt = param(rq.query, "created%5Bgt%5D");
    size_t start = 0;
    if (!after.empty()) {
      while (start < ids.size() && ids[start] != after) ++start;
      ++start;
    }
    std::string data;
    size_t i = start;
    size_t n = 0;
    for (; i < ids.size() && n < limit; ++i) {
      long created = 1700000000 + static_cast<long>(i);
      if (!gt.empty() && created <= std::stol(gt)) continue;
      data += std::string(n ? "," : "") + "{\"id\": \"" + ids[i] +
              "\", \"amount\": " + std::to_string(100 * (i + 1)) +
              ", \"created\": " + std::to_string(created) + ", \"metadata\": {\"k\": \"v\"}}";
      ++n;
    }
    return StubReply(200, "{\"object\": \"list\", \"data\": [" + data +
                              "], \"has_more\": " + (i < ids.size() ? "true" : "false") + "}");
  }
};

std::string stripe_source(const std::string& url, const std::string& extra = "") {
  return "[{name: stripe_charges, type: http_json, options: {url: \"" + url +
         "/v1/charges\", token: sk_test_51SuperSecretToken, records_path: data, paging: cursor, "
         "page_limit: 2, cursor_column: created, incremental_param: \"created[gt]\", "
         "primary_key: id, max_retries: 2" +
         extra + "}}]";
}

TEST(dango_types, HttpJsonFollowsStripeStyleCursorPagesIncrementally) {
  StripeStub stub;
  stub.ids = {"ch_1", "ch_2", "ch_3", "ch_4", "ch_5"};
  Lab lab(LabSetup(stripe_source(stub.server.url())));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  ASSERT_EQ(lab.sync_and_wait("stripe_charges"), "success") << last_error(lab, "stripe_charges");
  const std::string db = lab.warehouse();
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_stripe_charges__stripe_charges"), "5");
  EXPECT_EQ(scalar(db, "SELECT amount FROM raw_stripe_charges__stripe_charges WHERE id = 'ch_4'"),
            "400");
  EXPECT_EQ(scalar(db, "SELECT metadata FROM raw_stripe_charges__stripe_charges WHERE id = 'ch_1'"),
            "{\"k\":\"v\"}");
  auto types = column_types(db, "raw_stripe_charges__stripe_charges");
  EXPECT_EQ(types["amount"], "INTEGER");
  EXPECT_EQ(types["id"], "TEXT");
  auto requests = stub.server.requests();
  ASSERT_EQ(requests.size(), 3u);  // 2 + 2 + 1
  EXPECT_EQ(param(requests[0].query, "starting_after"), "");
  EXPECT_EQ(param(requests[1].query, "starting_after"), "ch_2");
  EXPECT_EQ(param(requests[2].query, "starting_after"), "ch_4");
  for (const auto& r : requests) {
    EXPECT_EQ(r.header("authorization"), "Bearer sk_test_51SuperSecretToken");
    EXPECT_EQ(param(r.query, "limit"), "2");
  }

  // Incremental: the largest `created` goes back as created[gt]; new charges are appended.
  stub.ids.push_back("ch_6");
  ASSERT_EQ(lab.sync_and_wait("stripe_charges"), "success") << last_error(lab, "stripe_charges");
  requests = stub.server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(param(requests[3].query, "created%5Bgt%5D"), "1700000004");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_stripe_charges__stripe_charges"), "6");

  // The token is in no answer, no log line, and nowhere in the host's output.
  for (const char* path :
       {"/api/config", "/api/sources/stripe_charges/details", "/api/logs", "/api/sources"}) {
    auto r = lab.get(path);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("SuperSecretToken"), std::string::npos) << path << ": " << r.body;
  }
  EXPECT_EQ(lab.host().output().find("SuperSecretToken"), std::string::npos);
}

TEST(dango_types, HttpJsonRetries429AndFailsClearlyOnBadAnswers) {
  StripeStub stub;
  stub.ids = {"ch_1"};
  stub.throttle = 2;
  Lab lab(LabSetup(stripe_source(stub.server.url())));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  ASSERT_EQ(lab.sync_and_wait("stripe_charges"), "success") << last_error(lab, "stripe_charges");
  EXPECT_EQ(stub.server.requests().size(), 3u);  // 429, 429, 200
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_stripe_charges__stripe_charges"),
            "1");
  auto logs = lab.get("/api/sources/stripe_charges/logs").body;
  EXPECT_NE(logs.find("HTTP 429, retry 2"), std::string::npos) << logs;

  // More 429s than retries: the sync fails naming the status.
  stub.throttle = 5;
  EXPECT_EQ(lab.sync_and_wait("stripe_charges", R"({"full_refresh": true})"), "failed");
  EXPECT_NE(last_error(lab, "stripe_charges").find("HTTP 429"), std::string::npos);
  stub.throttle = 0;

  // A page that is not JSON.
  StubServer html(
      [](const StubRequest&) { return StubReply(200, "<html>maintenance</html>", "text/html"); });
  Lab other(LabSetup("[{name: site, type: http_json, options: {url: \"" + html.url() +
                     "/items\", token: sk_other_token_value}}]"));
  ASSERT_TRUE(other.ready()) << other.host().output();
  EXPECT_EQ(other.sync_and_wait("site"), "failed");
  std::string error = last_error(other, "site");
  EXPECT_NE(error.find("not JSON (text/html)"), std::string::npos) << error;
  EXPECT_EQ(error.find("sk_other_token_value"), std::string::npos);
}

TEST(dango_types, HttpJsonOffsetPagingAndTheSyncsDateWindow) {
  // 7 items under data.items, pages of 3 by limit/offset; `since`/`until` echo the window.
  StubServer server([](const StubRequest& rq) {
    if (rq.header("x-api-key") != "plain-key-123") return StubReply(401, "{}");
    size_t offset = std::stoul(param(rq.query, "offset"));
    size_t limit = std::stoul(param(rq.query, "limit"));
    std::string items;
    for (size_t i = offset; i < std::min<size_t>(7, offset + limit); ++i) {
      items += std::string(i > offset ? "," : "") + "{\"n\": " + std::to_string(i) +
               ", \"day\": \"2026-03-0" + std::to_string(i + 1) + "\"}";
    }
    return StubReply(200, "{\"data\": {\"items\": [" + items + "]}}");
  });
  Lab lab(LabSetup("[{name: items, type: http_json, options: {url: \"" + server.url() +
                   "/items?kind=all\", auth_header: X-Api-Key, auth_scheme: \"\", token: "
                   "plain-key-123, records_path: data.items, paging: offset, page_limit: 3, "
                   "start_date_param: since, end_date_param: until}}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  ASSERT_EQ(lab.sync_and_wait("items"), "success") << last_error(lab, "items");
  const std::string db = lab.warehouse();
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM raw_items__items"), "7");
  EXPECT_EQ(scalar(db, "SELECT SUM(n) FROM raw_items__items"), "21");
  EXPECT_EQ(column_types(db, "raw_items__items")["day"], "DATE");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);  // 3 + 3 + 1
  EXPECT_EQ(param(requests[2].query, "offset"), "6");
  EXPECT_EQ(param(requests[0].query, "kind"), "all");
  EXPECT_EQ(param(requests[0].query, "since"), "");

  ASSERT_EQ(lab.sync_and_wait("items", R"({"start_date": "2026-03-01", "end_date": "2026-03-31"})"),
            "success");
  requests = server.requests();
  EXPECT_EQ(param(requests.back().query, "since"), "2026-03-01");
  EXPECT_EQ(param(requests.back().query, "until"), "2026-03-31");
  EXPECT_EQ(lab.get("/api/config").body.find("plain-key-123"), std::string::npos);
}

TEST(dango_types, HttpJsonFollowsANextCursorField) {
  // Pages chained by meta.next (absent on the last page), sent back as ?page_token=.
  StubServer server([](const StubRequest& rq) {
    std::string token = param(rq.query, "page_token");
    if (token.empty())
      return StubReply(200, R"({"items": [{"id": 1}, {"id": 2}], "meta": {"next": "p2"}})");
    if (token == "p2") return StubReply(200, R"({"items": [{"id": 3}], "meta": {"next": "p3"}})");
    return StubReply(200, R"({"items": [{"id": 4, "extra": true}], "meta": {}})");
  });
  Lab lab(LabSetup("[{name: chained, type: http_json, options: {url: \"" + server.url() +
                   "/list\", records_path: items, paging: cursor, next_cursor_path: meta.next, "
                   "cursor_param: page_token, limit_param: \"\"}}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  ASSERT_EQ(lab.sync_and_wait("chained"), "success") << last_error(lab, "chained");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT group_concat(id) FROM raw_chained__chained"),
            "1,2,3,4");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT extra FROM raw_chained__chained WHERE id = 4"), "true");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].query, "");
  EXPECT_EQ(requests[2].query, "page_token=p3");
}

TEST(dango_types, ReadInputCarriesTheSyncsDateWindow) {
  dango::ReadRequest rq;
  rq.source = "s";
  rq.folder = "/tmp/x";
  rq.loaded_at = "2026-01-01T00:00:00Z";
  std::string plain = dango::read_request_json(rq);
  EXPECT_NE(plain.find("\"start_date\":null"), std::string::npos) << plain;
  rq.start_date = "2026-01-01";
  rq.end_date = "2026-01-31";
  auto back = dango::parse_read_request(dango::read_request_json(rq));
  EXPECT_EQ(back.start_date, "2026-01-01");
  EXPECT_EQ(back.end_date, "2026-01-31");
}

// The csv type's streamed load: CRLF lines, a quoted field spanning lines with a doubled quote,
// Latin-1 bytes, codes with leading zeros kept as text, numbers bound as numbers.
TEST(dango_types, StreamedCsvLoadKeepsQuotingEncodingAndTypes) {
  Lab lab(LabSetup("[{name: stream, type: csv}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("stream") + "/a.csv",
             "code,qty,price,city,note\r\n007,1,2.50,Caf\xE9,\"two\r\nlines, \"\"quoted\"\"\"\r\n"
             "010,-3,1e3,Z\xFCrich,\r\n");
  ASSERT_EQ(lab.sync_and_wait("stream"), "success") << last_error(lab, "stream");
  const std::string db = lab.warehouse();
  auto types = column_types(db, "raw_stream__stream");
  EXPECT_EQ(types["code"], "TEXT");
  EXPECT_EQ(types["qty"], "INTEGER");
  EXPECT_EQ(types["price"], "REAL");
  EXPECT_EQ(scalar(db, "SELECT code FROM raw_stream__stream WHERE qty = 1"), "007");
  EXPECT_EQ(scalar(db,
                   "SELECT typeof(qty) || typeof(price) FROM raw_stream__stream WHERE "
                   "code = '010'"),
            "integerreal");
  EXPECT_EQ(scalar(db, "SELECT price FROM raw_stream__stream WHERE code = '010'"), "1000.0");
  EXPECT_EQ(scalar(db, "SELECT city FROM raw_stream__stream WHERE code = '007'"), "Caf\xC3\xA9");
  EXPECT_EQ(scalar(db, "SELECT note FROM raw_stream__stream WHERE code = '007'"),
            "two\r\nlines, \"quoted\"");
  EXPECT_EQ(scalar(db, "SELECT note FROM raw_stream__stream WHERE code = '010'"), "NULL");
  EXPECT_EQ(scalar(db, "SELECT COUNT(DISTINCT _dango_loaded_at) FROM raw_stream__stream"), "1");
}

}  // namespace
