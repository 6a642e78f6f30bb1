#include "query.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <plughost/read_only_query.hpp>

#include "replies.hpp"

namespace dango {

namespace ro = plughost::readonly;

namespace {

const char* const kOnlySelect = "Only SELECT queries are allowed";

size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Dango's policy on top of the guard (NOTES: one SELECT or WITH…SELECT, no UNION, EXPLAIN,
// PRAGMA, DDL or DML). The guard alone decides what is safe; this only refuses early and clearly.
void check_shape(const std::string& sql) {
  ro::SqlOutline o = ro::outline(sql);
  if (o.statements == 0) throw error_reply(400, "DANGO-Q001", "Query cannot be empty");
  if ((o.first_keyword != "select" && o.first_keyword != "with") || o.compound ||
      o.statements > 1) {
    throw error_reply(400, "DANGO-Q002", kOnlySelect);
  }
}

void write_value(Json& j, const ro::Value& v) {
  switch (v.type) {
    case ro::Value::Type::kNull: j.null(); break;
    case ro::Value::Type::kInteger: j.num(v.integer); break;
    case ro::Value::Type::kReal:
      // JSON has no NaN or infinity.
      if (std::isfinite(v.real)) {
        j.real(v.real);
      } else {
        j.null();
      }
      break;
    case ro::Value::Type::kText: j.str(valid_utf8(v.text)); break;
  }
}

std::string answer(const ro::QueryResult& r, size_t max_rows, double elapsed_ms) {
  Json j;
  j.begin().key("columns").begin_array();
  for (const auto& c : r.columns) j.str(valid_utf8(c));
  j.end_array().key("rows").begin_array();
  for (const auto& row : r.rows) {
    j.begin_array();
    for (const auto& v : row) write_value(j, v);
    j.end_array();
  }
  j.end_array()
      .key("row_count")
      .num(static_cast<int64_t>(r.rows.size()))
      .key("truncated")
      .flag(r.truncated)
      .key("warning");
  if (r.truncated) {
    // Normally the row cap; fewer rows when the result's byte budget stopped reading first.
    j.str("Results truncated to " + std::to_string(std::min(max_rows, r.rows.size())) + " rows");
  } else {
    j.null();
  }
  j.key("execution_time_ms").real(std::round(elapsed_ms * 100) / 100).end();
  return j.text();
}

}  // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const char* kReplacement = "\xEF\xBF\xBD";
  size_t i = 0;
  while (i < s.size()) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (b(i + k) & 0xC0) == 0x80;
    if (ok && len > 1) {
      uint32_t cp = c & (0xFF >> (len + 1));
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (b(i + k) & 0x3F);
      // Overlong forms, surrogates and code points past U+10FFFF are invalid.
      static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

void run_query(Context& c, const sdk::Request& rq, sdk::Response& rs) {
  rapidjson::Document body;
  std::string error;
  if (rq.body().empty() || !sdk::parse_json(rq.body(), body, error) || !body.IsObject()) {
    throw detail_reply(422, "A JSON object body with a string \"sql\" is required");
  }
  auto member = body.FindMember("sql");
  if (member == body.MemberEnd() || !member->value.IsString()) {
    throw detail_reply(422, "\"sql\" must be a string");
  }
  std::string sql(member->value.GetString(), member->value.GetStringLength());
  size_t chars = utf8_chars(sql);
  if (chars > kMaxQueryChars) {
    throw detail_reply(422, "Query too long: " + std::to_string(chars) + " characters (limit " +
                                std::to_string(kMaxQueryChars) + ")");
  }
  check_shape(sql);

  const bool sqlite = c.warehouse.dialect() == "sqlite";
  if (sqlite && !std::filesystem::exists(c.warehouse.file())) {
    throw error_reply(404, "DANGO-Q003", "Warehouse not found");
  }
  ro::ReadOnlyDatabase db(sqlite ? "sqlite://" + c.warehouse.file() : c.settings.warehouse_url);
  ro::Limits limits;
  limits.max_rows = static_cast<size_t>(c.settings.query_max_rows);
  limits.timeout_ms = std::max<int64_t>(1, std::llround(c.settings.query_timeout_seconds * 1000));
  auto started = std::chrono::steady_clock::now();
  ro::QueryResult result;
  try {
    result = db.run(sql, limits);
  } catch (const ro::QueryRefused& e) {
    c.host.info(std::string("dango-sources: query refused: ") + e.what());
    throw error_reply(400, "DANGO-Q002", kOnlySelect);
  } catch (const ro::QueryTimeout&) {
    c.host.warn("dango-sources: query stopped at the time cap");
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", c.settings.query_timeout_seconds);
    throw error_reply(408, "DANGO-Q004",
                      std::string("Query timed out after ") + seconds + " seconds");
  } catch (const ro::QueryFailed& e) {
    throw error_reply(400, "DANGO-Q005", "Query execution failed: " + valid_utf8(e.what()));
  }
  double elapsed =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  rs.json_text(answer(result, limits.max_rows, elapsed));
}

}  // namespace dango
