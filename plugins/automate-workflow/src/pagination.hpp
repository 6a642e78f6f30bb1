// Page-number pagination shared by the list endpoints: `page` (from 1), `page_size` (default 25,
// over 100 clamped to 100) and the `{count, next, previous, results}` envelope.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <plughost/plugin.hpp>
#include <string>

namespace automate {

struct Page {
  int64_t number = 1;
  int64_t size = 25;
  int64_t offset() const { return (number - 1) * size; }
};

constexpr int64_t kDefaultPageSize = 25;
constexpr int64_t kMaxPageSize = 100;

// Throws HttpError 400 VALIDATION_ERROR naming `page` or `page_size` when one is not an integer
// of at least 1.
Page read_page(const plughost::sdk::Request& rq);

// Wraps `results` (an array in `doc`'s allocator) in the envelope; `next`/`previous` link the
// request's path with its query, `page` replaced.
void write_page(rapidjson::Document& doc, const plughost::sdk::Request& rq, const Page& page,
                int64_t count, rapidjson::Value results);

// The SQL of one list endpoint: "<select> <from_where> ORDER BY <order>". Each list builds it in
// one function (named in its header) so the tests can check the plan of the very query served.
struct ListSql {
  std::string select;      // "SELECT <columns>"
  std::string from_where;  // "FROM <table> WHERE ..." with :named parameters
  std::string order;       // "<column> DESC, id DESC"
};

// "<select> <from_where> ORDER BY <order> LIMIT <size> OFFSET <offset>".
std::string page_sql(const ListSql& q, const Page& page);

// Answers one page of a list: counts "SELECT COUNT(*) <from_where>", reads page_sql(q, page),
// calls bind(Statement&) on both statements and row(Statement&, allocator) -> rapidjson::Value
// for each row, and sends the envelope.
template <typename Db, typename Bind, typename Row>
void answer_page(const Db& db, const plughost::sdk::Request& rq, plughost::sdk::Response& rs,
                 const Page& page, const ListSql& q, Bind bind, Row row) {
  int64_t count = 0;
  {
    auto st = db.sql("SELECT COUNT(*) " + q.from_where);
    bind(st);
    if (st.step()) count = st.int64(0);
  }
  rapidjson::Document doc;
  auto& a = doc.GetAllocator();
  rapidjson::Value results(rapidjson::kArrayType);
  {
    auto st = db.sql(page_sql(q, page));
    bind(st);
    while (st.step()) results.PushBack(row(st, a), a);
  }
  write_page(doc, rq, page, count, std::move(results));
  rs.json(doc);
}

}  // namespace automate
