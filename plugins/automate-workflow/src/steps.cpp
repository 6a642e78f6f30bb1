#include "steps.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <plughost/http_client.hpp>
#include <plughost/plugin.hpp>
#include <thread>

#include "expression.hpp"

namespace automate {

using plughost::sdk::Error;

namespace {

rapidjson::Document parse_input(std::string_view input_json) {
  rapidjson::Document d;
  std::string error;
  if (!plughost::sdk::parse_json(input_json, d, error) || !d.IsObject()) {
    throw Error(PH_ERR_INVALID_ARGUMENT, "step input must be a JSON object");
  }
  return d;
}

std::string required_string(const rapidjson::Value& in, const char* step, const char* key) {
  if (!in.HasMember(key) || !in[key].IsString() || in[key].GetStringLength() == 0) {
    throw Error(PH_ERR_INVALID_ARGUMENT,
                std::string(step) + ": config." + key + " (a non-empty string) is required");
  }
  return std::string(in[key].GetString(), in[key].GetStringLength());
}

double number_in(const rapidjson::Value& in, const char* step, const char* key, double fallback,
                 double lo, double hi) {
  if (!in.HasMember(key) || in[key].IsNull()) return fallback;
  if (!in[key].IsNumber() || in[key].GetDouble() < lo || in[key].GetDouble() > hi) {
    char range[64];
    std::snprintf(range, sizeof(range), " must be a number from %g to %g", lo, hi);
    throw Error(PH_ERR_INVALID_ARGUMENT, std::string(step) + ": config." + key + range);
  }
  return in[key].GetDouble();
}

bool retryable(const plughost::http::Response& r) {
  return r.status == 0 || r.status >= 500 || r.status == 429;
}

std::string first_chars(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n);
}

rapidjson::Value body_value(const plughost::http::Response& r,
                            rapidjson::Document::AllocatorType& a) {
  auto type = r.headers.find("content-type");
  if (type != r.headers.end() && type->second.find("json") != std::string::npos) {
    rapidjson::Document d;
    d.Parse(r.body.c_str(), r.body.size());
    if (!d.HasParseError()) return rapidjson::Value(d, a);
  }
  return rapidjson::Value(r.body.c_str(), static_cast<rapidjson::SizeType>(r.body.size()), a);
}

}  // namespace

std::set<std::string> available_step_types(const Services& host) {
  std::set<std::string> out, connectors;
  for (const auto& c : host.connectors()) connectors.insert(c.kind + "/" + c.name);
  for (const auto& c : host.connectors("step")) out.insert(c.name);
  if (!connectors.count("retriever/rag")) out.erase(kRagQueryStep);
  if (!connectors.count("datachat/datachat")) out.erase(kDatachatAskStep);
  return out;
}

std::string run_logging_step(std::string_view input_json) {
  auto in = parse_input(input_json);
  if (!in.HasMember("message") || !in["message"].IsString()) {
    throw Error(PH_ERR_INVALID_ARGUMENT, "logging: config.message (a string) is required");
  }
  rapidjson::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("logged", true, a);
  out.AddMember("message", rapidjson::Value(in["message"], a), a);
  return plughost::sdk::to_json(out);
}

std::string run_transform_step(std::string_view input_json) {
  auto in = parse_input(input_json);
  if (!in.HasMember("output"))
    throw Error(PH_ERR_INVALID_ARGUMENT, "transform: config.output is required");
  if (in["output"].IsObject()) return plughost::sdk::to_json(in["output"]);
  rapidjson::Document out(rapidjson::kObjectType);
  out.AddMember("value", rapidjson::Value(in["output"], out.GetAllocator()), out.GetAllocator());
  return plughost::sdk::to_json(out);
}

std::string run_condition_step(std::string_view input_json) {
  auto in = parse_input(input_json);
  std::string text = required_string(in, "condition", "expression");
  rapidjson::Value empty(rapidjson::kObjectType);
  const auto& context = in.HasMember("context") ? in["context"] : empty;
  bool result;
  try {
    result = Expression::parse(text).evaluate(context);
  } catch (const std::exception& e) {
    throw Error(PH_ERR_INVALID_ARGUMENT, std::string("condition: ") + e.what());
  }
  return result ? R"({"result":true,"branch":"true"})" : R"({"result":false,"branch":"false"})";
}

