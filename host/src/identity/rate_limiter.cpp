#include "identity/rate_limiter.hpp"

#include <cmath>
#include <functional>

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
  std::string key = class_name + '\n' + caller;
  auto index = static_cast<int64_t>(std::floor(now_seconds / rc->window_seconds));
  double window_end = static_cast<double>(index + 1) * rc->window_seconds;

  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  bool allowed;
  int64_t used;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    if (shard.windows.size() > kSweepAbove) {
      // A window that ended can only restart at zero: forget it.
      for (auto it = shard.windows.begin(); it != shard.windows.end();) {
        it = it->second.ends <= now_seconds ? shard.windows.erase(it) : std::next(it);
      }
    }
    Window& w = shard.windows[key];
    if (w.index != index) w = Window{index, 0, window_end};
    // A refused request is not counted: a client hammering while limited recovers at the reset.
    allowed = w.count < rc->limit;
    if (allowed) ++w.count;
    used = w.count;
  }
  d.limited = true;
  d.limit = rc->limit;
  d.allowed = allowed;
  d.remaining = rc->limit - used;
  d.reset_epoch = static_cast<int64_t>(std::ceil(window_end));
  d.retry_after = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(window_end - now_seconds)));
  return d;
}

}  // namespace plughost
