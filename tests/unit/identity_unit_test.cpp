// Identity pieces without HTTP: the permission rule, the rate limiter's sliding window,
// constant-time comparison and the auth/rate_limits config sections.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "identity/identity.hpp"
#include "identity/rate_limiter.hpp"

namespace plughost {
namespace {

TEST(PermissionRule, ExactStarAndPrefixWildcards) {
  EXPECT_TRUE(permission_granted({"users.manage"}, "users.manage"));
  EXPECT_TRUE(permission_granted({"*"}, "anything.at.all"));
  EXPECT_TRUE(permission_granted({"source.*"}, "source.sync"));
  EXPECT_TRUE(permission_granted({"source.*"}, "source.sync.now"));
  EXPECT_FALSE(permission_granted({"source.*"}, "source"));
  EXPECT_FALSE(permission_granted({"source.*"}, "sources.sync"));
  EXPECT_FALSE(permission_granted({"source.sync"}, "source.syncer"));
  EXPECT_FALSE(permission_granted({}, "source.sync"));
}

TEST(ConstantTime, EqualsOnlyOnSameBytes) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "abcd"));
  EXPECT_TRUE(constant_time_equals("", ""));
}

TEST(RateLimiter, CountsPerCallerOverASlidingWindow) {
  RateLimitConfig cfg;
  cfg.classes["tiny"] = RateClass{2, 10};  // 10 buckets of 1 s
  RateLimiter limiter(cfg);
  auto a = limiter.hit("tiny", "ip:1", 1005.2);
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.remaining, 1);
  EXPECT_EQ(a.reset_epoch, 1015);  // when this request leaves the window
  EXPECT_TRUE(limiter.hit("tiny", "ip:1", 1008.5).allowed);
  auto refused = limiter.hit("tiny", "ip:1", 1009.0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.reset_epoch, 1015);
  EXPECT_EQ(refused.retry_after, 6);
  EXPECT_TRUE(limiter.hit("tiny", "ip:2", 1009.0).allowed);      // another caller
  EXPECT_TRUE(limiter.hit("standard", "ip:1", 1009.0).allowed);  // another class
  // A fixed window aligned to 1010 would start afresh here; the sliding one still counts both.
  EXPECT_FALSE(limiter.hit("tiny", "ip:1", 1011.0).allowed);
  // 1005.2 slid out at 1015: one slot, taken; 1008.5 still counts.
  auto later = limiter.hit("tiny", "ip:1", 1015.0);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 0);
  EXPECT_EQ(later.reset_epoch, 1018);
  EXPECT_FALSE(limiter.hit("tiny", "ip:1", 1017.9).allowed);
  EXPECT_TRUE(limiter.hit("tiny", "ip:1", 1018.0).allowed);
  // After a whole quiet window everything is forgotten.
  auto fresh = limiter.hit("tiny", "ip:1", 2000.0);
  EXPECT_TRUE(fresh.allowed);
  EXPECT_EQ(fresh.remaining, 1);
}

TEST(RateLimiter, LongWindowsUseSixtyBucketsAndLargeLimitsCostNothingMore) {
  RateLimitConfig cfg;
  cfg.classes["hourly"] = RateClass{100000, 3600};  // buckets of 60 s
  RateLimiter limiter(cfg);
  for (int i = 0; i < 100000; ++i)
    ASSERT_TRUE(limiter.hit("hourly", "k", 7200.0 + i * 0.01).allowed);
  auto refused = limiter.hit("hourly", "k", 8300.0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 3600 - 1100);  // the bucket [7200, 7260) leaves at 10800
  EXPECT_EQ(refused.reset_epoch, 10800);
  // At 10800 the first bucket (6000 requests) left: exactly 6000 fit again.
  for (int i = 0; i < 6000; ++i) ASSERT_TRUE(limiter.hit("hourly", "k", 10800.0).allowed) << i;
  EXPECT_FALSE(limiter.hit("hourly", "k", 10800.0).allowed);
}

TEST(RateLimiter, SweepsKeepLiveCountersOfLongerWindows) {
  plughost::sdk::SlidingWindowLimiter limiter;
  ASSERT_TRUE(limiter.hit("login:ip", 1, 900, 1000.0).allowed);
  // Enough short-window callers to make every shard sweep.
  for (int i = 0; i < 70000; ++i) limiter.hit("std:" + std::to_string(i), 5, 60, 1010.0);
  EXPECT_FALSE(limiter.hit("login:ip", 1, 900, 1020.0).allowed);  // still counted
  EXPECT_TRUE(limiter.hit("login:ip", 1, 900, 1900.0).allowed);   // slid out
}

