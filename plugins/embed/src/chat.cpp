#include "chat.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "answer.hpp"

namespace embed {
namespace sdk = plughost::sdk;

const char* const kNoAnswer =
    "I could not find anything about that in the knowledge base. Try rephrasing your question.";

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string member_text(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// Calls a connector; a failure becomes a logged 502 naming only the source.
std::string call(const sdk::Services& services, const sdk::Request& rq, const Embed& e,
                 const std::string& kind, const std::string& name, const std::string& op,
                 const std::string& input, const std::string& what) {
  try {
    return services.invoke_connector(kind, name, op, input);
  } catch (const sdk::Error& err) {
    services.log(PH_LOG_WARN, "embed " + e.id + ": " + what + " failed: " + err.what(), &rq);
    throw sdk::HttpError(502, "UPSTREAM_ERROR", "The assistant's " + what + " is unavailable");
  }
}

rapidjson::Document parse(const std::string& text, const sdk::Services& services,
                          const sdk::Request& rq, const Embed& e, const std::string& what) {
  rapidjson::Document d;
  std::string error;
  if (!sdk::parse_json(text, d, error) || !d.IsObject()) {
    services.log(PH_LOG_WARN, "embed " + e.id + ": " + what + " answered invalid JSON", &rq);
    throw sdk::HttpError(502, "UPSTREAM_ERROR", "The assistant's " + what + " is unavailable");
  }
  return d;
}

std::vector<Passage> retrieve(const sdk::Services& services, const sdk::Request& rq, const Embed& e,
                              const std::string& question, const std::string& tenant) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("endpoint");
  w.String(e.endpoint.c_str());
  w.Key("query");
  w.String(question.c_str(), static_cast<rapidjson::SizeType>(question.size()));
  w.Key("top_k");
  w.Int(e.top_k);
  w.Key("tenant");
  w.String(tenant.c_str());
  w.EndObject();
  auto d =
      parse(call(services, rq, e, "retriever", "rag", "query", buf.GetString(), "knowledge base"),
            services, rq, e, "knowledge base");
  std::vector<Passage> out;
  auto results = d.FindMember("results");
  if (results == d.MemberEnd() || !results->value.IsArray()) return out;
  for (const auto& r : results->value.GetArray()) {
    if (!r.IsObject()) continue;
    Passage p;
    p.id = r.HasMember("id") && r["id"].IsString()  ? r["id"].GetString()
           : r.HasMember("id") && r["id"].IsInt64() ? std::to_string(r["id"].GetInt64())
                                                    : "";
    p.content = member_text(r, "content");
    if (p.content.empty()) p.content = member_text(r, "text");
    p.score = r.HasMember("score") && r["score"].IsNumber() ? r["score"].GetDouble() : 0;
    auto meta = r.FindMember("metadata");
    if (meta != r.MemberEnd() && meta->value.IsObject()) {
      for (const char* k : {"title", "source", "path", "url", "source_id"}) {
        p.title = member_text(meta->value, k);
        if (!p.title.empty()) break;
      }
    }
    if (p.title.empty()) p.title = p.id;
    out.push_back(std::move(p));
  }
  return out;
}

std::string sources_json(const std::vector<Passage>& passages, const std::vector<size_t>& which) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartArray();
  for (size_t i : which) {
    const Passage& p = passages[i];
    w.StartObject();
    w.Key("id");
    w.String(p.id.c_str());
    w.Key("title");
    w.String(p.title.c_str());
    w.Key("score");
    w.Double(p.score);
    w.EndObject();
  }
  w.EndArray();
  return buf.GetString();
}

Reply from_rag(const sdk::Services& services, const sdk::Request& rq, const Embed& e,
               const std::string& message, const std::string& tenant) {
  std::vector<Passage> passages = retrieve(services, rq, e, message, tenant);
  ComposedAnswer composed = compose_answer(message, passages);
  if (composed.text.empty()) return {kNoAnswer, "[]"};
  return {composed.text, sources_json(passages, composed.sources)};
}

Reply from_datachat(const sdk::Services& services, const SessionStore& sessions,
                    const sdk::Request& rq, const Embed& e, const std::string& session_id,
                    const std::string& message, const std::string& tenant) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("question");
  w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  if (auto upstream = sessions.upstream(session_id)) {
    w.Key("session_id");
    w.String(upstream->c_str());
  }
  w.Key("tenant");
  w.String(tenant.c_str());
  w.Key("user");
  w.String(("embed:" + e.id).c_str());
  w.EndObject();
  auto d =
      parse(call(services, rq, e, "datachat", "datachat", "ask", buf.GetString(), "data assistant"),
            services, rq, e, "data assistant");
  std::string upstream = member_text(d, "session_id");
  if (!upstream.empty()) sessions.set_upstream(session_id, upstream);
  std::string answer = member_text(d, "answer");
  return {answer.empty() ? kNoAnswer : answer, "[]"};
}

Reply from_llm(const sdk::Services& services, const SessionStore& sessions, const sdk::Request& rq,
               const Embed& e, const std::string& session_id, const std::string& message,
               const std::string& tenant) {
  std::vector<Passage> passages;
  if (!e.endpoint.empty()) passages = retrieve(services, rq, e, message, tenant);
  std::string system = e.system_prompt;
  if (!passages.empty()) {
    system += "\n\nContext:";
    for (size_t i = 0; i < passages.size(); ++i) {
      system +=
          "\n[" + std::to_string(i + 1) + "] " + passages[i].title + ": " + passages[i].content;
    }
  }
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("messages");
  w.StartArray();
  auto turn = [&](const std::string& role, const std::string& content) {
    w.StartObject();
    w.Key("role");
    w.String(role.c_str());
    w.Key("content");
    w.String(content.c_str(), static_cast<rapidjson::SizeType>(content.size()));
    w.EndObject();
  };
  turn("system", system);
  for (const ChatTurn& t : sessions.recent(session_id, 8)) turn(t.role, t.content);
  turn("user", message);
  w.EndArray();
  w.EndObject();
  auto d = parse(call(services, rq, e, "llm", e.llm, "chat", buf.GetString(), "language model"),
                 services, rq, e, "language model");
  std::string content = member_text(d, "content");
  std::vector<size_t> all;
  for (size_t i = 0; i < passages.size(); ++i) all.push_back(i);
  return {content.empty() ? kNoAnswer : content, sources_json(passages, all)};
}

}  // namespace

Reply answer_message(const sdk::Services& services, const SessionStore& sessions, const Embed& e,
                     const std::string& session_id, const std::string& message,
                     const std::string& tenant, const sdk::Request& rq) {
  switch (e.source) {
    case AnswerSource::kDatachat:
      return from_datachat(services, sessions, rq, e, session_id, message, tenant);
    case AnswerSource::kLlm:
      return from_llm(services, sessions, rq, e, session_id, message, tenant);
    case AnswerSource::kRag: break;
  }
  return from_rag(services, rq, e, message, tenant);
}

}  // namespace embed
