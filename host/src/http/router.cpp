#include "http/router.hpp"

#include <algorithm>
#include <map>

namespace plughost {
namespace {

constexpr size_t kMaxSegments = 64;

// Splits "/a//b/c/" into {"a","b","c"}: empty segments are ignored, so a trailing slash and
// doubled slashes do not change which route matches.
bool split_path(std::string_view path, std::vector<std::string_view>& out) {
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i == path.size()) break;
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    if (out.size() == kMaxSegments) return false;
    out.push_back(path.substr(i, end - i));
    i = end;
  }
  return true;
}

bool is_param(std::string_view seg) {
  return seg.size() > 1 && seg[0] == ':';
}

}  // namespace

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  std::unique_ptr<Node> wildcard;
  std::map<std::string, size_t, std::less<>> methods;  // method -> index into entries_
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

std::optional<std::string> Router::validate_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern[0] != '/') return "path pattern must start with '/'";
  std::vector<std::string_view> segs;
  if (!split_path(pattern, segs)) return "path pattern has too many segments";
  std::vector<std::string_view> names;
  for (size_t i = 0; i < segs.size(); ++i) {
    std::string_view s = segs[i];
    if (s == "*") {
      if (i + 1 != segs.size()) return "'*' is only allowed as the last segment";
      continue;
    }
    if (s == ":") return "empty parameter name in path pattern";
    if (is_param(s)) {
      if (std::find(names.begin(), names.end(), s) != names.end()) {
        return "parameter '" + std::string(s.substr(1)) + "' appears twice";
      }
      names.push_back(s);
      continue;
    }
    if (s.find_first_of("*:?#") != std::string_view::npos) {
      return "segment '" + std::string(s) + "' contains a reserved character (*, :, ?, #)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> Router::add(RouteEntry entry) {
  if (auto err = validate_pattern(entry.pattern)) return entry.pattern + ": " + *err;
  std::vector<std::string_view> segs;
  split_path(entry.pattern, segs);
  Node* node = root_.get();
  for (std::string_view s : segs) {
    std::unique_ptr<Node>* next;
    if (s == "*") {
      next = &node->wildcard;
    } else if (is_param(s)) {
      next = &node->param;
    } else {
      auto it = node->literals.find(s);
      if (it == node->literals.end()) {
        it = node->literals.emplace(std::string(s), nullptr).first;
      }
      next = &it->second;
    }
    if (!*next) *next = std::make_unique<Node>();
    node = next->get();
  }
  auto existing = node->methods.find(entry.method);
  if (existing != node->methods.end()) {
    const RouteEntry& other = entries_[existing->second];
    return "route " + entry.method + " " + entry.pattern + " of plugin '" + entry.plugin +
           "' conflicts with " + other.method + " " + other.pattern + " of plugin '" +
           other.plugin + "'";
  }
  entry.param_names.clear();
  for (std::string_view seg : segs) {
    if (is_param(seg)) entry.param_names.emplace_back(seg.substr(1));
    if (seg == "*") entry.param_names.emplace_back("*");
  }
  node->methods.emplace(entry.method, entries_.size());
  entries_.push_back(std::move(entry));
  return std::nullopt;
}

namespace {

struct Search {
  std::string_view method;
  const std::vector<std::string_view>& segs;
  std::string_view path;
  std::vector<std::string_view> values;  // one per :param / * along the current branch
  const void* first_path_match = nullptr;
};

}  // namespace

// Depth-first: literal, then :param, then *. Returns the method's entry index, if any.
template <typename NodeT>
static std::optional<size_t> find(const NodeT& node, size_t i, Search& s) {
  if (i == s.segs.size()) {
    if (!s.first_path_match && !node.methods.empty()) s.first_path_match = &node;
    auto it = node.methods.find(s.method);
    if (it == node.methods.end() && s.method == "HEAD") it = node.methods.find("GET");
    if (it != node.methods.end()) return it->second;
    // A wildcard also matches an empty remainder.
    if (node.wildcard) {
      s.values.push_back(std::string_view());
      if (auto r = find(*node.wildcard, i, s)) return r;
      s.values.pop_back();
    }
    return std::nullopt;
  }
  auto lit = node.literals.find(s.segs[i]);
  if (lit != node.literals.end()) {
    if (auto r = find(*lit->second, i + 1, s)) return r;
  }
  if (node.param) {
    s.values.push_back(s.segs[i]);
    if (auto r = find(*node.param, i + 1, s)) return r;
    s.values.pop_back();
  }
  if (node.wildcard) {
    // The rest of the path, from this segment to the end, as one view.
    const char* begin = s.segs[i].data();
    s.values.push_back(std::string_view(begin, s.path.data() + s.path.size() - begin));
    if (auto r = find(*node.wildcard, s.segs.size(), s)) return r;
    s.values.pop_back();
  }
  return std::nullopt;
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch result;
  std::vector<std::string_view> segs;
  segs.reserve(8);
  if (!split_path(path, segs)) return result;
  Search search{method, segs, path, {}, nullptr};
  if (auto index = find(*root_, 0, search)) {
    const RouteEntry& entry = entries_[*index];
    result.kind = RouteMatch::Kind::kFound;
    result.route = &entry;
    size_t n = std::min(entry.param_names.size(), search.values.size());
    for (size_t k = 0; k < n; ++k)
      result.params.emplace_back(entry.param_names[k], search.values[k]);
    return result;
  }
  if (search.first_path_match) {
    const auto* node = static_cast<const Node*>(search.first_path_match);
    result.kind = RouteMatch::Kind::kMethodNotAllowed;
    for (const auto& m : node->methods) result.allowed.push_back(m.first);
    if (node->methods.count("GET") && !node->methods.count("HEAD")) {
      result.allowed.push_back("HEAD");
      std::sort(result.allowed.begin(), result.allowed.end());
    }
  }
  return result;
}

}  // namespace plughost
