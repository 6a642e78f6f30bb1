#include "sessions.hpp"

#include <sodium.h>

#include <chrono>

namespace embed {
namespace {

int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr const char* kTables = R"sql(
CREATE TABLE embed_sessions (
  id TEXT PRIMARY KEY,
  embed_id TEXT NOT NULL,
  query_count INTEGER NOT NULL DEFAULT 0,
  upstream_session TEXT,
  created_at BIGINT NOT NULL,
  last_at BIGINT NOT NULL
);
CREATE TABLE embed_messages (
  id @ID@,
  session_id TEXT NOT NULL,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX embed_messages_by_session ON embed_messages (session_id, id);
)sql";

std::string with_id(const std::string& column) {
  std::string sql = kTables;
  sql.replace(sql.find("@ID@"), 4, column);
  return sql;
}

}  // namespace

void SessionStore::register_migrations(
    const std::function<void(const std::string&, const std::string&, const std::string&)>&
        migration) {
  migration("0001_embed_sessions", with_id("INTEGER PRIMARY KEY AUTOINCREMENT"),
            with_id("BIGSERIAL PRIMARY KEY"));
}

bool SessionStore::exists(const std::string& embed_id, const std::string& id) const {
  auto st = services_.sql("SELECT 1 FROM embed_sessions WHERE id = :id AND embed_id = :e");
  st.bind("id", id).bind("e", embed_id);
  return st.step();
}

std::optional<bool> SessionStore::claim(const std::string& embed_id, const std::string& id,
                                        int64_t max) const {
  int64_t updated =
      services_
          .sql(
              "UPDATE embed_sessions SET query_count = query_count + 1, last_at = :now"
              " WHERE id = :id AND embed_id = :e AND query_count < :max")
          .bind("now", now())
          .bind("id", id)
          .bind("e", embed_id)
          .bind("max", max)
          .exec();
  if (updated == 1) return true;
  if (exists(embed_id, id)) return false;
  return std::nullopt;
}

std::string SessionStore::create(const std::string& embed_id) const {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = "emb_";
  for (int i = 0; i < 32; ++i) id += alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
  int64_t t = now();
  services_
      .sql(
          "INSERT INTO embed_sessions (id, embed_id, query_count, created_at, last_at)"
          " VALUES (:id, :e, 1, :t, :t2)")
      .bind("id", id)
      .bind("e", embed_id)
      .bind("t", t)
      .bind("t2", t)
      .exec();
  return id;
}

void SessionStore::append(const std::string& session_id, const std::string& role,
                          const std::string& content) const {
  services_
      .sql(
          "INSERT INTO embed_messages (session_id, role, content, created_at)"
          " VALUES (:s, :r, :c, :t)")
      .bind("s", session_id)
      .bind("r", role)
      .bind("c", content)
      .bind("t", now())
      .exec();
}

std::vector<ChatTurn> SessionStore::recent(const std::string& session_id, int limit) const {
  std::vector<ChatTurn> turns;
  auto st = services_.sql(
      "SELECT role, content FROM embed_messages WHERE session_id = :s ORDER BY id DESC LIMIT :n");
  st.bind("s", session_id).bind("n", limit);
  while (st.step()) turns.push_back({std::string(st.text(0)), std::string(st.text(1))});
  return {turns.rbegin(), turns.rend()};
}

std::optional<std::string> SessionStore::upstream(const std::string& session_id) const {
  auto st = services_.sql("SELECT upstream_session FROM embed_sessions WHERE id = :s");
  st.bind("s", session_id);
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return std::string(st.text(0));
}

void SessionStore::set_upstream(const std::string& session_id, const std::string& upstream) const {
  services_.sql("UPDATE embed_sessions SET upstream_session = :u WHERE id = :s")
      .bind("u", upstream)
      .bind("s", session_id)
      .exec();
}

}  // namespace embed
