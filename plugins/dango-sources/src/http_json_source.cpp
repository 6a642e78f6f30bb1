#include "http_json_source.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <plughost/http_client.hpp>
#include <plughost/json.hpp>
#include <stdexcept>
#include <thread>

#include "cursor_state.hpp"

namespace dango {

namespace http = plughost::http;

namespace {

constexpr size_t kMaxPageBytes = size_t{64} << 20;  // one page; a larger one fails the sync

struct HttpOptions {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // the auth header included
  std::string records_path;
  std::string paging = "none";
  std::string next_cursor_path;
  std::string cursor_record_field = "id";
  std::string has_more_path = "has_more";
  std::string cursor_param;
  std::string offset_param = "offset";
  std::string limit_param = "limit";
  int64_t page_limit = 100;
  int64_t max_pages = 1000;
  double timeout_seconds = 30;
  int64_t max_retries = 3;
  double retry_max_wait_seconds = 30;
  std::string table;
  std::string cursor_column;
  std::string incremental_param;
  std::string primary_key;
  std::string start_date_param;
  std::string end_date_param;
};

std::string text(const rapidjson::Value& o, const char* key, const std::string& fallback) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || it->value.IsNull()) return fallback;
  if (!it->value.IsString()) throw std::invalid_argument(std::string(key) + " must be a string");
  return it->value.GetString();
}

double number(const rapidjson::Value& o, const char* key, double fallback, double lo, double hi) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || it->value.IsNull()) return fallback;
  if (!it->value.IsNumber() || it->value.GetDouble() < lo || it->value.GetDouble() > hi) {
    throw std::invalid_argument(std::string(key) + " must be a number from " + std::to_string(lo) +
                                " to " + std::to_string(hi));
  }
  return it->value.GetDouble();
}

HttpOptions parse_options(const ReadRequest& rq) {
  rapidjson::Document o;
  std::string error;
  if (!plughost::sdk::parse_json(rq.options_json, o, error) || !o.IsObject()) {
    throw std::invalid_argument("options must be an object");
  }
  HttpOptions h;
  h.url = text(o, "url", "");
  if (h.url.rfind("http://", 0) != 0 && h.url.rfind("https://", 0) != 0) {
    throw std::invalid_argument("options.url must be an http:// or https:// URL");
  }
  if (auto it = o.FindMember("headers"); it != o.MemberEnd() && it->value.IsObject()) {
    for (const auto& m : it->value.GetObject()) {
      if (m.value.IsString()) h.headers.emplace_back(m.name.GetString(), m.value.GetString());
    }
  }
  const std::string token = text(o, "token", "");
  if (!token.empty()) {
    std::string scheme = text(o, "auth_scheme", "Bearer");
    h.headers.emplace_back(text(o, "auth_header", "Authorization"),
                           scheme.empty() ? token : scheme + " " + token);
  }
  h.records_path = text(o, "records_path", "");
  h.paging = text(o, "paging", "none");
  if (h.paging != "none" && h.paging != "cursor" && h.paging != "offset") {
    throw std::invalid_argument("paging must be none, cursor or offset");
  }
  h.next_cursor_path = text(o, "next_cursor_path", "");
  h.cursor_record_field = text(o, "cursor_record_field", "id");
  h.has_more_path = text(o, "has_more_path", "has_more");
  h.cursor_param =
      text(o, "cursor_param", h.next_cursor_path.empty() ? "starting_after" : "cursor");
  h.offset_param = text(o, "offset_param", "offset");
  h.limit_param = text(o, "limit_param", "limit");
  h.page_limit = static_cast<int64_t>(number(o, "page_limit", 100, 1, 100000));
  h.max_pages = static_cast<int64_t>(number(o, "max_pages", 1000, 1, 1000000));
  h.timeout_seconds = number(o, "timeout_seconds", 30, 0.1, 3600);
  h.max_retries = static_cast<int64_t>(number(o, "max_retries", 3, 0, 10));
  h.retry_max_wait_seconds = number(o, "retry_max_wait_seconds", 30, 0, 600);
  h.table = text(o, "table", rq.source);
  h.cursor_column = text(o, "cursor_column", "");
  h.incremental_param = text(o, "incremental_param", "");
  h.primary_key = text(o, "primary_key", "");
  h.start_date_param = text(o, "start_date_param", "");
  h.end_date_param = text(o, "end_date_param", "");
  return h;
}

