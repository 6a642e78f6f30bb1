// rate_limiter.hpp — per-caller request limits by route class, in fixed windows aligned to the
// epoch (so X-RateLimit-Reset is the same instant for every caller of a class). In-process: with
// several hosts behind a balancer each host counts its own share.
#pragma once

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
    int64_t reset_epoch = 0;  // unix seconds when the current window ends
    int64_t retry_after = 0;  // seconds, when !allowed
  };

  explicit RateLimiter(const RateLimitConfig& config);

  // Counts one request of `caller` against `rate_class` at `now_seconds` (unix time). An unknown
  // class counts against the default class. Thread-safe.
  Decision hit(const std::string& rate_class, const std::string& caller, double now_seconds);
  // The class a route's declared class resolves to ("" -> the default).
  const RateClass* resolve(const std::string& rate_class) const;

 private:
  struct Window {
    int64_t index = 0;  // floor(now / window_seconds)
    int64_t count = 0;
    double ends = 0;  // unix seconds
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
