// The datachat plugin: DataChat's chat and history routes, the `llm` connectors that turn a
// question into SQL (offline, and openai when configured) and the `datachat` connector other
// plugins ask through. Every route and connector it offers is listed here.
#include <cstdlib>
#include <memory>
#include <plughost/plugin.hpp>

#include "chat_service.hpp"
#include "demo_database.hpp"
#include "offline_translator.hpp"
#include "openai_client.hpp"

namespace datachat {

using plughost::sdk::Error;
using plughost::sdk::HttpError;
using plughost::sdk::Request;
using plughost::sdk::Response;
using plughost::sdk::RouteSpec;

namespace {

const rapidjson::Value& member(const rapidjson::Value& o, const char* key) {
  static const rapidjson::Value kNull;
  if (!o.IsObject()) return kNull;
  auto it = o.FindMember(key);
  return it == o.MemberEnd() ? kNull : it->value;
}
std::string text_or(const rapidjson::Value& v, std::string fallback) {
  return v.IsString() ? v.GetString() : fallback;
}
double number_or(const rapidjson::Value& v, double fallback) {
  return v.IsNumber() ? v.GetDouble() : fallback;
}

// translate_sql input → TranslateRequest; std::invalid_argument when malformed.
TranslateRequest read_translate_input(std::string_view input) {
  rapidjson::Document in;
  std::string error;
  if (!plughost::sdk::parse_json(input, in, error) || !in.IsObject() ||
      !member(in, "question").IsString() || !member(in, "schema").IsObject()) {
    throw Error(PH_ERR_INVALID_ARGUMENT, "translate_sql needs {question, schema}");
  }
  TranslateRequest rq;
  rq.question = in["question"].GetString();
  rq.schema = schema_from_json(in["schema"]);
  rq.dialect =
      text_or(member(in, "dialect"), rq.schema.dialect.empty() ? "sqlite" : rq.schema.dialect);
  if (member(in, "history").IsArray()) {
    for (const auto& h : in["history"].GetArray()) {
      rq.history.push_back({text_or(member(h, "question"), ""), text_or(member(h, "sql"), "")});
    }
  }
  return rq;
}

std::string translation_json(const Translation& t) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (t.sql.empty()) {
    d.AddMember("cannot_answer", rapidjson::Value(t.cannot_answer.c_str(), a), a);
  } else {
    d.AddMember("sql", rapidjson::Value(t.sql.c_str(), a), a);
  }
  return plughost::sdk::to_json(d);
}

}  // namespace

class DataChatPlugin : public plughost::sdk::Plugin {
  void init() override {
    migration("0001_initial", kSchemaV1);
    const auto& cfg = config();
    ChatSettings settings = read_settings(cfg);

    connector(
        {"llm", "offline", "Question → SQL from the live schema, no model (translate_sql)", {}},
        [](std::string_view op, std::string_view input) -> std::string {
          if (op != "translate_sql") {
            throw Error(PH_ERR_UNSUPPORTED, "the offline translator only offers translate_sql");
          }
          return translation_json(translate_offline(read_translate_input(input)));
        });
    auto llm = read_llm(member(cfg, "llm"));
    if (settings.translator == "openai" && !llm) {
      throw Error(PH_ERR_INVALID_ARGUMENT, "translator openai needs llm.base_url");
    }
    if (llm) {
      auto client = std::make_shared<OpenAiClient>(*llm);
      connector({"llm", "openai", "OpenAI-compatible chat completions (chat, translate_sql)", {}},
                [client](std::string_view op, std::string_view input) -> std::string {
                  return call_openai(*client, op, input);
                });
    }

    service_ = std::make_unique<ChatService>(services(), settings);
    connector(
        {"datachat", "datachat", "Answers a question from the data source (ask)", {}},
        [this](std::string_view op, std::string_view input) { return ask_connector(op, input); });

    route(RouteSpec{"POST",
                    "/api/datachat/chat/",
                    "Ask a question about the data",
                    "datachat.ask",
                    "datachat",
                    {},
                    {},
                    0},
          [this](const Request& rq, Response& rs) { chat(rq, rs); });
    route(RouteSpec{"GET",
                    "/api/datachat/chat/history/",
                    "A session's messages, oldest first",
                    "datachat.read",
                    {},
                    {},
                    {},
                    0},
          [this](const Request& rq, Response& rs) { history(rq, rs); });
  }

  ChatSettings read_settings(const rapidjson::Value& cfg) {
    ChatSettings s;
    const auto& db = member(cfg, "database");
    s.database_url = text_or(member(db, "url"), "");
    if (s.database_url.empty()) {
      std::string path = text_or(member(db, "demo_path"), "var/datachat-demo.db");
      if (ensure_demo_database(path, utc_today()))
        info("datachat: built the demo shop database at " + path);
      s.database_url = "sqlite://" + path;
    }
    s.translator = text_or(member(cfg, "translator"), "offline");
    s.max_rows = static_cast<size_t>(number_or(member(cfg, "max_rows"), 1000));
    s.timeout_ms = static_cast<int64_t>(number_or(member(cfg, "timeout_seconds"), 10) * 1000);
    s.schema_cache_seconds = static_cast<int>(number_or(member(cfg, "schema_cache_seconds"), 60));
    s.history_turns = static_cast<size_t>(number_or(member(cfg, "history_turns"), 10));
    return s;
  }

