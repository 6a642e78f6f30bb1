#include "identity/rate_limiter.hpp"

#include <algorithm>
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
  const int buckets = static_cast<int>(std::clamp<int64_t>(rc->window_seconds, 1, kMaxBuckets));
  const double bucket_seconds = static_cast<double>(rc->window_seconds) / buckets;
  const auto now_index = static_cast<int64_t>(std::floor(now_seconds / bucket_seconds));

  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  bool allowed;
  int64_t used;
  int64_t oldest;  // index of the oldest bucket that still counts something
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    if (shard.windows.size() > kSweepAbove) {
      // A window whose newest bucket slid out entirely counts nothing: forget it.
      for (auto it = shard.windows.begin(); it != shard.windows.end();) {
        it = now_index - it->second.head >= it->second.buckets ? shard.windows.erase(it)
                                                               : std::next(it);
      }
    }
    Window& w = shard.windows[key];
    if (w.buckets != buckets || now_index - w.head >= buckets) {
      w = Window{};
      w.buckets = buckets;
    } else {
      for (int64_t i = w.head + 1; i <= now_index; ++i) {
        int32_t& slot = w.counts[static_cast<size_t>(i % buckets)];
        w.total -= slot;
        slot = 0;
      }
    }
    w.head = std::max(w.head, now_index);
    // A refused request is not counted: a client hammering while limited recovers as soon as its
    // oldest counted request leaves the window.
    allowed = w.total < rc->limit;
    if (allowed) {
      ++w.counts[static_cast<size_t>(w.head % buckets)];
      ++w.total;
    }
    used = w.total;
    oldest = w.head;
    for (int64_t i = w.head - buckets + 1; i <= w.head; ++i) {
      if (i >= 0 && w.counts[static_cast<size_t>(i % buckets)] > 0) {
        oldest = i;
        break;
      }
    }
  }
  double frees_at = static_cast<double>(oldest + buckets) * bucket_seconds;
  d.limited = true;
  d.limit = rc->limit;
  d.allowed = allowed;
  d.remaining = std::max<int64_t>(0, rc->limit - used);
  d.reset_epoch = static_cast<int64_t>(std::ceil(frees_at));
  d.retry_after = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(frees_at - now_seconds)));
  return d;
}

}  // namespace plughost
