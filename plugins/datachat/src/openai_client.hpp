// openai_client — a chat-completions client for any OpenAI-compatible server (llama.cpp server,
// vLLM, Ollama, OpenAI): `chat`, and `translate_sql` by prompting with the schema. libcurl;
// thread-safe (every call uses its own handle). The API key is sent, never logged or returned.
#pragma once

#include <rapidjson/document.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "offline_translator.hpp"

namespace datachat {

struct LlmSettings {
  std::string base_url;  // e.g. http://127.0.0.1:8080/v1 ("/chat/completions" is appended)
  std::string model;
  std::string api_key;  // empty: no Authorization header
  double timeout_seconds = 30;
  double temperature = 0;
  int max_tokens = 512;
};

// The server could not be reached, timed out, or answered something other than a completion.
class UpstreamError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

class OpenAiClient {
 public:
  explicit OpenAiClient(LlmSettings settings) : settings_(std::move(settings)) {}

  // The llm connector's `chat`: input {"messages":[…], "model"?, "temperature"?, "max_tokens"?},
  // output {"content","model","usage"?} as JSON text. Throws std::invalid_argument for bad
  // input, UpstreamError when the server fails.
  std::string chat_json(const rapidjson::Value& input) const;

  // Asks the model for one SELECT over `request.schema`; a reply starting CANNOT_ANSWER (or
  // holding no SQL) becomes cannot_answer.
  Translation translate_sql(const TranslateRequest& request) const;

 private:
  // POSTs the completion request; returns the parsed response body.
  rapidjson::Document complete(const std::vector<ChatMessage>& messages, const std::string& model,
                               double temperature, int max_tokens) const;

  LlmSettings settings_;
};

}  // namespace datachat
