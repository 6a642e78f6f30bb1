#include "scheduler/scheduler.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/time_format.hpp"
#include "storage/statement.hpp"

namespace plughost {
namespace {

std::string iso(int64_t unix_seconds) {
  return iso8601_utc(static_cast<double>(unix_seconds), /*with_millis=*/false);
}

std::string key_prefix(const std::string& name) {
  return "schedule:" + name + ":";
}

}  // namespace

Scheduler::Scheduler(TaskQueue& tasks, Database& db, Logger& log)
    : tasks_(tasks), db_(db), log_(log) {}

Scheduler::~Scheduler() {
  stop();
}

std::string Scheduler::prepare(const ScheduleSpec& spec, std::optional<Entry>& out) {
  if (spec.name.empty() || spec.name.find(':') != std::string::npos) {
    return "schedule name must be non-empty and without ':'";
  }
  std::string error;
  auto cron = CronExpression::parse(spec.cron, error);
  if (!cron) return "schedule \"" + spec.name + "\": " + error;
  std::optional<TimeZone> tz =
      spec.timezone.empty() ? TimeZone::utc() : TimeZone::load(spec.timezone, error);
  if (!tz) return "schedule \"" + spec.name + "\": " + error;
  rapidjson::Document payload;
  if (payload.Parse(spec.payload_json.c_str()).HasParseError()) {
    return "schedule \"" + spec.name + "\": payload is not valid JSON";
  }
  if (spec.payload_with_due && !payload.IsObject()) {
    return "schedule \"" + spec.name + "\": a payload that gets the due time must be an object";
  }
  out.emplace(Entry{spec, *cron, *tz, std::nullopt, std::nullopt});
  return {};
}

std::string Scheduler::add(const ScheduleSpec& spec) {
  std::optional<Entry> entry;
  std::string problem = prepare(spec, entry);
  if (!problem.empty()) return problem;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : entries_) {
    if (e.spec.name == spec.name) {
      return "schedule \"" + spec.name + "\" is already defined by " + e.spec.owner;
    }
  }
  entries_.push_back(std::move(*entry));
  return {};
}

std::string Scheduler::replace_owned_by(const std::string& owner,
                                        const std::vector<ScheduleSpec>& specs, bool* conflict) {
  if (conflict) *conflict = false;
  std::vector<Entry> fresh;
  for (const auto& spec : specs) {
    std::optional<Entry> entry;
    std::string problem = prepare(spec, entry);
    if (!problem.empty()) return problem;
    for (const auto& e : fresh) {
      if (e.spec.name == spec.name) {
        if (conflict) *conflict = true;
        return "schedule \"" + spec.name + "\" is defined twice";
      }
    }
    entry->spec.owner = owner;
    fresh.push_back(std::move(*entry));
  }
  const int64_t now = static_cast<int64_t>(std::floor(unix_now()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& f : fresh) {
      for (const auto& e : entries_) {
        if (e.spec.name != f.spec.name) continue;
        if (e.spec.owner != owner) {
          if (conflict) *conflict = true;
          return "schedule \"" + f.spec.name + "\" is already defined by " + e.spec.owner;
        }
        if (e.spec.cron == f.spec.cron && e.spec.timezone == f.spec.timezone &&
            e.spec.task == f.spec.task && e.spec.payload_json == f.spec.payload_json &&
            e.spec.payload_with_due == f.spec.payload_with_due) {
          f.next = e.next;
          f.last_lag = e.last_lag;
        }
      }
      if (started_ && !f.next) f.next = f.cron.next_after(now, f.tz);
    }
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [&](const Entry& e) { return e.spec.owner == owner; }),
                   entries_.end());
    for (auto& f : fresh) entries_.push_back(std::move(f));
  }
  cv_.notify_all();  // the loop recomputes its earliest due time
  return {};
}

void Scheduler::remove_owned_by(const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.spec.owner == owner; }),
                 entries_.end());
}

