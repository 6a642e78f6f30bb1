// Fuzzes the route matcher: first byte picks the method, the rest is the path; also checks that
// a matched route's parameters are views into the path and that arbitrary text given as a
// pattern is validated without crashing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/router.hpp"

namespace {

plughost::Router make_router() {
  plughost::Router r;
  const char* patterns[][2] = {{"GET", "/api/items"},          {"GET", "/api/items/:id"},
                               {"PUT", "/api/items/:id"},      {"GET", "/api/items/:id/logs"},
                               {"GET", "/api/files/*"},        {"POST", "/api/:kind/run"},
                               {"GET", "/api/admin/users/:id"}, {"DELETE", "/a/:b/c/:d/*"}};
  size_t i = 0;
  for (auto& p : patterns) {
    plughost::RouteEntry e;
    e.method = p[0];
    e.pattern = p[1];
    e.target = i++;
    (void)r.add(e);
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const plughost::Router router = make_router();
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"};
  if (size == 0) return 0;
  std::string method = kMethods[data[0] % 7];
  std::string path(reinterpret_cast<const char*>(data) + 1, size - 1);
  plughost::RouteMatch m = router.match(method, path);
  if (m.kind == plughost::RouteMatch::Kind::kFound) {
    for (const auto& [name, value] : m.params) {
      // Values are views into `path` (or empty).
      if (!value.empty() &&
          (value.data() < path.data() || value.data() + value.size() > path.data() + path.size())) {
        __builtin_trap();
      }
      (void)name;
    }
  }
  (void)plughost::Router::validate_pattern(path);
  return 0;
}
