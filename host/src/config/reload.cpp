#include "config/reload.hpp"

#include <tuple>

namespace plughost {
namespace {

auto server_key(const ServerConfig& s) {
  return std::tie(s.host, s.port, s.threads, s.max_body_bytes, s.drain_seconds,
                  s.shutdown_timeout_seconds, s.trusted_proxies, s.request_timeout_seconds,
                  s.header_timeout_seconds, s.body_timeout_seconds, s.max_connections);
}
auto tasks_key(const TasksConfig& t) {
  return std::tie(t.workers, t.lease_seconds, t.poll_interval_seconds, t.default_timeout_seconds,
                  t.max_attempts, t.log_lines, t.node);
}
auto auth_key(const AuthConfig& a) {
  return std::tie(a.enabled, a.order, a.authenticators, a.roles, a.csrf_cookie, a.csrf_header,
                  a.csrf_trusted_headers);
}
auto schedule_key(const ScheduleConfig& s) {
  return std::tie(s.name, s.cron, s.timezone, s.task, s.payload_json);
}
const PluginConfig* find_plugin(const Config& c, const std::string& name) {
  for (const auto& p : c.plugins) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace

bool same_schedules(const std::vector<ScheduleConfig>& a, const std::vector<ScheduleConfig>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (schedule_key(a[i]) != schedule_key(b[i])) return false;
  }
  return true;
}

bool same_rate_limits(const RateLimitConfig& a, const RateLimitConfig& b) {
  if (std::tie(a.enabled, a.exempt_loopback, a.default_class) !=
          std::tie(b.enabled, b.exempt_loopback, b.default_class) ||
      a.classes.size() != b.classes.size()) {
    return false;
  }
  for (const auto& [name, rc] : a.classes) {
    auto it = b.classes.find(name);
    if (it == b.classes.end() || it->second.limit != rc.limit ||
        it->second.window_seconds != rc.window_seconds) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> settings_needing_restart(const Config& running, const Config& next) {
  std::vector<std::string> out;
  if (server_key(running.server) != server_key(next.server)) out.push_back("server");
  if (running.log.format != next.log.format) out.push_back("log.format");
  if (running.log.access != next.log.access) out.push_back("log.access");
  if (running.storage_url != next.storage_url ||
      running.storage_pool_size != next.storage_pool_size) {
    out.push_back("storage");
  }
  if (tasks_key(running.tasks) != tasks_key(next.tasks)) out.push_back("tasks");
  if (auth_key(running.auth) != auth_key(next.auth)) out.push_back("auth");
  if (running.plugins_dir != next.plugins_dir) out.push_back("plugins_dir");
  std::vector<std::string> order_a, order_b;
  for (const auto& p : running.plugins) order_a.push_back(p.name);
  for (const auto& p : next.plugins) order_b.push_back(p.name);
  if (order_a != order_b) out.push_back("plugins");
  for (const auto& p : next.plugins) {
    const PluginConfig* old = find_plugin(running, p.name);
    if (!old) continue;  // a new plugin: covered by "plugins"
    std::string at = "plugins." + p.name;
    if (old->enabled != p.enabled) out.push_back(at + ".enabled");
    if (old->required != p.required) out.push_back(at + ".required");
    if (old->allowed_origins != p.allowed_origins) out.push_back(at + ".allowed_origins");
    if (old->config_json != p.config_json) out.push_back(at + ".config");
  }
  return out;
}

std::vector<std::string> live_settings_changed(const Config& applied, const Config& next) {
  std::vector<std::string> out;
  if (applied.log.level != next.log.level) out.push_back("log.level");
  for (const auto& p : next.plugins) {
    const PluginConfig* old = find_plugin(applied, p.name);
    if (old && old->log_level != p.log_level) out.push_back("plugins." + p.name + ".log_level");
  }
  if (!same_rate_limits(applied.rate_limits, next.rate_limits)) out.push_back("rate_limits");
  if (!same_schedules(applied.schedules, next.schedules)) out.push_back("schedules");
  return out;
}

}  // namespace plughost
