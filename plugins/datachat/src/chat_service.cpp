#include "chat_service.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sql_text.hpp"

namespace datachat {

using plughost::readonly::QueryResult;
using plughost::readonly::Value;
using plughost::sdk::ErrorDetail;
using plughost::sdk::HttpError;
using Alloc = rapidjson::Document::AllocatorType;

namespace {

constexpr size_t kMaxQuestionChars = 2000;

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string trimmed(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string format_value(const Value& v) {
  switch (v.type) {
    case Value::Type::kNull: return "nothing";
    case Value::Type::kInteger: return std::to_string(v.integer);
    case Value::Type::kText: return v.text;
    case Value::Type::kReal: {
      char buf[64];
      double r = std::round(v.real * 100) / 100;
      std::snprintf(buf, sizeof(buf), r == std::floor(r) ? "%.0f" : "%.2f", r);
      return buf;
    }
  }
  return "";
}

std::string humanized(std::string column) {
  for (auto& c : column) c = c == '_' ? ' ' : c;
  return column;
}

rapidjson::Value json_value(const Value& v, Alloc& a) {
  switch (v.type) {
    case Value::Type::kInteger: return rapidjson::Value(static_cast<int64_t>(v.integer));
    case Value::Type::kReal:
      return std::isfinite(v.real) ? rapidjson::Value(v.real) : rapidjson::Value();
    case Value::Type::kText: return rapidjson::Value(v.text.c_str(), a);
    default: return rapidjson::Value();
  }
}

rapidjson::Value data_json(const QueryResult& r, Alloc& a) {
  rapidjson::Value data(rapidjson::kObjectType), cols(rapidjson::kArrayType),
      rows(rapidjson::kArrayType);
  for (const auto& c : r.columns) cols.PushBack(rapidjson::Value(c.c_str(), a), a);
  for (const auto& row : r.rows) {
    rapidjson::Value ro(rapidjson::kArrayType);
    for (const auto& v : row) ro.PushBack(json_value(v, a), a);
    rows.PushBack(ro, a);
  }
  data.AddMember("columns", cols, a);
  data.AddMember("rows", rows, a);
  return data;
}

// A bar (or line, over dates) chart when the result is labels with one number each.
rapidjson::Value chart_json(const QueryResult& r, Alloc& a) {
  if (r.columns.size() != 2 || r.rows.size() < 2) return rapidjson::Value();
  for (const auto& row : r.rows) {
    if (row[1].type != Value::Type::kInteger && row[1].type != Value::Type::kReal) {
      return rapidjson::Value();
    }
  }
  std::string x = lower_ascii(r.columns[0]);
  bool dated = x.find("date") != std::string::npos || x.find("month") != std::string::npos;
  rapidjson::Value c(rapidjson::kObjectType);
  c.AddMember("type", rapidjson::StringRef(dated ? "line" : "bar"), a);
  c.AddMember("x", rapidjson::Value(r.columns[0].c_str(), a), a);
  c.AddMember("y", rapidjson::Value(r.columns[1].c_str(), a), a);
  return c;
}

}  // namespace

Question read_question(const rapidjson::Value& body) {
  std::vector<ErrorDetail> problems;
  Question q;
  if (!body.IsObject()) {
    throw HttpError(400, "VALIDATION_ERROR", "Invalid input",
                    {{"", "The body must be a JSON object"}});
  }
  if (!body.HasMember("question") || !body["question"].IsString()) {
    problems.push_back({"question", "This field is required"});
  } else {
    q.text = trimmed(body["question"].GetString());
    size_t n = utf8_length(q.text);
    if (n == 0 || n > kMaxQuestionChars) {
      problems.push_back({"question", "Ask a question of 1 to 2000 characters"});
    }
  }
  if (body.HasMember("session_id") && !body["session_id"].IsNull()) {
    if (!body["session_id"].IsString() || body["session_id"].GetStringLength() > 100) {
      problems.push_back({"session_id", "A session id string is expected"});
    } else {
      q.session_id = body["session_id"].GetString();
    }
  }
  if (body.HasMember("context") && !body["context"].IsNull()) {
    const auto& ctx = body["context"];
    if (!ctx.IsObject()) {
      problems.push_back({"context", "An object is expected"});
    } else if (ctx.HasMember("tables") && !ctx["tables"].IsNull()) {
      if (!ctx["tables"].IsArray()) {
        problems.push_back({"context.tables", "A list of table names is expected"});
      } else {
        q.tables_given = true;
        for (const auto& t : ctx["tables"].GetArray()) {
          if (!t.IsString() || t.GetStringLength() == 0) {
            problems.push_back({"context.tables", "Table names must be non-empty strings"});
            break;
          }
          q.tables.push_back(lower_ascii(t.GetString()));
        }
      }
    }
  }
  if (!problems.empty()) throw HttpError(400, "VALIDATION_ERROR", "Invalid input", problems);
  return q;
}

std::string describe_result(const QueryResult& r, size_t max_rows) {
  if (r.rows.empty()) return "No rows match the question.";
  if (r.rows.size() == 1) {
    const auto& row = r.rows.front();
    if (row.size() == 1) {
      std::string col = lower_ascii(r.columns[0]);
      const std::string suffix = "_count";
      if (col.size() > suffix.size() &&
          col.compare(col.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          row[0].type == Value::Type::kInteger) {
        std::string what = humanized(col.substr(0, col.size() - suffix.size()));
        if (row[0].integer == 1) return "There is 1 row of " + what + ".";
        return "There are " + format_value(row[0]) + " " + what + ".";
      }
      if (col == "count" || col == "count(*)") {
        return "The count is " + format_value(row[0]) + ".";
      }
      return "The " + humanized(r.columns[0]) + " is " + format_value(row[0]) + ".";
    }
    std::string s;
    for (size_t i = 0; i < row.size(); ++i) {
      s += (i ? ", " : "") + humanized(r.columns[i]) + " " + format_value(row[i]);
    }
    return "One row: " + s + ".";
  }
  std::string s = "Found " + std::to_string(r.rows.size()) + " rows";
  if (r.truncated) s += " (only the first " + std::to_string(max_rows) + " are shown)";
  if (r.columns.size() == 2) {
    s += "; first: " + format_value(r.rows[0][0]) + " (" + format_value(r.rows[0][1]) + ")";
  }
  return s + ".";
}

ChatService::ChatService(plughost::sdk::Services services, ChatSettings settings)
    : services_(services),
      settings_(std::move(settings)),
      db_(settings_.database_url),
      store_(services) {}

std::shared_ptr<const Schema> ChatService::schema() const {
  std::lock_guard<std::mutex> lock(schema_mu_);
  auto now = std::chrono::steady_clock::now();
  if (!schema_ || now - schema_read_at_ > std::chrono::seconds(settings_.schema_cache_seconds)) {
    schema_ = std::make_shared<const Schema>(read_schema(db_));
    schema_read_at_ = now;
  }
  return schema_;
}

std::string ChatService::ask(const Question& q) const {
  std::string session_id = q.session_id;
  if (!session_id.empty() && !store_.session_exists(q.owner, session_id)) {
    throw HttpError(404, "NOT_FOUND", "Session not found");
  }
  if (session_id.empty()) session_id = store_.create_session(q.owner);

  rapidjson::Document out;
  out.SetObject();
  auto& a = out.GetAllocator();
  std::string answer, sql, error;
  QueryResult result;

  // The tables the question may use: all, or those of context.tables that exist.
  Schema exposed;
  bool schema_ok = true;
  try {
    exposed = *schema();
  } catch (const std::exception& e) {
    schema_ok = false;
    error = e.what();
    answer = "The data source is not available right now.";
    services_.warn(std::string("datachat: cannot read the schema of ") + db_.redacted_url() + ": " +
                   e.what());
  }
  std::set<std::string> allowed;
  if (schema_ok && q.tables_given) {
    std::set<std::string> wanted(q.tables.begin(), q.tables.end());
    Schema kept;
    kept.dialect = exposed.dialect;
    for (const auto& t : exposed.tables) {
      if (wanted.count(lower_ascii(t.name))) {
        kept.tables.push_back(t);
        allowed.insert(lower_ascii(t.name));
      }
    }
    for (auto& t : kept.tables) {
      t.foreign_keys.erase(std::remove_if(t.foreign_keys.begin(), t.foreign_keys.end(),
                                          [&](const ForeignKey& fk) {
                                            return !allowed.count(lower_ascii(fk.table));
                                          }),
                           t.foreign_keys.end());
    }
    exposed = std::move(kept);
    if (exposed.tables.empty()) {
      schema_ok = false;
      answer = "None of the requested tables are available, so I can't answer from them.";
    }
  }

  if (schema_ok) {
    rapidjson::Document input;
    input.SetObject();
    auto& ia = input.GetAllocator();
    input.AddMember("question", rapidjson::Value(q.text.c_str(), ia), ia);
    input.AddMember("schema", schema_to_json(exposed, ia), ia);
    rapidjson::Value history(rapidjson::kArrayType);
    for (const auto& [question, turn_sql] :
         store_.recent_turns(session_id, settings_.history_turns)) {
      rapidjson::Value h(rapidjson::kObjectType);
      h.AddMember("question", rapidjson::Value(question.c_str(), ia), ia);
      h.AddMember("sql", rapidjson::Value(turn_sql.c_str(), ia), ia);
      history.PushBack(h, ia);
    }
    input.AddMember("history", history, ia);
    input.AddMember("dialect", rapidjson::Value(db_.dialect_name(), ia), ia);
    std::string reply;
    try {
      reply = services_.invoke_connector("llm", settings_.translator, "translate_sql",
                                         plughost::sdk::to_json(input));
    } catch (const plughost::sdk::Error& e) {
      services_.warn(std::string("datachat: the translator failed: ") + e.what());
      throw HttpError(502, "UPSTREAM_ERROR", std::string("The SQL translator failed: ") + e.what());
    }
    rapidjson::Document tr;
    std::string parse_error;
    if (!plughost::sdk::parse_json(reply, tr, parse_error) || !tr.IsObject()) {
      throw HttpError(502, "UPSTREAM_ERROR", "The SQL translator answered something unreadable");
    }
    if (tr.HasMember("sql") && tr["sql"].IsString() && tr["sql"].GetStringLength() > 0) {
      sql = tr["sql"].GetString();
    } else {
      answer = tr.HasMember("cannot_answer") && tr["cannot_answer"].IsString()
                   ? tr["cannot_answer"].GetString()
                   : "I can't answer that from this data.";
    }
  }

  if (!sql.empty()) {
    plughost::readonly::Limits limits;
    limits.max_rows = settings_.max_rows;
    limits.timeout_ms = settings_.timeout_ms;
    limits.allowed_tables = allowed;
    try {
      if (has_compound_select(sql)) {
        throw plughost::readonly::QueryRefused("UNION, INTERSECT and EXCEPT are not allowed");
      }
      result = db_.run(sql, limits);
      answer = describe_result(result, settings_.max_rows);
    } catch (const plughost::readonly::QueryRefused& e) {
      error = e.what();
      answer = std::string("I won't run that query: ") + e.what() + ".";
    } catch (const plughost::readonly::QueryTimeout& e) {
      error = e.what();
      answer = "The query took longer than " + std::to_string(settings_.timeout_ms / 1000) +
               " s and was stopped.";
    } catch (const plughost::readonly::QueryFailed& e) {
      error = e.what();
      answer = std::string("The query failed: ") + e.what();
    }
  }

  rapidjson::Value data = data_json(result, a);
  std::string data_text = plughost::sdk::to_json(data);
  std::string message_id =
      store_.append_turn(q.owner, session_id, q.text, answer, sql, data_text, q.trace_id);
  out.AddMember("answer", rapidjson::Value(answer.c_str(), a), a);
  out.AddMember("sql", rapidjson::Value(sql.c_str(), a), a);
  out.AddMember("data", data, a);
  out.AddMember("session_id", rapidjson::Value(session_id.c_str(), a), a);
  out.AddMember("message_id", rapidjson::Value(message_id.c_str(), a), a);
  out.AddMember("trace_id", rapidjson::Value(q.trace_id.c_str(), a), a);
  out.AddMember("chart", chart_json(result, a), a);
  out.AddMember("error", error.empty() ? rapidjson::Value() : rapidjson::Value(error.c_str(), a),
                a);
  out.AddMember("truncated", result.truncated, a);
  return plughost::sdk::to_json(out);
}

}  // namespace datachat
