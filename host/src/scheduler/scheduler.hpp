// scheduler.hpp — cron schedules that enqueue tasks. Each due time enqueues one task with the
// idempotency key "schedule:<name>:<due unix seconds>", so several hosts sharing a database
// enqueue it exactly once between them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "log/log.hpp"
#include "scheduler/cron.hpp"
#include "scheduler/timezone.hpp"
#include "tasks/task_queue.hpp"

namespace plughost {

struct ScheduleSpec {
  std::string name;      // unique on the host
  std::string cron;      // 5 fields or @hourly/@daily/…
  std::string timezone;  // IANA name; empty = UTC
  std::string task;      // "plugin/task_name"
  std::string payload_json = "{}";
  std::string owner;  // plugin name, or "config"
  // Adds "due" (Unix seconds) to each enqueued payload, which must then be a JSON object.
  bool payload_with_due = false;
};

class Scheduler {
 public:
  Scheduler(TaskQueue& tasks, Database& db, Logger& log);
  ~Scheduler();

  // Validates and adds a schedule; returns an error message or "". Only before start().
  std::string add(const ScheduleSpec& spec);
  // Drops the schedules a plugin registered (its init failed after registering). Before start().
  void remove_owned_by(const std::string& owner);
  // Replaces every schedule of `owner` with `specs`, before or after start(), all or nothing:
  // returns the first problem (and changes nothing) or "". A schedule whose spec is unchanged
  // keeps its next due time; a due time already being enqueued still is. `conflict`, when given,
  // tells whether the problem is a name clash (given twice, or owned by someone else) rather
  // than a bad definition.
  std::string replace_owned_by(const std::string& owner, const std::vector<ScheduleSpec>& specs,
                               bool* conflict = nullptr);
  void start();
  void stop();

  // {"name","cron","timezone","task","owner","payload","payload_with_due","next_run",
  // "last_run"} or nullopt.
  std::optional<std::string> describe(const std::string& name);
  std::vector<std::string> names() const;
  // Per schedule that fired here: seconds from its due time to the enqueue (the lag metric).
  std::vector<std::pair<std::string, double>> lags() const;

  // The enqueue for one due time; public so tests can drive time without waiting for it.
  void fire(const ScheduleSpec& spec, int64_t due);

 private:
  struct Entry {
    ScheduleSpec spec;
    CronExpression cron;
    TimeZone tz;
    std::optional<int64_t> next;
    std::optional<double> last_lag;  // seconds, under mu_
  };
  // A checked entry for `spec`, or the problem with it.
  static std::string prepare(const ScheduleSpec& spec, std::optional<Entry>& out);
  void loop();

  TaskQueue& tasks_;
  Database& db_;
  Logger& log_;
  std::vector<Entry> entries_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace plughost
