// event_bus.hpp — publish/subscribe inside the host by event type, with `*` wildcards
// ("sync_*"). Events a publisher marks persistent are stored in plughost_events and, on
// PostgreSQL, reach the subscribers of every host sharing the database (LISTEN/NOTIFY).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "log/log.hpp"

struct pg_conn;  // libpq's PGconn
#include "storage/database.hpp"

namespace plughost {

struct Event {
  int64_t id = 0;  // 0 unless persisted
  std::string type;
  std::string payload_json;
  std::string node;  // host that published it
  double at = 0;     // unix seconds
};

// Callbacks run on the bus's dispatcher thread, one event at a time, in publish order per host.
// They must not block for long; they must not call subscribe/unsubscribe.
using EventCallback = std::function<void(const Event&)>;

// Glob match where `*` matches any run of characters: "sync_*", "*", "task.*.done".
bool event_type_matches(std::string_view pattern, std::string_view type);

std::string events_table_sql(Dialect dialect);

class EventBus {
 public:
  // `db` may be null: then persistence is refused and delivery stays in-process.
  EventBus(Database* db, Logger& log, std::string node);
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  void start();
  void stop();

  // Thread-safe. Returns the stored id when `persist`, else 0. Throws std::runtime_error when
  // persistence was asked for and failed (the event is then not delivered either).
  int64_t publish(const std::string& type, const std::string& payload_json, bool persist);
  uint64_t subscribe(const std::string& pattern, EventCallback callback);
  void unsubscribe(uint64_t id);

 private:
  void dispatch_loop();
  void listen_loop();
  void deliver_remote(int64_t id);
  bool connect_listener();
  void catch_up();

  Database* db_;
  Logger& log_;
  std::string node_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;
  std::map<uint64_t, std::pair<std::string, EventCallback>> subscribers_;
  uint64_t next_id_ = 1;
  uint64_t dispatching_ = 0;  // subscription whose callback runs now (0: none)
  std::thread dispatcher_;
  std::thread listener_;
  ::pg_conn* listen_conn_ = nullptr;  // PGconn, owned by the listener
  int64_t last_remote_id_ = 0;        // listener thread only
};

}  // namespace plughost
