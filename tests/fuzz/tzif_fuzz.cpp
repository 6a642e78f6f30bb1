// Fuzzes the TZif (zoneinfo file) parser: untrusted bytes from /usr/share/zoneinfo or a mounted
// volume must be rejected with an error, never read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "scheduler/timezone.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto tz = plughost::TimeZone::parse_tzif(
      "Fuzz/Zone", std::string_view(reinterpret_cast<const char*>(data), size), error);
  if (tz) {
    for (int64_t t : {int64_t{0}, int64_t{1700000000}, int64_t{4102444800}}) {
      (void)tz->to_local(t);
    }
  }
  return 0;
}
