// router.hpp — the host's route table: method + path pattern -> handler, built from every
// plugin's registrations. Patterns use `:name` segments and an optional final `*` segment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost {

// Everything the host knows about one registered route. The handler lives in a plugin; the
// router only stores an index into the caller's table (`target`).
struct RouteEntry {
  std::string method;
  std::string pattern;
  std::string plugin;
  std::string summary;
  std::string permission;
  std::string rate_class;
  std::string request_schema;
  std::string response_schema;
  uint32_t flags = 0;  // PH_ROUTE_* bits
  size_t target = 0;
  std::vector<std::string> param_names;  // filled by Router::add(): ":id" -> "id", "*" -> "*"
};

using PathParams = std::vector<std::pair<std::string_view, std::string_view>>;

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const RouteEntry* route = nullptr;  // when kFound
  PathParams params;                  // views into the matched path and the pattern's names
  std::vector<std::string> allowed;   // when kMethodNotAllowed: methods of the matched pattern
};

// Not thread-safe to modify; after the last add() it may be matched from any number of threads.
class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Adds a route. Returns an error message (naming both plugins on a conflict) or nullopt.
  // Two patterns conflict when they have the same method and the same shape: equal literal
  // segments, `:param` where the other has `:param` (whatever the names), `*` where `*`.
  std::optional<std::string> add(RouteEntry entry);

  // Matches a path (already split from its query). Literal segments win over `:param`, which wins
  // over `*`; the search backtracks, so `/a/b/c` finds `/a/:x/c` even when `/a/b` exists.
  // HEAD falls back to GET when no HEAD route matches.
  RouteMatch match(std::string_view method, std::string_view path) const;

  // Every route in registration order.
  const std::vector<RouteEntry>& routes() const { return entries_; }

  // Checks a pattern's syntax; returns an error message or nullopt.
  static std::optional<std::string> validate_pattern(std::string_view pattern);

 private:
  struct Node;
  std::unique_ptr<Node> root_;
  std::vector<RouteEntry> entries_;
};

}  // namespace plughost
