// chat_store — DataChat sessions and messages in the host's storage, scoped by tenant and user.
// Stateless over sdk::Services: safe from any handler thread.
#pragma once

#include <cstdint>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <vector>

namespace datachat {

extern const char* const kSchemaV1;

struct StoredMessage {
  std::string id, role, content, sql, data_json, created_at;
};

struct Owner {
  std::string tenant;
  std::string user;  // "" for anonymous and connector callers that name none
};

class ChatStore {
 public:
  explicit ChatStore(plughost::sdk::Services services) : db_(std::move(services)) {}

  // A new session id for `owner`.
  std::string create_session(const Owner& owner) const;
  bool session_exists(const Owner& owner, const std::string& session_id) const;

  // The session's last `max_turns` (question, sql) pairs, oldest first.
  std::vector<std::pair<std::string, std::string>> recent_turns(const std::string& session_id,
                                                                size_t max_turns) const;

  // Stores the question and the answer as one turn; returns the answer's message id.
  std::string append_turn(const Owner& owner, const std::string& session_id,
                          const std::string& question, const std::string& answer,
                          const std::string& sql, const std::string& data_json,
                          const std::string& trace_id) const;

  // One page of messages, oldest first: the session's, or all of the owner's sessions when
  // `session_id` is empty. Fills `total`.
  std::vector<StoredMessage> page(const Owner& owner, const std::string& session_id, int64_t page,
                                  int64_t limit, int64_t& total) const;

 private:
  plughost::sdk::Services db_;
};

// A random (version 4) UUID.
std::string new_uuid();
// Now in UTC, ISO-8601 with microseconds and "Z".
std::string now_iso();

}  // namespace datachat
