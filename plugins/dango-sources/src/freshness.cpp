#include "freshness.hpp"

#include <algorithm>
#include <chrono>

#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

Freshness source_freshness(SyncEngine& engine, const std::string& source) {
  Freshness f;
  for (const auto& r : engine.runs(source, 50)) {
    if (r.status == "success") {
      f.last_update = r.finished_at;
      break;
    }
  }
  auto at = f.last_update ? parse_iso_utc(*f.last_update) : std::nullopt;
  if (!at) {
    f.status = "never";
    return f;
  }
  int64_t seconds = std::max<int64_t>(0, now_ms() / 1000 - *at);
  double hours = static_cast<double>(seconds) / 3600.0;
  f.days_old = seconds / 86400;
  f.status = hours < 24 ? "fresh" : "stale";
  f.hours_since_sync = static_cast<double>(static_cast<int64_t>(hours * 10)) / 10.0;
  return f;
}

FreshnessNotifier::FreshnessNotifier(sdk::Services host, const Settings& settings,
                                     SyncEngine& engine, double check_seconds)
    : host_(host), settings_(settings), engine_(engine), check_seconds_(check_seconds) {}

FreshnessNotifier::~FreshnessNotifier() {
  stop();
}

void FreshnessNotifier::start() {
  if (thread_.joinable()) return;
  for (const auto& s : settings_.sources) {
    try {
      known_[s.name] = source_freshness(engine_, s.name);
    } catch (const std::exception& e) {
      host_.warn(std::string("dango-sources: freshness of ") + s.name + ": " + e.what());
    }
  }
  thread_ = std::thread([this] { run(); });
}

void FreshnessNotifier::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FreshnessNotifier::sync_ended(const std::string& source) {
  if (source.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_.insert(source);
  }
  cv_.notify_all();
}

void FreshnessNotifier::run() {
  using Clock = std::chrono::steady_clock;
  auto period = std::chrono::milliseconds(static_cast<int64_t>(check_seconds_ * 1000));
  auto next_sweep = Clock::now() + period;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_until(lock, next_sweep, [&] { return stopping_ || !dirty_.empty(); });
    if (stopping_) break;
    std::set<std::string> todo;
    todo.swap(dirty_);
    if (Clock::now() >= next_sweep) {
      for (const auto& s : settings_.sources) todo.insert(s.name);
      next_sweep = Clock::now() + period;
    }
    lock.unlock();
    for (const auto& source : todo) {
      try {
        check(source);
      } catch (const std::exception& e) {
        host_.warn(std::string("dango-sources: freshness of ") + source + ": " + e.what());
      }
    }
    lock.lock();
  }
}

// Only this thread writes known_ after start().
void FreshnessNotifier::check(const std::string& source) {
  Freshness now = source_freshness(engine_, source);
  auto it = known_.find(source);
  if (it != known_.end() && it->second == now) return;
  known_[source] = now;
  Json j;
  j.begin()
      .key("type")
      .str("freshness_update")
      .key("event")
      .str("freshness_update")
      .key("source")
      .str(source)
      .key("freshness")
      .begin()
      .key("last_update")
      .opt(now.last_update)
      .key("days_old")
      .opt(now.days_old)
      .key("status")
      .str(now.status)
      .key("hours_since_sync");
  if (now.hours_since_sync) {
    j.real(*now.hours_since_sync);
  } else {
    j.null();
  }
  j.end().key("timestamp").str(iso_utc_now()).end();
  host_.publish("freshness_update", j.text(), true);
}

}  // namespace dango
