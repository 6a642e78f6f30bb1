// metrics.hpp — the host's Prometheus metrics: requests and latency per route template, requests
// in flight, task outcomes, and gauges read at scrape time (queue depth, storage pool, plugins).
// Recording is lock-free for latency and takes one per-route mutex for the status-code counter.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace plughost {

class Metrics {
 public:
  // Upper bounds of the latency histogram, in seconds (+Inf is implicit).
  static constexpr std::array<double, 11> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   1,     5};

  // One stats slot per route template, created up front so recording never allocates a slot.
  // `plugin` is "" for the host's own routes.
  size_t add_route(const std::string& plugin, const std::string& route);
  void observe(size_t slot, const std::string& method, int code, double seconds);
  void in_flight(int delta) { in_flight_.fetch_add(delta); }
  void count_task(const std::string& plugin, const std::string& task, const std::string& outcome);

  // Prometheus text exposition (version 0.0.4) of everything recorded, followed by `gauges`
  // (already formatted lines, with their # HELP / # TYPE).
  std::string render(const std::string& gauges) const;

 private:
  struct RouteStats {
    std::string plugin;
    std::string route;
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};  // last: +Inf
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_ns{0};
    mutable std::mutex mu;
    std::map<std::pair<std::string, int>, uint64_t> by_method_code;
  };
  std::vector<std::unique_ptr<RouteStats>> routes_;
  std::atomic<int64_t> in_flight_{0};
  mutable std::mutex tasks_mu_;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> tasks_;
};

// Escapes a label value for the exposition format (backslash, quote, newline).
std::string prometheus_label(const std::string& value);

}  // namespace plughost
