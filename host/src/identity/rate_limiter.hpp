// rate_limiter.hpp — per-caller request limits by route class over a sliding window: a request
// is allowed while fewer than `limit` requests of that caller and class were counted in the last
// `window_seconds`. The window is kept as (at most) 60 buckets, so memory per caller is fixed
// whatever the limit and the window slides in steps of window/60 (1 s for a minute). In-process:
// with several hosts behind a balancer each host counts its own share.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "config/config.hpp"

namespace plughost {

class RateLimiter {
 public:
  struct Decision {
    bool limited = false;  // false: the class is unlimited ("none") and no headers are sent
    bool allowed = true;
    int64_t limit = 0;
    int64_t remaining = 0;
    int64_t reset_epoch = 0;  // unix seconds when the oldest counted request leaves the window
    int64_t retry_after = 0;  // seconds, when !allowed
  };

  explicit RateLimiter(const RateLimitConfig& config);

  // Counts one request of `caller` against `rate_class` at `now_seconds` (unix time). An unknown
  // class counts against the default class. Thread-safe.
  Decision hit(const std::string& rate_class, const std::string& caller, double now_seconds);
  // The class a route's declared class resolves to ("" -> the default).
  const RateClass* resolve(const std::string& rate_class) const;

 private:
  static constexpr int kMaxBuckets = 60;
  struct Window {
    int buckets = 0;    // bucket count of the class when this window started
    int64_t head = 0;   // index (in bucket lengths since the epoch) of the newest bucket
    int64_t total = 0;  // requests counted in the window
    std::array<int32_t, kMaxBuckets> counts{};  // counts[index % buckets]
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Window> windows;
  };
  static constexpr size_t kShards = 16;
  static constexpr size_t kSweepAbove = 4096;  // entries per shard before stale ones are dropped

  const RateLimitConfig& config_;
  Shard shards_[kShards];
};

}  // namespace plughost
