// plughost/rate_limit.hpp — request counting over a sliding window, per key: a request is allowed
// while fewer than `limit` requests of that key were counted in the last `window_seconds`. The
// window is kept as at most 60 buckets, so each key costs a fixed few hundred bytes whatever the
// limit, and it slides in steps of window/60 (1 s for a minute). Refused requests are not
// counted. Thread-safe; keys whose window emptied are forgotten as the table grows.
// The host's own rate limits use it; plugins with limits of their own (per embed, per session)
// use it too, so both answer the same X-RateLimit-* numbers.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <unordered_map>

namespace plughost::sdk {

class SlidingWindowLimiter {
 public:
  struct Decision {
    bool allowed = true;
    int64_t limit = 0;
    int64_t remaining = 0;
    int64_t reset_epoch = 0;  // unix seconds when the oldest counted request leaves the window
    int64_t retry_after = 0;  // seconds until then (at least 1)
  };

  // Counts one request of `key` at `now_seconds` (unix time), if it is allowed.
  // `window_seconds` > 0; keys of different windows may share one limiter.
  Decision hit(const std::string& key, int64_t limit, double window_seconds, double now_seconds) {
    const double window = window_seconds > 0 ? window_seconds : 1.0;
    const int buckets = static_cast<int>(
        std::clamp<int64_t>(static_cast<int64_t>(std::ceil(window)), 1, kMaxBuckets));
    const double bucket_seconds = window / buckets;
    const auto now_index = static_cast<int64_t>(std::floor(now_seconds / bucket_seconds));

    Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
    Decision d;
    int64_t used;
    int64_t oldest;  // index of the oldest bucket that still counts something
    {
      std::lock_guard<std::mutex> lock(shard.mu);
      if (shard.windows.size() > kSweepAbove) {
        // By time, not bucket index: keys of other windows count in other bucket lengths.
        for (auto it = shard.windows.begin(); it != shard.windows.end();) {
          it = it->second.empty_after <= now_seconds ? shard.windows.erase(it) : std::next(it);
        }
      }
      Window& w = shard.windows[key];
      if (w.buckets != buckets || w.bucket_seconds != bucket_seconds ||
          now_index - w.head >= buckets) {
        w = Window{};
        w.buckets = buckets;
        w.bucket_seconds = bucket_seconds;
      } else {
        for (int64_t i = w.head + 1; i <= now_index; ++i) {
          int32_t& slot = w.counts[static_cast<size_t>(i % buckets)];
          w.total -= slot;
          slot = 0;
        }
      }
      w.head = std::max(w.head, now_index);
      w.empty_after = static_cast<double>(w.head + buckets) * bucket_seconds;
      d.allowed = w.total < limit;
      if (d.allowed) {
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
    d.limit = limit;
    d.remaining = std::max<int64_t>(0, limit - used);
    d.reset_epoch = static_cast<int64_t>(std::ceil(frees_at));
    d.retry_after = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(frees_at - now_seconds)));
    return d;
  }

 private:
  static constexpr int kMaxBuckets = 60;
  static constexpr size_t kShards = 16;
  static constexpr size_t kSweepAbove = 4096;  // keys per shard before emptied ones are dropped

  struct Window {
    int buckets = 0;  // bucket count when this window started
    double bucket_seconds = 0;
    double empty_after = 0;  // unix seconds when everything counted has left the window
    int64_t head = 0;        // index (in bucket lengths since the epoch) of the newest bucket
    int64_t total = 0;       // requests counted in the window
    std::array<int32_t, kMaxBuckets> counts{};  // counts[index % buckets]
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Window> windows;
  };
  Shard shards_[kShards];
};

}  // namespace plughost::sdk
