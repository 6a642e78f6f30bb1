// sessions.hpp — chat sessions and their messages in host storage. A session belongs to one
// embed and may send max_queries_per_session messages.
#pragma once

#include <cstdint>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <vector>

namespace embed {

struct ChatTurn {
  std::string role;  // user | assistant
  std::string content;
};

class SessionStore {
 public:
  explicit SessionStore(plughost::sdk::Services services) : services_(std::move(services)) {}

  // The plugin's tables, as migrations to register in init.
  static void register_migrations(const std::function<void(const std::string&, const std::string&,
                                                           const std::string&)>& migration);

  // Whether `id` is a live session of `embed_id`.
  bool exists(const std::string& embed_id, const std::string& id) const;
  // Counts one message against session `id` of `embed_id` if it has messages left. nullopt: no
  // such session; false: its messages are spent.
  std::optional<bool> claim(const std::string& embed_id, const std::string& id, int64_t max) const;
  // A new session with one message counted; returns its id ("emb_" + 32 random characters).
  std::string create(const std::string& embed_id) const;
  void append(const std::string& session_id, const std::string& role,
              const std::string& content) const;
  // The last `limit` turns, oldest first.
  std::vector<ChatTurn> recent(const std::string& session_id, int limit) const;
  std::optional<std::string> upstream(const std::string& session_id) const;
  void set_upstream(const std::string& session_id, const std::string& upstream) const;

 private:
  plughost::sdk::Services services_;
};

}  // namespace embed
