#include "metrics/metrics.hpp"

#include <cstdio>
#include <sstream>
#include <tuple>

namespace plughost {

std::string prometheus_label(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

size_t Metrics::add_route(const std::string& plugin, const std::string& route) {
  auto stats = std::make_unique<RouteStats>();
  stats->plugin = plugin;
  stats->route = route;
  routes_.push_back(std::move(stats));
  return routes_.size() - 1;
}

void Metrics::observe(size_t slot, const std::string& method, int code, double seconds) {
  if (slot >= routes_.size()) return;
  RouteStats& s = *routes_[slot];
  size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  s.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  s.count.fetch_add(1, std::memory_order_relaxed);
  s.sum_ns.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(s.mu);
  ++s.by_method_code[{method, code}];
}

void Metrics::count_task(const std::string& plugin, const std::string& task,
                         const std::string& outcome) {
  std::lock_guard<std::mutex> lock(tasks_mu_);
  ++tasks_[{plugin, task, outcome}];
}

std::string Metrics::render(const std::string& gauges) const {
  std::ostringstream out;
  out << "# HELP plughost_http_requests_total HTTP requests answered, by route template.\n"
         "# TYPE plughost_http_requests_total counter\n";
  for (const auto& s : routes_) {
    std::lock_guard<std::mutex> lock(s->mu);
    for (const auto& [key, n] : s->by_method_code) {
      out << "plughost_http_requests_total{plugin=\"" << prometheus_label(s->plugin)
          << "\",route=\"" << prometheus_label(s->route) << "\",method=\"" << key.first
          << "\",code=\"" << key.second << "\"} " << n << "\n";
    }
  }
  out << "# HELP plughost_http_request_duration_seconds Time to answer, by route template.\n"
         "# TYPE plughost_http_request_duration_seconds histogram\n";
  for (const auto& s : routes_) {
    uint64_t count = s->count.load();
    if (count == 0) continue;
    std::string labels = "plugin=\"" + prometheus_label(s->plugin) + "\",route=\"" +
                         prometheus_label(s->route) + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= kBuckets.size(); ++i) {
      cumulative += s->buckets[i].load();
      char le[32];
      if (i < kBuckets.size()) {
        std::snprintf(le, sizeof(le), "%g", kBuckets[i]);
      } else {
        std::snprintf(le, sizeof(le), "+Inf");
      }
      out << "plughost_http_request_duration_seconds_bucket{" << labels << ",le=\"" << le << "\"} "
          << cumulative << "\n";
    }
    char sum[64];
    std::snprintf(sum, sizeof(sum), "%.9f", static_cast<double>(s->sum_ns.load()) / 1e9);
    out << "plughost_http_request_duration_seconds_sum{" << labels << "} " << sum << "\n";
    out << "plughost_http_request_duration_seconds_count{" << labels << "} " << count << "\n";
  }
  out << "# HELP plughost_http_requests_in_flight Requests being answered now.\n"
         "# TYPE plughost_http_requests_in_flight gauge\n"
         "plughost_http_requests_in_flight "
      << in_flight_.load() << "\n";
  out << "# HELP plughost_tasks_total Task attempts finished, by outcome.\n"
         "# TYPE plughost_tasks_total counter\n";
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    for (const auto& [key, n] : tasks_) {
      out << "plughost_tasks_total{plugin=\"" << prometheus_label(std::get<0>(key)) << "\",task=\""
          << prometheus_label(std::get<1>(key)) << "\",outcome=\""
          << prometheus_label(std::get<2>(key)) << "\"} " << n << "\n";
    }
  }
  out << gauges;
  return out.str();
}

}  // namespace plughost