// The value at dotted `path` ("data", "meta.next"); the value itself for an empty path.
const rapidjson::Value* at_path(const rapidjson::Value& v, const std::string& path) {
  const rapidjson::Value* cur = &v;
  size_t from = 0;
  while (!path.empty() && from <= path.size()) {
    size_t dot = path.find('.', from);
    std::string key = path.substr(from, dot == std::string::npos ? dot : dot - from);
    if (!cur->IsObject()) return nullptr;
    auto it = cur->FindMember(key.c_str());
    if (it == cur->MemberEnd()) return nullptr;
    cur = &it->value;
    if (dot == std::string::npos) break;
    from = dot + 1;
  }
  return cur;
}

// A URL without its query (errors name the endpoint, not parameters that may carry secrets).
std::string endpoint(const std::string& url) {
  return url.substr(0, url.find('?'));
}

std::string with_params(const std::string& url,
                        const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = url;
  for (const auto& [k, v] : params) {
    out += (out.find('?') == std::string::npos ? "?" : "&") + http::url_encode(k) + "=" +
           http::url_encode(v);
  }
  return out;
}

bool retryable(long status) {
  return status == 0 || status == 429 || status >= 500;
}

// Seconds to wait before retry `attempt` (0-based): Retry-After when the server sent seconds,
// else 0.5 s doubling; never more than `cap`.
double retry_wait(const http::Response& r, int64_t attempt, double cap) {
  auto it = r.headers.find("retry-after");
  double wait = 0.5 * std::pow(2.0, static_cast<double>(attempt));
  if (it != r.headers.end()) {
    try {
      size_t used = 0;
      double seconds = std::stod(it->second, &used);
      if (used == it->second.size() && seconds >= 0) wait = seconds;
    } catch (const std::exception&) {
      // An HTTP-date: keep the backoff.
    }
  }
  return std::min(wait, cap);
}

// One page as a JSON document, after the retries.
rapidjson::Document fetch_page(const HttpOptions& h, const std::string& url,
                               std::vector<std::string>& notes) {
  http::Request rq;
  rq.method = "GET";
  rq.url = url;
  rq.headers = h.headers;
  rq.headers.emplace_back("Accept", "application/json");
  rq.timeout_seconds = h.timeout_seconds;
  rq.connect_timeout_seconds = std::min(10.0, h.timeout_seconds);
  rq.max_response_bytes = kMaxPageBytes;
  http::Response r;
  for (int64_t attempt = 0;; ++attempt) {
    r = http::perform(rq);
    if (!retryable(r.status) || attempt >= h.max_retries) break;
    double wait = retry_wait(r, attempt, h.retry_max_wait_seconds);
    notes.push_back("GET " + endpoint(url) + ": " +
                    (r.status ? "HTTP " + std::to_string(r.status) : r.error) + ", retry " +
                    std::to_string(attempt + 1) + " in " + std::to_string(wait).substr(0, 4) +
                    " s");
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
  if (r.status == 0) throw std::runtime_error("GET " + endpoint(url) + " failed: " + r.error);
  if (!r.ok()) {
    throw std::runtime_error("GET " + endpoint(url) + " answered HTTP " + std::to_string(r.status) +
                             ": " + r.body.substr(0, 200));
  }
  rapidjson::Document d;
  std::string error;
  if (!plughost::sdk::parse_json(r.body, d, error)) {
    auto type = r.headers.find("content-type");
    throw std::runtime_error("GET " + endpoint(url) + " answered a body that is not JSON (" +
                             (type == r.headers.end() ? "no content-type" : type->second) +
                             "): " + r.body.substr(0, 80));
  }
  return d;
}

std::string scalar_text(const rapidjson::Value& v) {
  if (v.IsString()) return v.GetString();
  if (v.IsNull()) return "";
  return plughost::sdk::to_json(v);
}

}  // namespace