std::string run_delay_step(std::string_view input_json) {
  auto in = parse_input(input_json);
  if (!in.HasMember("seconds")) {
    throw Error(PH_ERR_INVALID_ARGUMENT, "delay: config.seconds (a number) is required");
  }
  double seconds = number_in(in, "delay", "seconds", 0, 0, 30 * 86400);
  rapidjson::Document out(rapidjson::kObjectType);
  out.AddMember("seconds", seconds, out.GetAllocator());
  return plughost::sdk::to_json(out);
}

std::string run_http_request_step(std::string_view input_json) {
  auto in = parse_input(input_json);
  plughost::http::Request call;
  call.url = required_string(in, "http.request", "url");
  if (call.url.rfind("http://", 0) != 0 && call.url.rfind("https://", 0) != 0) {
    throw Error(PH_ERR_INVALID_ARGUMENT, "http.request: config.url must be http:// or https://");
  }
  bool has_json = in.HasMember("json"), has_body = in.HasMember("body");
  if (has_body && !in["body"].IsString()) {
    throw Error(PH_ERR_INVALID_ARGUMENT, "http.request: config.body must be a string");
  }
  call.method = has_json || has_body ? "POST" : "GET";
  if (in.HasMember("method")) {
    call.method = required_string(in, "http.request", "method");
    for (char& c : call.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    static const std::set<std::string> kMethods = {"GET",    "POST", "PUT",    "PATCH",
                                                   "DELETE", "HEAD", "OPTIONS"};
    if (!kMethods.count(call.method)) {
      throw Error(PH_ERR_INVALID_ARGUMENT, "http.request: unsupported method " + call.method);
    }
  }
  bool content_type_set = false;
  if (in.HasMember("headers")) {
    if (!in["headers"].IsObject()) {
      throw Error(PH_ERR_INVALID_ARGUMENT, "http.request: config.headers must be an object");
    }
    for (const auto& h : in["headers"].GetObject()) {
      if (!h.value.IsString()) {
        throw Error(PH_ERR_INVALID_ARGUMENT, std::string("http.request: header ") +
                                                 h.name.GetString() + " must be a string");
      }
      std::string name = h.name.GetString(), value = h.value.GetString();
      if (name.find_first_of("\r\n:") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        throw Error(PH_ERR_INVALID_ARGUMENT, "http.request: header " + name + " is malformed");
      }
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "content-type") content_type_set = true;
      call.headers.emplace_back(name, value);
    }
  }
  if (has_json) {
    call.body = plughost::sdk::to_json(in["json"]);
    if (!content_type_set) call.headers.emplace_back("Content-Type", "application/json");
  } else if (has_body) {
    call.body = in["body"].GetString();
  }
  call.timeout_seconds = number_in(in, "http.request", "timeout_seconds", 30, 0.1, 300);
  int retries = static_cast<int>(number_in(in, "http.request", "retries", 0, 0, 5));
  plughost::http::Response r;
  int attempt = 0;
  for (;;) {
    ++attempt;
    r = plughost::http::perform(call);
    if (!retryable(r) || attempt > retries) break;
    double wait = std::min(5.0, 0.5 * std::pow(2.0, attempt - 1));
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));  // backoff, bounded
  }
  if (r.status == 0) {
    throw Error(PH_ERR_INTERNAL, "http.request: " + call.method + " " + call.url + ": " + r.error);
  }
  if (r.status < 200 || r.status >= 300) {
    throw Error(PH_ERR_INTERNAL,
                "HTTP " + std::to_string(r.status) + ": " + first_chars(r.body, 200));
  }
  rapidjson::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("status", static_cast<int64_t>(r.status), a);
  out.AddMember("ok", true, a);
  rapidjson::Value headers(rapidjson::kObjectType);
  for (const auto& [k, v] : r.headers) {
    headers.AddMember(rapidjson::Value(k.c_str(), a), rapidjson::Value(v.c_str(), a), a);
  }
  out.AddMember("headers", headers, a);
  out.AddMember("body", body_value(r, a), a);
  out.AddMember("elapsed_ms", r.elapsed_ms, a);
  out.AddMember("attempts", attempt, a);
  return plughost::sdk::to_json(out);
}

