// chat_service — one DataChat question end to end: validate, load the session's earlier turns,
// read the (cached) live schema, translate through an `llm` connector, run the SQL through the
// read-only guard, build the answer sentence from the result, persist both messages.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <plughost/plugin.hpp>
#include <plughost/read_only_query.hpp>
#include <set>
#include <string>
#include <vector>

#include "chat_store.hpp"
#include "schema_catalog.hpp"

namespace datachat {

struct ChatSettings {
  std::string database_url;
  std::string translator = "offline";  // name of the `llm` connector that writes the SQL
  size_t max_rows = 1000;
  int64_t timeout_ms = 10000;
  int schema_cache_seconds = 60;
  size_t history_turns = 10;
};

struct Question {
  std::string text;
  std::string session_id;  // empty: a new session
  std::vector<std::string> tables;
  bool tables_given = false;
  Owner owner;
  std::string trace_id;
};

// Reads {"question","session_id"?,"context"?:{"tables":[…]}}; throws sdk::HttpError 400
// VALIDATION_ERROR naming each bad field.
Question read_question(const rapidjson::Value& body);

class ChatService {
 public:
  ChatService(plughost::sdk::Services services, ChatSettings settings);

  // The POST chat/ body. Throws HttpError 404 for an unknown session, 502 when the translator
  // connector fails.
  std::string ask(const Question& q) const;

  const ChatStore& store() const { return store_; }

 private:
  std::shared_ptr<const Schema> schema() const;

  plughost::sdk::Services services_;
  ChatSettings settings_;
  plughost::readonly::ReadOnlyDatabase db_;
  ChatStore store_;
  mutable std::mutex schema_mu_;
  mutable std::shared_ptr<const Schema> schema_;
  mutable std::chrono::steady_clock::time_point schema_read_at_;
};

// The answer sentence for a result ("There are 156 matching rows.", "The total amount is …").
std::string describe_result(const plughost::readonly::QueryResult& r, size_t max_rows);

}  // namespace datachat