TEST(RateLimiter, FractionalWindowsAreNotTruncated) {
  plughost::sdk::SlidingWindowLimiter limiter;
  EXPECT_TRUE(limiter.hit("k", 1, 1.5, 100.0).allowed);
  EXPECT_FALSE(limiter.hit("k", 1, 1.5, 101.2).allowed);  // a 1 s window would allow this
  EXPECT_TRUE(limiter.hit("k", 1, 1.5, 101.6).allowed);
}

TEST(RateLimiter, UnknownClassUsesTheDefaultAndNoneIsUnlimited) {
  RateLimitConfig cfg;
  RateLimiter limiter(cfg);
  EXPECT_EQ(limiter.hit("no-such-class", "ip:1", 0).limit, 120);
  EXPECT_EQ(limiter.hit("", "ip:1", 0).limit, 120);
  EXPECT_FALSE(limiter.hit("none", "ip:1", 0).limited);
  cfg.enabled = false;
  EXPECT_FALSE(limiter.hit("standard", "ip:1", 0).limited);
}

TEST(RateLimiter, ForgetsEndedWindowsUnderManyCallers) {
  RateLimitConfig cfg;
  cfg.classes["c"] = RateClass{1, 1};
  RateLimiter limiter(cfg);
  for (int i = 0; i < 100000; ++i) limiter.hit("c", "ip:" + std::to_string(i), i / 1000.0);
  // Still exact for a caller in the current window after the sweeps.
  EXPECT_TRUE(limiter.hit("c", "fresh", 100.5).allowed);
  EXPECT_FALSE(limiter.hit("c", "fresh", 100.6).allowed);
}

ConfigResult load(const std::string& yaml) {
  return load_config_text(yaml, "t.yaml", [](const std::string&) { return std::nullopt; });
}

TEST(IdentityConfigSection, ReadsAuthAndRateLimits) {
  auto r = load(
      "version: 1\n"
      "auth:\n"
      "  enabled: true\n"
      "  order: [api_key, session]\n"
      "  authenticators: [accounts]\n"
      "  roles: {ops: [\"tasks.*\"]}\n"
      "rate_limits:\n"
      "  exempt_loopback: true\n"
      "  classes: {standard: {limit: 7}, bulk: {limit: 1000, window_seconds: 3600}}\n"
      "plugins:\n"
      "  x: {allowed_origins: [\"https://a.example\", \"*\"]}\n");
  ASSERT_TRUE(r.ok()) << r.diagnostics[0].to_string();
  EXPECT_EQ(r.config.auth.order, (std::vector<std::string>{"api_key", "session"}));
  EXPECT_EQ(r.config.auth.authenticators, std::vector<std::string>{"accounts"});
  EXPECT_EQ(r.config.auth.roles.size(), 1u);
  EXPECT_EQ(r.config.rate_limits.classes["standard"].limit, 7);
  EXPECT_EQ(r.config.rate_limits.classes["standard"].window_seconds, 60);
  EXPECT_EQ(r.config.rate_limits.classes["bulk"].window_seconds, 3600);
  EXPECT_EQ(r.config.rate_limits.classes["datachat"].limit, 30);  // defaults kept
  ASSERT_TRUE(r.config.plugins[0].allowed_origins.has_value());
  EXPECT_EQ(r.config.plugins[0].allowed_origins->size(), 2u);
}

TEST(IdentityConfigSection, ReportsBadValuesWithPositions) {
  auto r = load(
      "version: 1\n"
      "auth:\n"
      "  order: [session, cookie]\n"
      "  enabeld: true\n"
      "rate_limits:\n"
      "  default_class: nope\n"
      "  classes: {standard: {limit: 0}}\n");
  ASSERT_EQ(r.diagnostics.size(), 4u);
  std::string all;
  for (const auto& d : r.diagnostics) all += d.to_string() + "\n";
  EXPECT_NE(all.find("t.yaml:3:"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown credential \"cookie\""), std::string::npos) << all;
  EXPECT_NE(all.find("did you mean \"enabled\""), std::string::npos) << all;
  EXPECT_NE(all.find("default_class \"nope\""), std::string::npos) << all;
  EXPECT_NE(all.find("rate_limits.classes.standard.limit"), std::string::npos) << all;
}

}  // namespace
}  // namespace plughost
