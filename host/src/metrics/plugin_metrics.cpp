#include "metrics/plugin_metrics.hpp"

#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "metrics/metrics.hpp"

namespace plughost {
namespace {

bool valid_name(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.15g", v);  // shortest text that reads back the same
  if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

// Finds or creates the series for `values`; null when the call is malformed or over the cap.
// Called with m->mu held.
ph_metric_handle::Series* series_of(ph_metric_handle* m, const ph_str* values, size_t count) {
  if (count != m->label_names.size() || (count > 0 && !values)) return nullptr;
  std::vector<std::string> key;
  key.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    key.emplace_back(values[i].data ? std::string(values[i].data, values[i].size) : "");
  }
  auto it = m->series.find(key);
  if (it != m->series.end()) return &it->second;
  if (m->series.size() >= PluginMetrics::kMaxSeries) {
    if (m->dropped_series) m->dropped_series->fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  ph_metric_handle::Series& s = m->series[key];
  if (m->type == PH_METRIC_HISTOGRAM) s.counts.assign(m->buckets.size() + 1, 0);
  return &s;
}

}  // namespace

std::string PluginMetrics::add(const std::string& plugin, const ph_metric& spec,
                               ph_metric_handle** out, int& code) {
  code = PH_ERR_INVALID_ARGUMENT;
  if (spec.struct_size < offsetof(ph_metric, bucket_count) + sizeof(spec.bucket_count) ||
      !spec.name || !out) {
    return "metric needs struct_size, name and an output handle";
  }
  std::string name = spec.name;
  if (!valid_name(name)) return "metric name \"" + name + "\" must match [a-zA-Z_][a-zA-Z0-9_]*";
  if (name.rfind("plughost_", 0) == 0) return "metric names starting with plughost_ are the host's";
  if (spec.type != PH_METRIC_COUNTER && spec.type != PH_METRIC_GAUGE &&
      spec.type != PH_METRIC_HISTOGRAM) {
    return "metric " + name + ": unknown type " + std::to_string(spec.type);
  }
  auto m = std::make_unique<ph_metric_handle>();
  m->plugin = plugin;
  m->name = name;
  m->help = spec.help ? spec.help : "";
  for (char& c : m->help) {
    if (c == '\n') c = ' ';
  }
  m->type = spec.type;
  if (spec.label_count > 0 && !spec.label_names) return "metric " + name + ": label_names is NULL";
  for (size_t i = 0; i < spec.label_count; ++i) {
    std::string label = spec.label_names[i] ? spec.label_names[i] : "";
    if (!valid_name(label) || label == "plugin" || label == "le" || label.rfind("__", 0) == 0) {
      return "metric " + name + ": bad label name \"" + label + "\"";
    }
    for (const auto& seen : m->label_names) {
      if (seen == label) return "metric " + name + ": label " + label + " twice";
    }
    m->label_names.push_back(label);
  }
  if (spec.type == PH_METRIC_HISTOGRAM) {
    if (spec.buckets && spec.bucket_count > 0) {
      for (size_t i = 0; i < spec.bucket_count; ++i) {
        double b = spec.buckets[i];
        if (!std::isfinite(b) || (i > 0 && b <= spec.buckets[i - 1])) {
          return "metric " + name + ": buckets must be finite and strictly ascending";
        }
        m->buckets.push_back(b);
      }
    } else {
      m->buckets.assign(Metrics::kBuckets.begin(), Metrics::kBuckets.end());
    }
  }
  m->dropped_series = &dropped_series_;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) {
    if (f->name == name && !f->dropped) {
      code = PH_ERR_CONFLICT;
      return "metric " + name + " is already registered by " + f->plugin;
    }
  }
  *out = m.get();
  families_.push_back(std::move(m));
  code = PH_OK;
  return "";
}

void PluginMetrics::drop_plugin(const std::string& plugin) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& f : families_) {
    if (f->plugin == plugin) f->dropped = true;
  }
}

void PluginMetrics::add_to(ph_metric_handle* m, const ph_str* values, size_t count, double delta) {
  if (!m || std::isnan(delta) || m->type == PH_METRIC_HISTOGRAM) return;
  if (m->type == PH_METRIC_COUNTER && delta < 0) return;
  std::lock_guard<std::mutex> lock(m->mu);
  if (auto* s = series_of(m, values, count)) s->value += delta;
}

void PluginMetrics::set(ph_metric_handle* m, const ph_str* values, size_t count, double value) {
  if (!m || m->type != PH_METRIC_GAUGE) return;
  std::lock_guard<std::mutex> lock(m->mu);
  if (auto* s = series_of(m, values, count)) s->value = value;
}

void PluginMetrics::observe(ph_metric_handle* m, const ph_str* values, size_t count, double value) {
  if (!m || m->type != PH_METRIC_HISTOGRAM || std::isnan(value)) return;
  std::lock_guard<std::mutex> lock(m->mu);
  ph_metric_handle::Series* s = series_of(m, values, count);
  if (!s) return;
  size_t bucket = 0;
  while (bucket < m->buckets.size() && value > m->buckets[bucket]) ++bucket;
  ++s->counts[bucket];
  ++s->count;
  s->sum += value;
}

std::string PluginMetrics::render() const {
  std::ostringstream out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) {
    if (f->dropped) continue;
    static const char* kTypes[] = {"counter", "gauge", "histogram"};
    out << "# HELP " << f->name << " " << (f->help.empty() ? f->name : f->help) << "\n";
    out << "# TYPE " << f->name << " " << kTypes[f->type] << "\n";
    std::lock_guard<std::mutex> series_lock(f->mu);
    for (const auto& [values, s] : f->series) {
      std::string labels = "plugin=\"" + prometheus_label(f->plugin) + "\"";
      for (size_t i = 0; i < values.size(); ++i) {
        labels += "," + f->label_names[i] + "=\"" + prometheus_label(values[i]) + "\"";
      }
      if (f->type != PH_METRIC_HISTOGRAM) {
        out << f->name << "{" << labels << "} " << number(s.value) << "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= f->buckets.size(); ++i) {
        cumulative += s.counts[i];
        out << f->name << "_bucket{" << labels << ",le=\""
            << (i < f->buckets.size() ? number(f->buckets[i]) : "+Inf") << "\"} " << cumulative
            << "\n";
      }
      out << f->name << "_sum{" << labels << "} " << number(s.sum) << "\n";
      out << f->name << "_count{" << labels << "} " << s.count << "\n";
    }
  }
  out << "# HELP plughost_plugin_metric_series_dropped_total Plugin metric updates dropped "
         "because the metric had reached its label-combination cap.\n"
         "# TYPE plughost_plugin_metric_series_dropped_total counter\n"
         "plughost_plugin_metric_series_dropped_total "
      << dropped_series_.load() << "\n";
  return out.str();
}

}  // namespace plughost
