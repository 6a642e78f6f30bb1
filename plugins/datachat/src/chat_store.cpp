#include "chat_store.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

namespace datachat {

const char* const kSchemaV1 = R"sql(
CREATE TABLE datachat_sessions (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX datachat_sessions_owner ON datachat_sessions (tenant, user_id, updated_at);
CREATE TABLE datachat_messages (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES datachat_sessions (id),
  seq INTEGER NOT NULL,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  sql_text TEXT NOT NULL DEFAULT '',
  data TEXT NOT NULL DEFAULT '',
  trace_id TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  UNIQUE (session_id, seq)
);
)sql";

std::string new_uuid() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return buf;
}

std::string now_iso() {
  auto now = std::chrono::system_clock::now();
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof(out), "%s.%06lldZ", buf, static_cast<long long>(micros));
  return out;
}

std::string ChatStore::create_session(const Owner& owner) const {
  std::string id = new_uuid(), now = now_iso();
  db_.sql(
         "INSERT INTO datachat_sessions (id, tenant, user_id, created_at, updated_at) VALUES "
         "(:id, :tenant, :user, :now, :now2)")
      .bind(":id", id)
      .bind(":tenant", owner.tenant)
      .bind(":user", owner.user)
      .bind(":now", now)
      .bind(":now2", now)
      .exec();
  return id;
}

bool ChatStore::session_exists(const Owner& owner, const std::string& session_id) const {
  auto st = db_.sql(
      "SELECT 1 FROM datachat_sessions WHERE id = :id AND tenant = :tenant AND user_id = :user");
  st.bind(":id", session_id).bind(":tenant", owner.tenant).bind(":user", owner.user);
  return st.step();
}

std::vector<std::pair<std::string, std::string>> ChatStore::recent_turns(
    const std::string& session_id, size_t max_turns) const {
  auto st = db_.sql(
      "SELECT role, content, sql_text FROM datachat_messages WHERE session_id = :id ORDER BY seq "
      "DESC LIMIT :n");
  st.bind(":id", session_id).bind(":n", static_cast<int64_t>(max_turns * 2));
  std::vector<std::pair<std::string, std::string>> turns;  // newest first while reading
  std::string sql;
  while (st.step()) {
    if (st.text(0) == "assistant") {
      sql = st.text(2);
    } else {
      turns.emplace_back(st.text(1), sql);
      sql.clear();
    }
  }
  return {turns.rbegin(), turns.rend()};
}

std::string ChatStore::append_turn(const Owner& owner, const std::string& session_id,
                                   const std::string& question, const std::string& answer,
                                   const std::string& sql, const std::string& data_json,
                                   const std::string& trace_id) const {
  (void)owner;
  auto txn = db_.transaction();
  int64_t seq = 0;
  {
    auto st = txn.sql("SELECT COALESCE(MAX(seq), 0) FROM datachat_messages WHERE session_id = :id");
    st.bind(":id", session_id);
    if (st.step()) seq = st.int64(0);
  }
  std::string answer_id = new_uuid();
  auto insert = [&](const std::string& id, const char* role, const std::string& content,
                    const std::string& sql_text, const std::string& data) {
    txn.sql(
           "INSERT INTO datachat_messages (id, session_id, seq, role, content, sql_text, data, "
           "trace_id, created_at) VALUES (:id, :session, :seq, :role, :content, :sql, :data, "
           ":trace, :at)")
        .bind(":id", id)
        .bind(":session", session_id)
        .bind(":seq", ++seq)
        .bind(":role", role)
        .bind(":content", content)
        .bind(":sql", sql_text)
        .bind(":data", data)
        .bind(":trace", trace_id)
        .bind(":at", now_iso())
        .exec();
  };
  insert(new_uuid(), "user", question, "", "");
  insert(answer_id, "assistant", answer, sql, data_json);
  txn.sql("UPDATE datachat_sessions SET updated_at = :at WHERE id = :id")
      .bind(":at", now_iso())
      .bind(":id", session_id)
      .exec();
  txn.commit();
  return answer_id;
}

std::vector<StoredMessage> ChatStore::page(const Owner& owner, const std::string& session_id,
                                           int64_t page, int64_t limit, int64_t& total) const {
  std::string where =
      " FROM datachat_messages m JOIN datachat_sessions s ON s.id = m.session_id WHERE s.tenant = "
      ":tenant AND s.user_id = :user" +
      std::string(session_id.empty() ? "" : " AND s.id = :session");
  auto bind = [&](plughost::sdk::Statement& st) {
    st.bind(":tenant", owner.tenant).bind(":user", owner.user);
    if (!session_id.empty()) st.bind(":session", session_id);
  };
  {
    auto st = db_.sql("SELECT COUNT(*)" + where);
    bind(st);
    total = st.step() ? st.int64(0) : 0;
  }
  auto st = db_.sql("SELECT m.id, m.role, m.content, m.sql_text, m.data, m.created_at" + where +
                    " ORDER BY m.created_at, m.session_id, m.seq LIMIT :limit OFFSET :offset");
  bind(st);
  st.bind(":limit", limit).bind(":offset", (page - 1) * limit);
  std::vector<StoredMessage> out;
  while (st.step()) {
    out.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5)});
  }
  return out;
}

}  // namespace datachat
