// task_queue.hpp — durable background tasks: rows in storage, a worker pool that claims them
// with leases (FOR UPDATE SKIP LOCKED on PostgreSQL, so several hosts share one queue), progress,
// capped logs, cooperative cancellation and timeouts, retries with exponential backoff.
//
// Delivery is at-least-once: a task whose host dies mid-run is run again once its lease expires
// (attempts count it). A handler that must not repeat side effects keys them on task_id().
#pragma once

#include <plughost/abi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "log/log.hpp"

struct ph_task_context;
#include "storage/database.hpp"

namespace plughost {

struct TaskSettings {
  int workers = 2;            // 0: this host enqueues but never runs tasks
  double lease_seconds = 30;  // a running task whose lease lapses is taken again
  double poll_interval_seconds = 0.5;
  double default_timeout_seconds = 300;
  int default_max_attempts = 3;
  double retry_base_seconds = 1;  // retry n waits base * 2^(n-1), at most an hour
  size_t log_lines = 1000;        // older lines are dropped (and counted)
};

struct EnqueueRequest {
  std::string kind;  // "plugin/name"
  std::string payload_json = "{}";
  std::string idempotency_key;
  double delay_seconds = 0;
  int max_attempts = 0;
  double timeout_seconds = 0;
  // Set by the caller when it knows the kind is registered though not yet visible to the lookup
  // (a plugin enqueueing its own kind during init, before its registrations are committed).
  bool kind_known = false;
};

struct TaskFilter {
  std::string kind;
  std::string status;
  int64_t limit = 50;
  int64_t offset = 0;
};

// How a handler is found and called; filled from the plugin registry.
struct TaskHandlerRef {
  ph_task_handler handler = nullptr;
  void* user_data = nullptr;
};
using TaskLookup = std::function<std::optional<TaskHandlerRef>(const std::string& kind)>;

double unix_now();
std::string task_table_sql(Dialect dialect);  // CREATE TABLE/INDEX statements for the queue

class TaskQueue {
 public:
  TaskQueue(Database& db, Logger& log, TaskSettings settings, std::string node, TaskLookup lookup);
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  void start();
  // Stops claiming, asks running handlers to stop (task_cancelled() turns true), waits for them,
  // and returns the leases of tasks interrupted by the shutdown so another host runs them.
  void stop();

  // Returns the task id. Throws std::invalid_argument for an unknown kind or bad payload.
  int64_t enqueue(const EnqueueRequest& request);
  std::optional<std::string> get_json(int64_t id);
  std::string list_json(const TaskFilter& filter);
  // Queued: cancelled at once. Running: asks the handler to stop. Returns false when the task
  // does not exist or already finished.
  bool cancel(int64_t id);
  // Blocks until a worker of this host brought task `id` to a final status (succeeded, failed,
  // cancelled, timed_out), or stop() was called. For tests and synchronous callers; no polling.
  void wait_for_final(int64_t id);

  const std::string& node() const { return node_; }
  // Called (from a worker thread) with ("task.<status>", task JSON) when a task reaches a final
  // status. Set before start().
  void set_event_sink(std::function<void(const std::string&, const std::string&)> sink) {
    sink_ = std::move(sink);
  }

 private:
  int64_t insert_task(const EnqueueRequest& request);
  bool already_running_here(ph_task_context& run);
  void worker_loop();
  void lease_loop();
  bool claim_and_run();
  void finish(ph_task_context& run, int rc, const std::string& error);
  void write_progress(ph_task_context& run);
  void write_log(ph_task_context& run);

 public:
  // Called through the ABI by the handler's thread.
  void report_progress(ph_task_context& run, int percent);
  void append_log(ph_task_context& run, std::string line);

 private:
  Database& db_;
  Logger& log_;
  TaskSettings settings_;
  std::string node_;
  TaskLookup lookup_;
  std::function<void(const std::string&, const std::string&)> sink_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> lease_stop_{false};  // the lease thread outlives the workers
  std::mutex mu_;
  std::condition_variable wake_;     // enqueue / stop
  std::condition_variable settled_;  // a task finished here
  std::map<int64_t, ph_task_context*> running_;
  std::vector<int64_t> final_ids_;  // recent, bounded
  std::vector<std::thread> threads_;
};

}  // namespace plughost

// The handle a task handler receives.
struct ph_task_context {
  plughost::TaskQueue* queue = nullptr;
  int64_t id = 0;
  int attempt = 0;
  std::string kind;
  std::string payload;
  double deadline = 0;
  std::atomic<bool> cancel_requested{false};
  std::atomic<bool> timed_out{false};
  std::atomic<bool> shutdown{false};
  std::mutex mu;  // progress, log, result
  int progress = 0;
  std::vector<std::string> log;
  size_t dropped_lines = 0;
  std::string result;
};
