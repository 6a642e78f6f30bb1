#include "pagination.hpp"

#include <cstdio>
#include <vector>

#include "basics.hpp"

namespace automate {

using plughost::sdk::HttpError;

namespace {

int64_t positive_int(const plughost::sdk::Request& rq, const char* name, int64_t fallback) {
  auto v = rq.query(name);
  if (!v) return fallback;
  std::string text(*v);
  int64_t n = 0;
  bool ok = !text.empty() && text.size() <= 9;
  for (char c : text) ok = ok && c >= '0' && c <= '9';
  if (ok) n = std::stoll(text);
  if (!ok || n < 1) {
    throw HttpError(400, "VALIDATION_ERROR", "Invalid input",
                    {{name, "A positive integer is required"}});
  }
  return n;
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string link(const plughost::sdk::Request& rq, int64_t page) {
  std::string query = "page=" + std::to_string(page);
  rq.each_query([&](std::string_view name, std::string_view value) {
    if (name == "page") return;
    query += "&" + url_encode(name) + "=" + url_encode(value);
  });
  return std::string(rq.path()) + "?" + query;
}

}  // namespace

Page read_page(const plughost::sdk::Request& rq) {
  Page p;
  p.number = positive_int(rq, "page", 1);
  p.size = std::min(positive_int(rq, "page_size", kDefaultPageSize), kMaxPageSize);
  return p;
}

std::string page_sql(const ListSql& q, const Page& page) {
  return q.select + " " + q.from_where + " ORDER BY " + q.order + " LIMIT " +
         std::to_string(page.size) + " OFFSET " + std::to_string(page.offset());
}

void write_page(rapidjson::Document& doc, const plughost::sdk::Request& rq, const Page& page,
                int64_t count, rapidjson::Value results) {
  auto& a = doc.GetAllocator();
  doc.SetObject();
  doc.AddMember("count", count, a);
  rapidjson::Value next, previous;
  if (page.number * page.size < count) next = str(link(rq, page.number + 1), a);
  if (page.number > 1) previous = str(link(rq, page.number - 1), a);
  doc.AddMember("next", next, a);
  doc.AddMember("previous", previous, a);
  doc.AddMember("results", results, a);
}

}  // namespace automate