std::string run_slack_step(std::string_view input_json, const std::string& webhook_url,
                           double timeout_seconds) {
  auto in = parse_input(input_json);
  if (webhook_url.empty()) {
    throw Error(PH_ERR_WRONG_STATE,
                "slack.send_message: no slack.webhook_url in the automate-workflow config");
  }
  const char* text_key = in.HasMember("text") ? "text" : "message";
  std::string text = required_string(in, "slack.send_message", text_key);
  rapidjson::Document payload(rapidjson::kObjectType);
  auto& a = payload.GetAllocator();
  payload.AddMember("text", rapidjson::Value(text.c_str(), a), a);
  for (const char* key : {"channel", "username", "icon_emoji", "icon_url"}) {
    if (!in.HasMember(key)) continue;
    if (!in[key].IsString()) {
      throw Error(PH_ERR_INVALID_ARGUMENT,
                  std::string("slack.send_message: config.") + key + " must be a string");
    }
    payload.AddMember(rapidjson::StringRef(key), rapidjson::Value(in[key], a), a);
  }
  for (const char* key : {"blocks", "attachments"}) {
    if (!in.HasMember(key)) continue;
    if (!in[key].IsArray()) {
      throw Error(PH_ERR_INVALID_ARGUMENT,
                  std::string("slack.send_message: config.") + key + " must be a list");
    }
    payload.AddMember(rapidjson::StringRef(key), rapidjson::Value(in[key], a), a);
  }
  plughost::http::Request call;
  call.method = "POST";
  call.url = webhook_url;
  call.headers.emplace_back("Content-Type", "application/json");
  call.body = plughost::sdk::to_json(payload);
  call.timeout_seconds = timeout_seconds;
  plughost::http::Response r = plughost::http::perform(call);
  // The webhook URL is a credential: errors name the step, never the URL.
  if (r.status == 0) throw Error(PH_ERR_INTERNAL, "slack.send_message: " + r.error);
  if (r.status < 200 || r.status >= 300) {
    throw Error(PH_ERR_INTERNAL, "slack.send_message: HTTP " + std::to_string(r.status) + ": " +
                                     first_chars(r.body, 200));
  }
  rapidjson::Document out(rapidjson::kObjectType);
  auto& o = out.GetAllocator();
  out.AddMember("ok", true, o);
  out.AddMember("status", static_cast<int64_t>(r.status), o);
  if (payload.HasMember("channel"))
    out.AddMember("channel", rapidjson::Value(payload["channel"], o), o);
  return plughost::sdk::to_json(out);
}

std::string run_rag_query_step(const Services& host, std::string_view input_json) {
  auto in = parse_input(input_json);
  rapidjson::Document call(rapidjson::kObjectType);
  auto& a = call.GetAllocator();
  call.AddMember("endpoint",
                 rapidjson::Value(required_string(in, kRagQueryStep, "endpoint").c_str(), a), a);
  call.AddMember("query", rapidjson::Value(required_string(in, kRagQueryStep, "query").c_str(), a),
                 a);
  call.AddMember("top_k", static_cast<int>(number_in(in, kRagQueryStep, "top_k", 5, 1, 100)), a);
  if (in.HasMember("filters") && !in["filters"].IsObject()) {
    throw Error(PH_ERR_INVALID_ARGUMENT, "rag.query: config.filters must be an object");
  }
  call.AddMember("filters",
                 in.HasMember("filters") ? rapidjson::Value(in["filters"], a)
                                         : rapidjson::Value(rapidjson::kObjectType),
                 a);
  call.AddMember("tenant",
                 rapidjson::Value(required_string(in, kRagQueryStep, "tenant").c_str(), a), a);
  return host.invoke_connector("retriever", "rag", "query", plughost::sdk::to_json(call));
}

std::string run_datachat_ask_step(const Services& host, std::string_view input_json) {
  auto in = parse_input(input_json);
  rapidjson::Document call(rapidjson::kObjectType);
  auto& a = call.GetAllocator();
  call.AddMember("question",
                 rapidjson::Value(required_string(in, kDatachatAskStep, "question").c_str(), a), a);
  if (in.HasMember("session_id") && !in["session_id"].IsNull()) {
    call.AddMember("session_id",
                   rapidjson::Value(required_string(in, kDatachatAskStep, "session_id").c_str(), a),
                   a);
  }
  if (in.HasMember("context") && !in["context"].IsNull()) {
    if (!in["context"].IsObject()) {
      throw Error(PH_ERR_INVALID_ARGUMENT, "datachat.ask: config.context must be an object");
    }
    call.AddMember("context", rapidjson::Value(in["context"], a), a);
  }
  call.AddMember("tenant",
                 rapidjson::Value(required_string(in, kDatachatAskStep, "tenant").c_str(), a), a);
  return host.invoke_connector("datachat", "datachat", "ask", plughost::sdk::to_json(call));
}

}  // namespace automate
