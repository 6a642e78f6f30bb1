// Fuzzes the SDK's multipart/form-data parser: the boundary from a Content-Type line, then the
// body. Never crashes; every part's data lies inside the body; a success reparsed gives the same.
#include <cstddef>
#include <cstdint>
#include <plughost/multipart.hpp>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // First line: the Content-Type value; the rest: the body.
  size_t eol = input.find('\n');
  std::string_view content_type = input.substr(0, eol);
  std::string_view body =
      eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
  namespace mp = plughost::sdk::multipart;
  auto boundary = mp::form_data_boundary(content_type);
  std::string use = boundary ? *boundary : "b";
  if (boundary && (boundary->empty() || boundary->size() > 70)) __builtin_trap();
  mp::Limits limits;
  limits.max_parts = 8;
  limits.max_header_bytes = 256;
  std::vector<mp::Part> parts;
  std::string error;
  bool ok = mp::parse(body, use, parts, error, limits);
  if (!ok && error.empty()) __builtin_trap();
  if (!ok) return 0;
  if (parts.size() > limits.max_parts) __builtin_trap();
  for (const auto& p : parts) {
    if (p.data.data() < body.data() || p.data.data() + p.data.size() > body.data() + body.size()) {
      __builtin_trap();
    }
    // The delimiter never occurs inside a part's data.
    if (p.data.find("\r\n--" + use) != std::string_view::npos) __builtin_trap();
  }
  std::vector<mp::Part> again;
  if (!mp::parse(body, use, again, error, limits) || again.size() != parts.size()) __builtin_trap();
  return 0;
}
