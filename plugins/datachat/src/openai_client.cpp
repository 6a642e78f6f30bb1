#include "openai_client.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <plughost/http_client.hpp>

#include "sql_text.hpp"

namespace datachat {

namespace {

std::string member_text(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return "";
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

}  // namespace

rapidjson::Document OpenAiClient::complete(const std::vector<ChatMessage>& messages,
                                           const std::string& model, double temperature,
                                           int max_tokens) const {
  rapidjson::StringBuffer body;
  rapidjson::Writer<rapidjson::StringBuffer> w(body);
  w.StartObject();
  w.Key("model");
  w.String(model.c_str());
  w.Key("messages");
  w.StartArray();
  for (const auto& m : messages) {
    w.StartObject();
    w.Key("role");
    w.String(m.role.c_str());
    w.Key("content");
    w.String(m.content.c_str(), static_cast<rapidjson::SizeType>(m.content.size()));
    w.EndObject();
  }
  w.EndArray();
  w.Key("temperature");
  w.Double(temperature);
  w.Key("max_tokens");
  w.Int(max_tokens);
  w.Key("stream");
  w.Bool(false);
  w.EndObject();

  plughost::http::Request req;
  req.method = "POST";
  req.url = settings_.base_url;
  while (!req.url.empty() && req.url.back() == '/') req.url.pop_back();
  req.url += "/chat/completions";
  req.headers = {{"Content-Type", "application/json"}};
  if (!settings_.api_key.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + settings_.api_key);
  }
  req.body.assign(body.GetString(), body.GetSize());
  req.timeout_seconds = settings_.timeout_seconds;
  req.max_response_bytes = size_t{8} << 20;
  plughost::http::Response r = plughost::http::perform(req);
  if (!r.ok()) throw UpstreamError(plughost::http::describe_failure(r, "LLM server"));
  const std::string& response = r.body;
  rapidjson::Document doc;
  doc.Parse(response.c_str(), response.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("choices") ||
      !doc["choices"].IsArray() || doc["choices"].Empty() ||
      !doc["choices"][0].HasMember("message")) {
    throw UpstreamError("the LLM server's answer is not a chat completion: " +
                        response.substr(0, 200));
  }
  return doc;
}

std::string OpenAiClient::chat_json(const rapidjson::Value& input) const {
  if (!input.IsObject() || !input.HasMember("messages") || !input["messages"].IsArray() ||
      input["messages"].Empty()) {
    throw std::invalid_argument("chat needs a non-empty \"messages\" array");
  }
  std::vector<ChatMessage> messages;
  for (const auto& m : input["messages"].GetArray()) {
    std::string role = member_text(m, "role");
    if (role != "system" && role != "user" && role != "assistant") {
      throw std::invalid_argument("each message needs a role of system, user or assistant");
    }
    if (!m.HasMember("content") || !m["content"].IsString()) {
      throw std::invalid_argument("each message needs a string \"content\"");
    }
    messages.push_back({role, m["content"].GetString()});
  }
  std::string model = member_text(input, "model");
  double temperature = input.HasMember("temperature") && input["temperature"].IsNumber()
                           ? input["temperature"].GetDouble()
                           : settings_.temperature;
  int max_tokens = input.HasMember("max_tokens") && input["max_tokens"].IsInt()
                       ? input["max_tokens"].GetInt()
                       : settings_.max_tokens;
  rapidjson::Document doc =
      complete(messages, model.empty() ? settings_.model : model, temperature, max_tokens);
  rapidjson::Document out;
  out.SetObject();
  auto& a = out.GetAllocator();
  std::string content = member_text(doc["choices"][0]["message"], "content");
  std::string used = member_text(doc, "model");
  out.AddMember("content", rapidjson::Value(content.c_str(), a), a);
  out.AddMember("model", rapidjson::Value((used.empty() ? settings_.model : used).c_str(), a), a);
  if (doc.HasMember("usage") && doc["usage"].IsObject()) {
    out.AddMember("usage", rapidjson::Value(doc["usage"], a), a);
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  out.Accept(w);
  return sb.GetString();
}

Translation OpenAiClient::translate_sql(const TranslateRequest& request) const {
  std::vector<ChatMessage> messages;
  messages.push_back(
      {"system", "You translate questions into one read-only SQL query for " + request.dialect +
                     ". Tables (columns, keys, known values):\n" +
                     schema_to_prompt(request.schema) +
                     "Rules: answer with exactly one SELECT statement (WITH allowed), no UNION, no "
                     "comments, no explanation, only the tables above. Today is " +
                     (request.today.empty() ? utc_today() : request.today) +
                     ". If the question cannot be answered from these tables, answer "
                     "CANNOT_ANSWER: <reason>."});
  for (const auto& turn : request.history) {
    messages.push_back({"user", turn.question});
    messages.push_back({"assistant", turn.sql.empty() ? "CANNOT_ANSWER" : turn.sql});
  }
  messages.push_back({"user", request.question});
  rapidjson::Document doc =
      complete(messages, settings_.model, settings_.temperature, settings_.max_tokens);
  std::string reply = member_text(doc["choices"][0]["message"], "content");
  Translation t;
  auto start = reply.find_first_not_of(" \t\r\n");
  if (start != std::string::npos && reply.compare(start, 13, "CANNOT_ANSWER") == 0) {
    std::string reason = reply.substr(start + 13);
    reason.erase(0, reason.find_first_not_of(": \t"));
    t.cannot_answer = reason.empty() ? "The model could not answer from these tables." : reason;
    return t;
  }
  t.sql = extract_sql(reply);
  if (t.sql.empty()) t.cannot_answer = "The model gave no SQL query for this question.";
  return t;
}

}  // namespace datachat