SourceBatch read_http_json_source(const ReadRequest& rq) {
  HttpOptions h = parse_options(rq);
  SourceBatch batch;
  auto cursors = rq.full_refresh ? std::map<std::string, Cursor>{} : state_cursors(rq.state_json);
  const Cursor previous = cursors[h.table];
  // A date window (a backfill) reads what the window holds, whatever the cursor says.
  const bool window = !rq.start_date.empty() || !rq.end_date.empty();
  const bool incremental = !h.cursor_column.empty() && !previous.value.empty() && !window;
  std::vector<std::pair<std::string, std::string>> fixed;
  if (incremental && !h.incremental_param.empty()) {
    fixed.emplace_back(h.incremental_param, previous.value);
  }
  if (!rq.start_date.empty() && !h.start_date_param.empty()) {
    fixed.emplace_back(h.start_date_param, rq.start_date);
  }
  if (!rq.end_date.empty() && !h.end_date_param.empty()) {
    fixed.emplace_back(h.end_date_param, rq.end_date);
  }
  if (h.paging != "none" && !h.limit_param.empty()) {
    fixed.emplace_back(h.limit_param, std::to_string(h.page_limit));
  }
  TableLoad load;
  load.name = h.table;
  std::map<std::string, size_t> index;
  std::string cursor;  // cursor paging: the next page's
  int64_t offset = 0;
  int64_t pages = 0;
  for (;;) {
    if (pages == h.max_pages) {
      throw std::runtime_error("GET " + endpoint(h.url) + ": more than max_pages (" +
                               std::to_string(h.max_pages) + ") pages");
    }
    auto params = fixed;
    if (h.paging == "cursor" && !cursor.empty()) params.emplace_back(h.cursor_param, cursor);
    if (h.paging == "offset") params.emplace_back(h.offset_param, std::to_string(offset));
    const std::string url = with_params(h.url, params);
    rapidjson::Document page = fetch_page(h, url, batch.notes);
    ++pages;
    const rapidjson::Value* records = at_path(page, h.records_path);
    if (!records || !records->IsArray()) {
      throw std::runtime_error("GET " + endpoint(h.url) + ": no records array at records_path '" +
                               h.records_path + "'");
    }
    for (const auto& r : records->GetArray()) {
      if (!r.IsObject()) {
        throw std::runtime_error("GET " + endpoint(h.url) + ": a record is not a JSON object");
      }
      add_json_record(load.table, index, r);
    }
    const auto count = static_cast<int64_t>(records->Size());
    if (h.paging == "none" || count == 0) break;
    if (h.paging == "offset") {
      if (count < h.page_limit) break;
      offset += count;
      continue;
    }
    if (!h.next_cursor_path.empty()) {
      const auto* next = at_path(page, h.next_cursor_path);
      cursor = next ? scalar_text(*next) : "";
    } else {
      const auto* more = at_path(page, h.has_more_path);
      const auto* last = at_path(records->GetArray()[records->Size() - 1], h.cursor_record_field);
      cursor = more && more->IsBool() && more->GetBool() && last ? scalar_text(*last) : "";
    }
    if (cursor.empty()) break;
  }
  infer_column_types(load.table);
  // Incremental: rows not past the stored cursor are dropped (an API may ignore the parameter).
  Cursor next = previous;
  if (!h.cursor_column.empty() && !load.table.columns.empty()) {
    auto it = index.find(h.cursor_column);
    if (it == index.end()) {
      throw std::invalid_argument("cursor_column " + h.cursor_column + " is not in the records");
    }
    const size_t c = it->second;
    const ColumnType t = load.table.columns[c].type;
    auto& rows = load.table.rows;
    if (incremental) {
      rows.erase(std::remove_if(rows.begin(), rows.end(),
                                [&](const auto& row) {
                                  return !row[c] || !cursor_after(*row[c], previous.value, t);
                                }),
                 rows.end());
    }
    for (const auto& row : rows) {
      if (row[c] && (next.value.empty() || cursor_after(*row[c], next.value, t))) {
        next = Cursor{*row[c], t};
      }
    }
  }
  load.replace = !incremental && !window;
  if (!load.replace && !h.primary_key.empty()) {
    auto it = index.find(h.primary_key);
    if (it != index.end()) {
      load.delete_column = h.primary_key;
      for (const auto& row : load.table.rows) {
        if (row[it->second]) load.delete_values.push_back(*row[it->second]);
      }
    }
  }
  batch.notes.push_back(load.name + ": " + std::to_string(load.table.rows.size()) +
                        " records from " + std::to_string(pages) + " page(s)");
  batch.tables.push_back(std::move(load));
  cursors[h.table] = next;
  batch.state_json = cursors_state(cursors);
  return batch;
}

}  // namespace dango
