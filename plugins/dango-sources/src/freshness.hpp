// freshness.hpp — `freshness_update` events: published on the host bus when a source's freshness
// (last successful sync, days old, fresh/stale/never) changes — after each sync, and when time
// alone turns a source stale or a day older (checked every `freshness_check_seconds`).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <plughost/plugin.hpp>
#include <set>
#include <string>
#include <thread>

#include "settings.hpp"
#include "sync.hpp"

namespace dango {

struct Freshness {
  std::optional<std::string> last_update;  // the last successful sync's end
  std::optional<int64_t> days_old;
  std::string status;  // fresh (< 24 h), stale, never
  std::optional<double> hours_since_sync;
  bool operator==(const Freshness& o) const {
    return last_update == o.last_update && days_old == o.days_old && status == o.status;
  }
};

// Freshness of `source` from its sync history, as the sources routes compute it.
Freshness source_freshness(SyncEngine& engine, const std::string& source);

// Thread-safe; one thread, ended by stop() (also the destructor).
class FreshnessNotifier {
 public:
  FreshnessNotifier(sdk::Services host, const Settings& settings, SyncEngine& engine,
                    double check_seconds);
  ~FreshnessNotifier();
  FreshnessNotifier(const FreshnessNotifier&) = delete;
  FreshnessNotifier& operator=(const FreshnessNotifier&) = delete;

  // Remembers every source's freshness (nothing is published for it) and starts the thread.
  void start();
  void stop();
  // A sync of `source` ended (a sync_completed or sync_failed event): check it soon. Cheap;
  // safe on the host's event thread.
  void sync_ended(const std::string& source);

 private:
  void run();
  void check(const std::string& source);

  sdk::Services host_;
  const Settings& settings_;
  SyncEngine& engine_;
  double check_seconds_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::set<std::string> dirty_;             // sources to check now
  std::map<std::string, Freshness> known_;  // last published (or baseline) per source
};

}  // namespace dango