void Scheduler::start() {
  int64_t now = static_cast<int64_t>(std::floor(unix_now()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : entries_) e.next = e.cron.next_after(now, e.tz);
    started_ = true;
  }
  thread_ = std::thread([this] { loop(); });
}

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::fire(const ScheduleSpec& spec, int64_t due) {
  EnqueueRequest r;
  r.kind = spec.task;
  r.payload_json = spec.payload_json;
  if (spec.payload_with_due) {  // an object (checked by prepare): add "due" after its members
    rapidjson::Document payload;
    payload.Parse(spec.payload_json.c_str());
    if (payload.IsObject()) {
      payload.RemoveMember("due");
      payload.AddMember("due", static_cast<int64_t>(due), payload.GetAllocator());
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      payload.Accept(w);
      r.payload_json.assign(buf.GetString(), buf.GetSize());
    }
  }
  r.idempotency_key = key_prefix(spec.name) + std::to_string(due);
  try {
    int64_t id = tasks_.enqueue(r);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& e : entries_) {
        if (e.spec.name == spec.name) e.last_lag = unix_now() - static_cast<double>(due);
      }
    }
    log_.info("scheduler", "schedule fired",
              {{"schedule", spec.name}, {"due", iso(due)}, {"task_id", id}});
  } catch (const std::exception& e) {
    log_.error("scheduler", "schedule could not enqueue",
               {{"schedule", spec.name}, {"due", iso(due)}, {"error", e.what()}});
  }
}

void Scheduler::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    std::optional<int64_t> earliest;
    for (const auto& e : entries_) {
      if (e.next && (!earliest || *e.next < *earliest)) earliest = e.next;
    }
    auto until = earliest ? std::chrono::system_clock::time_point(std::chrono::seconds(*earliest))
                          : std::chrono::system_clock::now() + std::chrono::hours(24);
    // Woken early by stop() or by replace_owned_by() (the earliest due time may have moved).
    cv_.wait_until(lock, until);
    if (stopping_) break;
    int64_t now = static_cast<int64_t>(std::floor(unix_now()));
    std::vector<std::pair<ScheduleSpec, int64_t>> due_now;
    for (auto& e : entries_) {
      if (!e.next || *e.next > now) continue;
      due_now.emplace_back(e.spec, *e.next);
      e.next = e.cron.next_after(std::max(*e.next, now), e.tz);
    }
    lock.unlock();
    // A missed run while the host was down is not replayed; the next one is.
    for (const auto& [spec, due] : due_now) fire(spec, due);
    lock.lock();
  }
}

std::vector<std::pair<std::string, double>> Scheduler::lags() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, double>> out;
  for (const auto& e : entries_) {
    if (e.last_lag) out.emplace_back(e.spec.name, *e.last_lag);
  }
  return out;
}

std::vector<std::string> Scheduler::names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.spec.name);
  return out;
}

std::optional<std::string> Scheduler::describe(const std::string& name) {
  ScheduleSpec spec;
  std::optional<int64_t> next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.spec.name == name; });
    if (it == entries_.end()) return std::nullopt;
    spec = it->spec;
    next = it->next;
  }
  // The last run is whatever any host enqueued for this schedule, newest first.
  std::optional<int64_t> last;
  Statement st(db_,
               "SELECT idempotency_key FROM plughost_tasks WHERE idempotency_key LIKE :prefix"
               " ORDER BY id DESC LIMIT 1");
  st.bind("prefix", Value::text(key_prefix(spec.name) + "%"));
  if (st.step()) {
    std::string key(st.column_bytes(0));
    last = std::atoll(key.c_str() + key_prefix(spec.name).size());
    while (st.step()) {
    }
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("name");
  w.String(spec.name.c_str());
  w.Key("cron");
  w.String(spec.cron.c_str());
  w.Key("timezone");
  w.String(spec.timezone.empty() ? "UTC" : spec.timezone.c_str());
  w.Key("task");
  w.String(spec.task.c_str());
  w.Key("owner");
  w.String(spec.owner.c_str());
  w.Key("payload");
  w.RawValue(spec.payload_json.c_str(), spec.payload_json.size(), rapidjson::kObjectType);
  w.Key("payload_with_due");
  w.Bool(spec.payload_with_due);
  w.Key("next_run");
  if (next)
    w.String(iso(*next).c_str());
  else
    w.Null();
  w.Key("last_run");
  if (last)
    w.String(iso(*last).c_str());
  else
    w.Null();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace plughost
