// plugin_metrics.hpp — counters, gauges and histograms plugins register through the ABI (1.3),
// rendered on /metrics with a `plugin` label. Registration runs on the main thread during init;
// updates come from any thread (one mutex per metric); rendering reads under the same mutexes.
#pragma once

#include <plughost/abi.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

// What a plugin holds: one registered metric family.
struct ph_metric_handle {
  std::string plugin;
  std::string name;
  std::string help;
  int type = PH_METRIC_COUNTER;
  std::vector<std::string> label_names;
  std::vector<double> buckets;  // histograms: upper bounds, ascending
  bool dropped = false;         // its plugin failed to init: not rendered

  struct Series {
    double value = 0;              // counter / gauge
    std::vector<uint64_t> counts;  // histogram: per bucket, last = +Inf (not cumulative)
    uint64_t count = 0;
    double sum = 0;
  };
  std::mutex mu;
  std::map<std::vector<std::string>, Series> series;
  std::atomic<uint64_t>* dropped_series = nullptr;  // the registry's counter
};

namespace plughost {

class PluginMetrics {
 public:
  static constexpr size_t kMaxSeries = 1000;

  // Checks and registers; returns "" or the reason it was refused (with `code` set).
  std::string add(const std::string& plugin, const ph_metric& spec, ph_metric_handle** out,
                  int& code);
  // Hides the metrics of a plugin whose init failed (handles stay valid; nothing renders).
  void drop_plugin(const std::string& plugin);

  // Exposition lines for every metric of a running plugin.
  std::string render() const;

  static void add_to(ph_metric_handle* m, const ph_str* values, size_t count, double delta);
  static void set(ph_metric_handle* m, const ph_str* values, size_t count, double value);
  static void observe(ph_metric_handle* m, const ph_str* values, size_t count, double value);

 private:
  mutable std::mutex mu_;  // guards families_ (registration vs render)
  std::vector<std::unique_ptr<ph_metric_handle>> families_;
  std::atomic<uint64_t> dropped_series_{0};
};

}  // namespace plughost
