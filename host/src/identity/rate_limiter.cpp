#include "identity/rate_limiter.hpp"

namespace plughost {

RateLimiter::RateLimiter(const RateLimitConfig& config) : config_(config) {}

const RateClass* RateLimiter::resolve(const std::string& rate_class) const {
  const std::string& name = rate_class.empty() ? config_.default_class : rate_class;
  if (name == "none") return nullptr;
  auto it = config_.classes.find(name);
  if (it != config_.classes.end()) return &it->second;
  auto fallback = config_.classes.find(config_.default_class);
  return fallback == config_.classes.end() ? nullptr : &fallback->second;
}

RateLimiter::Decision RateLimiter::hit(const std::string& rate_class, const std::string& caller,
                                       double now_seconds) {
  Decision d;
  if (!config_.enabled) return d;
  const RateClass* rc = resolve(rate_class);
  if (!rc) return d;
  const std::string& class_name = rate_class.empty() ? config_.default_class : rate_class;
  auto w = windows_.hit(class_name + '\n' + caller, rc->limit, rc->window_seconds, now_seconds);
  d.limited = true;
  d.allowed = w.allowed;
  d.limit = w.limit;
  d.remaining = w.remaining;
  d.reset_epoch = w.reset_epoch;
  d.retry_after = w.retry_after;
  return d;
}

}  // namespace plughost
