#include "events/event_bus.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <vector>

#include "storage/statement.hpp"
#include "tasks/task_queue.hpp"

namespace plughost {
namespace {

constexpr const char* kChannel = "plughost_events";

}  // namespace

bool event_type_matches(std::string_view pattern, std::string_view type) {
  // Iterative glob with backtracking to the last '*'.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < type.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == type[t]) {
      ++p, ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string events_table_sql(Dialect dialect) {
  return std::string("CREATE TABLE IF NOT EXISTS plughost_events (") + serial_id_column(dialect) +
         ", type TEXT NOT NULL, payload TEXT NOT NULL, node TEXT NOT NULL,"
         " created_at DOUBLE PRECISION NOT NULL);"
         "CREATE INDEX IF NOT EXISTS plughost_events_type ON plughost_events (type, id);";
}

EventBus::EventBus(Database* db, Logger& log, std::string node)
    : db_(db), log_(log), node_(std::move(node)) {}

EventBus::~EventBus() {
  stop();
}

void EventBus::start() {
  dispatcher_ = std::thread([this] { dispatch_loop(); });
  if (db_ && db_->dialect() == Dialect::kPostgres) {
    if (!connect_listener()) log_.warn("events", "LISTEN connection failed; retrying");
    // Catch-up after a reconnect starts from here, never from the beginning of history.
    Statement st(*db_, "SELECT COALESCE(MAX(id), 0) FROM plughost_events");
    if (st.step()) last_remote_id_ = st.column_int64(0);
    while (st.step()) {
    }
    listener_ = std::thread([this] { listen_loop(); });
  }
}

void EventBus::stop() {
  {
    // Set under the lock the dispatcher waits with, else a stop that lands between its predicate
    // check and its sleep is never seen (a host failing right after start hung here).
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.exchange(true)) return;
  }
  cv_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
  if (listener_.joinable()) listener_.join();
}

int64_t EventBus::publish(const std::string& type, const std::string& payload_json, bool persist) {
  Event e{0, type, payload_json, node_, unix_now()};
  if (persist) {
    if (!db_) throw std::runtime_error("event persistence needs storage");
    Transaction txn(*db_);
    Statement st(txn,
                 "INSERT INTO plughost_events (type, payload, node, created_at) VALUES (:type,"
                 " :payload, :node, :at) RETURNING id");
    st.bind("type", Value::text(type));
    st.bind("payload", Value::text(payload_json));
    st.bind("node", Value::text(node_));
    st.bind("at", Value::real(e.at));
    st.step();
    e.id = st.column_int64(0);
    while (st.step()) {
    }
    if (db_->dialect() == Dialect::kPostgres) {
      // Delivered to listeners at commit; the payload is only the id (NOTIFY caps at 8000 bytes).
      Statement notify(txn, "SELECT pg_notify(:channel, :id)");
      notify.bind("channel", Value::text(kChannel));
      notify.bind("id", Value::text(std::to_string(e.id)));
      notify.step();
    }
    txn.commit();
  }
  int64_t id = e.id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(e));
  }
  cv_.notify_all();
  return id;
}

uint64_t EventBus::subscribe(const std::string& pattern, EventCallback callback) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = next_id_++;
  subscribers_.emplace(id, std::make_pair(pattern, std::move(callback)));
  return id;
}

void EventBus::unsubscribe(uint64_t id) {
  std::unique_lock<std::mutex> lock(mu_);
  subscribers_.erase(id);
  // A callback already running may touch what its owner frees next: wait for it, unless this is
  // the callback itself unsubscribing.
  if (std::this_thread::get_id() != dispatcher_.get_id()) {
    cv_.wait(lock, [&] { return dispatching_ != id; });
  }
}

void EventBus::dispatch_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_ && queue_.empty()) return;
    Event e = std::move(queue_.front());
    queue_.pop_front();
    std::vector<uint64_t> targets;
    for (const auto& [id, sub] : subscribers_) {
      if (event_type_matches(sub.first, e.type)) targets.push_back(id);
    }
    for (uint64_t id : targets) {
      auto it = subscribers_.find(id);
      if (it == subscribers_.end()) continue;  // unsubscribed meanwhile
      EventCallback cb = it->second.second;
      dispatching_ = id;
      lock.unlock();
      try {
        cb(e);
      } catch (const std::exception& ex) {
        log_.warn("events", "subscriber failed", {{"type", e.type}, {"error", ex.what()}});
      }
      lock.lock();
      dispatching_ = 0;
      cv_.notify_all();
    }
  }
}

void EventBus::deliver_remote(int64_t id) {
  Statement st(*db_, "SELECT type, payload, node, created_at FROM plughost_events WHERE id = :id");
  st.bind("id", Value::integer(id));
  if (!st.step()) return;
  Event e{id, std::string(st.column_bytes(0)), std::string(st.column_bytes(1)),
          std::string(st.column_bytes(2)), st.column_double(3)};
  while (st.step()) {
  }
  if (e.node == node_) return;  // published here: already delivered locally
  last_remote_id_ = std::max(last_remote_id_, id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(e));
  }
  cv_.notify_all();
}

bool EventBus::connect_listener() {
  if (listen_conn_) PQfinish(listen_conn_);
  listen_conn_ = PQconnectdb(db_->url().postgres_conninfo.c_str());
  if (PQstatus(listen_conn_) != CONNECTION_OK) return false;
  PGresult* r = PQexec(listen_conn_, (std::string("LISTEN ") + kChannel).c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok;
}

// Events stored by other hosts while this host was not listening (after a reconnect).
void EventBus::catch_up() {
  std::vector<int64_t> ids;
  {
    Statement st(*db_,
                 "SELECT id FROM plughost_events WHERE id > :after AND node <> :node ORDER BY id");
    st.bind("after", Value::integer(last_remote_id_));
    st.bind("node", Value::text(node_));
    while (st.step()) ids.push_back(st.column_int64(0));
  }
  for (int64_t id : ids) deliver_remote(id);
}

// A dedicated libpq connection LISTENs for ids of events other hosts stored. It is connected in
// start(), so an event published after start() returned reaches this host.
void EventBus::listen_loop() {
  bool connected = PQstatus(listen_conn_) == CONNECTION_OK;
  while (!stopping_) {
    if (!connected) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_.load(); });
      lock.unlock();
      if (stopping_) break;
      connected = connect_listener();
      if (connected) {
        try {
          catch_up();
        } catch (const std::exception& e) {
          log_.warn("events", "catch-up after reconnect failed", {{"error", e.what()}});
        }
      }
      continue;
    }
    pollfd pfd{PQsocket(listen_conn_), POLLIN, 0};
    if (poll(&pfd, 1, 200) < 0 || !PQconsumeInput(listen_conn_)) {  // 200 ms: notice stop()
      log_.warn("events", "LISTEN connection lost; reconnecting");
      connected = false;
      continue;
    }
    while (PGnotify* n = PQnotifies(listen_conn_)) {
      int64_t id = std::atoll(n->extra);
      PQfreemem(n);
      try {
        deliver_remote(id);
      } catch (const std::exception& e) {
        log_.warn("events", "cannot load a remote event", {{"error", e.what()}});
      }
    }
  }
  PQfinish(listen_conn_);
  listen_conn_ = nullptr;
}

}  // namespace plughost