  static std::optional<LlmSettings> read_llm(const rapidjson::Value& llm) {
    LlmSettings s;
    s.base_url = text_or(member(llm, "base_url"), "");
    if (s.base_url.empty()) return std::nullopt;
    s.model = text_or(member(llm, "model"), "default");
    s.api_key = text_or(member(llm, "api_key"), "");
    std::string env = text_or(member(llm, "api_key_env"), "");
    if (s.api_key.empty() && !env.empty()) {
      const char* v = std::getenv(env.c_str());
      s.api_key = v ? v : "";
    }
    s.timeout_seconds = number_or(member(llm, "timeout_seconds"), 30);
    s.max_tokens = static_cast<int>(number_or(member(llm, "max_tokens"), 512));
    return s;
  }

  static std::string call_openai(const OpenAiClient& client, std::string_view op,
                                 std::string_view input) {
    try {
      if (op == "chat") {
        rapidjson::Document in;
        std::string error;
        if (!plughost::sdk::parse_json(input, in, error)) {
          throw Error(PH_ERR_INVALID_ARGUMENT, "chat input is not JSON: " + error);
        }
        return client.chat_json(in);
      }
      if (op == "translate_sql")
        return translation_json(client.translate_sql(read_translate_input(input)));
    } catch (const std::invalid_argument& e) {
      throw Error(PH_ERR_INVALID_ARGUMENT, e.what());
    } catch (const UpstreamError& e) {
      throw Error(PH_ERR_INTERNAL, e.what());
    }
    throw Error(PH_ERR_UNSUPPORTED, "the openai connector offers chat and translate_sql");
  }

  void chat(const Request& rq, Response& rs) {
    rapidjson::Document body = rq.json();
    Question q = read_question(body);
    q.owner = owner_of(rq);
    q.trace_id = std::string(rq.trace_id());
    rs.json_text(service_->ask(q));
  }

  std::string ask_connector(std::string_view op, std::string_view input) {
    if (op != "ask") throw Error(PH_ERR_UNSUPPORTED, "the datachat connector offers ask");
    rapidjson::Document in;
    std::string error;
    if (!plughost::sdk::parse_json(input, in, error)) {
      throw Error(PH_ERR_INVALID_ARGUMENT, "ask input is not JSON: " + error);
    }
    try {
      Question q = read_question(in);
      q.owner = {text_or(member(in, "tenant"), "default"), text_or(member(in, "user"), "")};
      q.trace_id = text_or(member(in, "trace_id"), "");
      return service_->ask(q);
    } catch (const HttpError& e) {
      std::string msg = e.what();
      for (const auto& d : e.details()) msg += "; " + d.field + ": " + d.message;
      throw Error(e.status() == 404  ? PH_ERR_NOT_FOUND
                  : e.status() < 500 ? PH_ERR_INVALID_ARGUMENT
                                     : PH_ERR_INTERNAL,
                  msg);
    }
  }

  static Owner owner_of(const Request& rq) {
    rapidjson::Document p = rq.principal();
    return {std::string(rq.tenant()), text_or(member(p, "id"), "")};
  }

  static int64_t positive_query(const Request& rq, const char* name, int64_t fallback,
                                int64_t max) {
    auto v = rq.query(name);
    if (!v) return fallback;
    std::string s(*v);
    bool digits =
        !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos;
    int64_t n = digits ? std::stoll(s) : 0;
    if (n < 1 || n > max) {
      throw HttpError(400, "VALIDATION_ERROR", "Invalid input",
                      {{name, "An integer from 1 to " + std::to_string(max) + " is expected"}});
    }
    return n;
  }

  void history(const Request& rq, Response& rs) {
    int64_t page = positive_query(rq, "page", 1, 1000000);
    int64_t limit = positive_query(rq, "limit", 15, 100);
    std::string session = std::string(rq.query("session_id").value_or(""));
    Owner owner = owner_of(rq);
    if (!session.empty() && !service_->store().session_exists(owner, session)) {
      throw HttpError(404, "NOT_FOUND", "Session not found");
    }
    int64_t total = 0;
    auto messages = service_->store().page(owner, session, page, limit, total);
    rapidjson::Document d;
    d.SetObject();
    auto& a = d.GetAllocator();
    d.AddMember("session_id",
                session.empty() ? rapidjson::Value() : rapidjson::Value(session.c_str(), a), a);
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& m : messages) {
      rapidjson::Value o(rapidjson::kObjectType);
      o.AddMember("id", rapidjson::Value(m.id.c_str(), a), a);
      o.AddMember("role", rapidjson::Value(m.role.c_str(), a), a);
      o.AddMember("content", rapidjson::Value(m.content.c_str(), a), a);
      if (m.role == "assistant") {
        o.AddMember("sql", rapidjson::Value(m.sql.c_str(), a), a);
        rapidjson::Document data;
        std::string error;
        if (plughost::sdk::parse_json(m.data_json, data, error)) {
          o.AddMember("data", rapidjson::Value(data, a), a);
        }
      }
      o.AddMember("created_at", rapidjson::Value(m.created_at.c_str(), a), a);
      list.PushBack(o, a);
    }
    d.AddMember("messages", list, a);
    d.AddMember("has_more", page * limit < total, a);
    d.AddMember("total", total, a);
    d.AddMember("page", page, a);
    rs.json(d);
  }

  std::unique_ptr<ChatService> service_;
};

}  // namespace datachat

PLUGHOST_PLUGIN(datachat::DataChatPlugin, "datachat", "0.1.0",
                "DataChat: questions in plain language answered with read-only SQL", "beta")
