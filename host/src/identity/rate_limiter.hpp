// rate_limiter.hpp — per-caller request limits by route class, over the SDK's sliding window
// (plughost/rate_limit.hpp). In-process: with several hosts behind a balancer each host counts
// its own share.
#pragma once

#include <cstdint>
#include <plughost/rate_limit.hpp>
#include <string>

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
  const RateLimitConfig& config_;
  sdk::SlidingWindowLimiter windows_;
};

}  // namespace plughost
