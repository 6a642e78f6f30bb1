// config.cpp — plughost.yaml -> Config, and each plugin's `config:` block -> its JSON Schema.
// Problems become Diagnostics and are all collected in one pass, so `plughost check` shows an
// operator the whole list at once instead of one error per run.
#include "config/config.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

namespace plughost {
namespace {

namespace fs = std::filesystem;
using JsonValue = rapidjson::Value;
using JsonAllocator = rapidjson::Document::AllocatorType;

// ---- reporting ---------------------------------------------------------------------------------

// yaml-cpp marks are 0-based and -1 when unknown; diagnostics are 1-based and 0 when unknown.
Mark to_mark(const YAML::Mark& m) {
  return {m.line < 0 ? 0 : m.line + 1, m.column < 0 ? 0 : m.column + 1};
}

// yaml-cpp places an empty value at the next token, often on a later line, so problems with null
// values are shown at their key.
Mark value_mark(const YAML::Node& key, const YAML::Node& value) {
  return to_mark(value.IsNull() ? key.Mark() : value.Mark());
}

// One value to read from the document: the node, its dotted path and where to point at it.
struct Field {
  YAML::Node node;
  std::string path;
  Mark mark;
};

struct Walk {
  const std::string& file;
  const EnvLookup& env;
  std::vector<Diagnostic>& diagnostics;

  void report(Mark mark, const std::string& path, const std::string& message) {
    diagnostics.push_back({file, mark.line, mark.column, path, message});
  }
};

// Checks run in an order of their own (the missing version is known only at the end); operators
// read the file top to bottom.
void sort_by_position(std::vector<Diagnostic>& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
}

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string did_you_mean(const std::string& key, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_distance = 3;  // suggest only near misses: typos, not different words
  for (const auto& candidate : candidates) {
    size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = &candidate;
    }
  }
  return best ? " (did you mean \"" + *best + "\"?)" : "";
}

// ---- typed scalars -----------------------------------------------------------------------------

// The YAML 1.2 core-schema type of a scalar, decided after interpolation.
enum class ScalarKind { kNull, kBool, kInt, kFloat, kString };

struct Scalar {
  std::string text;
  ScalarKind kind;
};

// Quoted and block scalars and explicit !!str stay strings whatever they contain. yaml-cpp tags
// plain scalars "?" and quoted or block ones "!".
bool is_string_tagged(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Advances `i` over digits; returns how many there were.
size_t skip_digits(const std::string& s, size_t& i) {
  size_t start = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  return i - start;
}

// YAML 1.2 core schema: [-+]?[0-9]+
bool is_yaml_int(const std::string& s) {
  size_t i = s[0] == '+' || s[0] == '-' ? 1 : 0;
  return skip_digits(s, i) > 0 && i == s.size();
}

// YAML 1.2 core schema: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, [-+]?.inf, .nan
// (in the three spellings the core schema allows).
bool is_yaml_float(const std::string& s) {
  size_t i = s[0] == '+' || s[0] == '-' ? 1 : 0;
  std::string rest = s.substr(i);
  if (rest == ".inf" || rest == ".Inf" || rest == ".INF") return true;
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  size_t digits = skip_digits(s, i);
  if (i < s.size() && s[i] == '.') {
    ++i;
    digits += skip_digits(s, i);
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (skip_digits(s, i) == 0) return false;
  }
  return i == s.size();
}

ScalarKind plain_kind(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return ScalarKind::kNull;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    return ScalarKind::kBool;
  }
  if (is_yaml_int(s)) return ScalarKind::kInt;
  if (is_yaml_float(s)) return ScalarKind::kFloat;
  return ScalarKind::kString;
}

bool is_true(const std::string& bool_text) {
  return bool_text[0] == 't' || bool_text[0] == 'T';
}

// nullopt when the text (already known to be an integer) does not fit in int64.
std::optional<int64_t> to_int64(const std::string& text) {
  const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// `text` is an integer or float in YAML's syntax (which from_chars does not fully accept).
double to_double(const std::string& text) {
  std::string unsigned_text = text[0] == '+' || text[0] == '-' ? text.substr(1) : text;
  double sign = text[0] == '-' ? -1 : 1;
  if (unsigned_text.size() == 4 && unsigned_text[0] == '.') {
    bool is_nan = unsigned_text[1] == 'n' || unsigned_text[1] == 'N';
    return is_nan ? std::numeric_limits<double>::quiet_NaN()
                  : sign * std::numeric_limits<double>::infinity();
  }
  double value = 0;
  std::from_chars(unsigned_text.data(), unsigned_text.data() + unsigned_text.size(), value);
  return sign * value;
}

std::string describe(const Scalar& s) {
  return s.kind == ScalarKind::kNull ? "null" : "\"" + s.text + "\"";
}

std::string describe_node(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "null";
  return "\"" + node.Scalar() + "\"";
}

// The scalar after interpolation, typed; nullopt (reported) for mappings, lists and failed
// interpolations. yaml-cpp has already turned plain null and ~ into null nodes.
std::optional<Scalar> read_scalar(Walk& walk, const Field& f) {
  if (f.node.IsNull()) return Scalar{"", ScalarKind::kNull};
  if (!f.node.IsScalar()) {
    walk.report(f.mark, f.path, "expected a single value, got " + describe_node(f.node));
    return std::nullopt;
  }
  std::string error;
  std::optional<std::string> text = interpolate(f.node.Scalar(), walk.env, error);
  if (!text) {
    walk.report(f.mark, f.path, error);
    return std::nullopt;
  }
  ScalarKind kind = is_string_tagged(f.node) ? ScalarKind::kString : plain_kind(*text);
  return Scalar{*text, kind};
}

std::optional<bool> read_bool(Walk& walk, const Field& f) {
  std::optional<Scalar> s = read_scalar(walk, f);
  if (!s) return std::nullopt;
  if (s->kind == ScalarKind::kBool) return is_true(s->text);
  walk.report(f.mark, f.path, "expected a boolean (true or false), got " + describe(*s));
  return std::nullopt;
}

std::optional<int64_t> read_int(Walk& walk, const Field& f, int64_t min, int64_t max) {
  std::optional<Scalar> s = read_scalar(walk, f);
  if (!s) return std::nullopt;
  if (s->kind != ScalarKind::kInt) {
    walk.report(f.mark, f.path, "expected an integer, got " + describe(*s));
    return std::nullopt;
  }
  std::optional<int64_t> value = to_int64(s->text);
  if (!value || *value < min || *value > max) {
    // Keys without an upper bound read better as a lower bound alone.
    bool unbounded = max == std::numeric_limits<int64_t>::max();
    walk.report(
        f.mark, f.path,
        "value " + s->text +
            (unbounded ? " must be >= " + std::to_string(min)
                       : " is out of range " + std::to_string(min) + "-" + std::to_string(max)));
    return std::nullopt;
  }
  return value;
}

std::optional<double> read_number(Walk& walk, const Field& f, double min, bool min_exclusive) {
  std::optional<Scalar> s = read_scalar(walk, f);
  if (!s) return std::nullopt;
  if (s->kind != ScalarKind::kInt && s->kind != ScalarKind::kFloat) {
    walk.report(f.mark, f.path, "expected a number, got " + describe(*s));
    return std::nullopt;
  }
  double value = to_double(s->text);
  std::ostringstream bound;
  bound << min;
  if (!std::isfinite(value)) {
    walk.report(f.mark, f.path, "expected a finite number, got " + describe(*s));
  } else if (value < min || (min_exclusive && value == min)) {
    walk.report(f.mark, f.path,
                "value " + s->text + " must be " + (min_exclusive ? "> " : ">= ") + bound.str());
  } else {
    return value;
  }
  return std::nullopt;
}

// Any non-null scalar is accepted as a string: `node: 7` means the text "7".
std::optional<std::string> read_string(Walk& walk, const Field& f) {
  std::optional<Scalar> s = read_scalar(walk, f);
  if (!s) return std::nullopt;
  if (s->kind == ScalarKind::kNull) {
    walk.report(f.mark, f.path, "expected a string, got null");
    return std::nullopt;
  }
  return s->text;
}

std::optional<std::string> read_choice(Walk& walk, const Field& f,
                                       const std::vector<std::string>& choices) {
  std::optional<std::string> text = read_string(walk, f);
  if (!text) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *text) != choices.end()) return text;
  std::string list;
  for (const auto& choice : choices) list += (list.empty() ? "" : ", ") + choice;
  walk.report(f.mark, f.path, "expected one of " + list + ", got \"" + *text + "\"");
  return std::nullopt;
}

// Calls `visit(value_field, key, key_mark)` for each entry of the mapping in `f`, in file order.
// A null node is an empty mapping. Reports non-mappings, non-string and duplicate keys, and keys
// outside `allowed` (any key is allowed when it is empty); those entries are skipped.
template <typename Visit>
void each_entry(Walk& walk, const Field& f, const std::vector<std::string>& allowed,
                Visit&& visit) {
  if (f.node.IsNull()) return;
  if (!f.node.IsMap()) {
    walk.report(f.mark, f.path, "expected a mapping");
    return;
  }
  std::set<std::string> seen;
  for (const auto& entry : f.node) {
    Mark key_mark = to_mark(entry.first.Mark());
    if (!entry.first.IsScalar()) {
      walk.report(key_mark, f.path, "mapping keys must be plain strings");
      continue;
    }
    const std::string& key = entry.first.Scalar();
    std::string path = join_path(f.path, key);
    if (!seen.insert(key).second) {
      walk.report(key_mark, path, "duplicate key \"" + key + "\"");
    } else if (!allowed.empty() &&
               std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      walk.report(key_mark, path, "unknown key \"" + key + "\"" + did_you_mean(key, allowed));
    } else {
      visit(Field{entry.second, path, value_mark(entry.first, entry.second)}, key, key_mark);
    }
  }
}

// ---- defaults ----------------------------------------------------------------------------------

}  // namespace

std::map<std::string, std::vector<std::string>> AuthConfig::default_roles() {
  // Dango's roles (plus the inspector's, automate's, DataChat's and rag's); the viewer reads what
  // the editor reads, except config. DataChat is read-only by construction, so any user may ask.
  std::vector<std::string> viewer = {"source.view",    "dbt.view",        "dashboard.view",
                                     "health.view",    "logs.view",       "notebooks.view",
                                     "scheduler.view", "governance.view", "inspector.view",
                                     "workflows.read", "events.read",     "datachat.ask",
                                     "datachat.read",  "rag.query"};
  std::vector<std::string> editor = {
      "source.view",      "source.sync",      "source.manage",   "csv.upload",
      "csv.delete",       "dbt.view",         "dbt.run",         "dbt.manage",
      "dashboard.view",   "dashboard.create", "query.execute",   "health.view",
      "logs.view",        "config.view",      "notebooks.view",  "notebooks.execute",
      "notebooks.manage", "scheduler.view",   "governance.view", "inspector.view",
      "inspector.run",    "workflows.read",   "workflows.write", "events.read",
      "events.write",     "datachat.ask",     "datachat.read",    "rag.query",
      "rag.manage"};
  return {{"admin", {"*"}}, {"editor", editor}, {"viewer", viewer}};
}

std::map<std::string, RateClass> RateLimitConfig::default_classes() {
  return {{"standard", {120, 60}},
          {"datachat", {30, 60}},
          {"rag", {60, 60}},
          {"embed", {60, 60}},
          {"login", {10, 60}}};
}

namespace {

// ---- host-level sections -----------------------------------------------------------------------

// A decimal number of 1 to `max_digits` digits that is at most `max`.
bool is_bounded_number(const std::string& s, size_t max_digits, int max) {
  size_t i = 0;
  size_t digits = skip_digits(s, i);
  return digits > 0 && digits <= max_digits && i == s.size() && std::stoi(s) <= max;
}

bool is_ipv4_literal(const std::string& host) {
  std::istringstream parts(host);
  std::string octet;
  int count = 0;
  while (std::getline(parts, octet, '.')) {
    if (++count > 4 || !is_bounded_number(octet, 3, 255)) return false;
  }
  return count == 4 && host.back() != '.';
}

// "host:port" where host is an IPv4 literal or localhost. The HTTP server binds IPv4 only, so
// localhost is pinned to 127.0.0.1 rather than left to a resolver that may prefer ::1.
bool parse_listen(const std::string& listen, ServerConfig& server, std::string& error) {
  if (!listen.empty() && listen[0] == '[') {
    error = "IPv6 listen addresses are not supported yet; use an IPv4 address or localhost";
    return false;
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    error = "expected host:port, got \"" + listen + "\"";
    return false;
  }
  std::string host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (host != "localhost" && !is_ipv4_literal(host)) {
    error = "host \"" + host + "\" is not an IPv4 address or localhost";
    return false;
  }
  if (!is_bounded_number(port, 5, 65535)) {
    error = "port \"" + port + "\" is not in 0-65535";
    return false;
  }
  server.host = host == "localhost" ? "127.0.0.1" : host;
  server.port = static_cast<uint16_t>(std::stoi(port));
  return true;
}

std::optional<std::vector<std::string>> read_string_list(Walk& walk, const Field& f);

void load_server(Walk& walk, const Field& f, ServerConfig& server) {
  const std::vector<std::string> keys = {"listen",
                                         "threads",
                                         "max_body_bytes",
                                         "drain_seconds",
                                         "shutdown_timeout_seconds",
                                         "trusted_proxies",
                                         "request_timeout_seconds",
                                         "header_timeout_seconds",
                                         "body_timeout_seconds",
                                         "max_connections",
                                         "max_upload_bytes",
                                         "spool_threshold_bytes",
                                         "spool_dir"};
  each_entry(walk, f, keys, [&](const Field& v, const std::string& key, Mark) {
    if (key == "listen") {
      std::string error;
      std::optional<std::string> listen = read_string(walk, v);
      if (listen && !parse_listen(*listen, server, error)) walk.report(v.mark, v.path, error);
    } else if (key == "threads") {
      if (auto n = read_int(walk, v, 1, 256)) server.threads = static_cast<int>(*n);
    } else if (key == "max_body_bytes") {
      auto n = read_int(walk, v, 1, std::numeric_limits<int64_t>::max());
      if (n) server.max_body_bytes = static_cast<uint64_t>(*n);
    } else if (key == "drain_seconds") {
      if (auto d = read_number(walk, v, 0, false)) server.drain_seconds = *d;
    } else if (key == "shutdown_timeout_seconds") {
      if (auto d = read_number(walk, v, 0, true)) server.shutdown_timeout_seconds = *d;
    } else if (key == "trusted_proxies") {
      if (auto list = read_string_list(walk, v)) server.trusted_proxies = *list;
    } else if (key == "request_timeout_seconds") {
      if (auto d = read_number(walk, v, 0, false)) server.request_timeout_seconds = *d;
    } else if (key == "header_timeout_seconds") {
      if (auto d = read_number(walk, v, 0, true)) server.header_timeout_seconds = *d;
    } else if (key == "body_timeout_seconds") {
      if (auto d = read_number(walk, v, 0, true)) server.body_timeout_seconds = *d;
    } else if (key == "max_connections") {
      if (auto n = read_int(walk, v, 1, 1000000)) server.max_connections = *n;
    } else if (key == "max_upload_bytes") {
      auto n = read_int(walk, v, 1, std::numeric_limits<int64_t>::max());
      if (n) server.max_upload_bytes = static_cast<uint64_t>(*n);
    } else if (key == "spool_threshold_bytes") {
      auto n = read_int(walk, v, 0, std::numeric_limits<int64_t>::max());
      if (n) server.spool_threshold_bytes = static_cast<uint64_t>(*n);
    } else if (key == "spool_dir") {
      if (auto dir = read_string(walk, v)) {
        if (!dir->empty() && dir->front() == '/') {
          server.spool_dir = *dir;
        } else {
          walk.report(v.mark, v.path, "expected an absolute directory path");
        }
      }
    }
  });
}

void load_log(Walk& walk, const Field& f, LogConfig& log) {
  const std::vector<std::string> levels = {"debug", "info", "warn", "error"};
  const std::vector<std::string> formats = {"auto", "json", "text"};
  each_entry(walk, f, {"level", "format", "access"},
             [&](const Field& v, const std::string& key, Mark) {
               if (key == "level") {
                 if (auto s = read_choice(walk, v, levels)) log.level = *s;
               } else if (key == "format") {
                 if (auto s = read_choice(walk, v, formats)) log.format = *s;
               } else if (key == "access") {
                 if (auto b = read_bool(walk, v)) log.access = *b;
               }
             });
}

void load_storage(Walk& walk, const Field& f, Config& config) {
  each_entry(walk, f, {"url", "pool_size"}, [&](const Field& v, const std::string& key, Mark) {
    if (key == "pool_size") {
      if (auto n = read_int(walk, v, 1, 256)) config.storage_pool_size = static_cast<int>(*n);
      return;
    }
    std::optional<std::string> url = read_string(walk, v);
    if (!url) return;
    bool known = (url->rfind("sqlite://", 0) == 0 && url->size() > 9) ||
                 (url->rfind("postgresql://", 0) == 0 && url->size() > 13);
    if (known) {
      config.storage_url = *url;
    } else {
      walk.report(v.mark, v.path,
                  "expected a sqlite:// or postgresql:// URL, got \"" + *url + "\"");
    }
  });
}

void load_tasks(Walk& walk, const Field& f, TasksConfig& tasks) {
  const std::vector<std::string> keys = {"workers",
                                         "lease_seconds",
                                         "poll_interval_seconds",
                                         "default_timeout_seconds",
                                         "max_attempts",
                                         "log_lines",
                                         "node"};
  each_entry(walk, f, keys, [&](const Field& v, const std::string& key, Mark) {
    if (key == "workers") {
      if (auto n = read_int(walk, v, 0, 256)) tasks.workers = static_cast<int>(*n);
    } else if (key == "lease_seconds") {
      if (auto d = read_number(walk, v, 0, true)) tasks.lease_seconds = *d;
    } else if (key == "poll_interval_seconds") {
      if (auto d = read_number(walk, v, 0, true)) tasks.poll_interval_seconds = *d;
    } else if (key == "default_timeout_seconds") {
      if (auto d = read_number(walk, v, 0, true)) tasks.default_timeout_seconds = *d;
    } else if (key == "max_attempts") {
      if (auto n = read_int(walk, v, 1, 100)) tasks.max_attempts = static_cast<int>(*n);
    } else if (key == "log_lines") {
      if (auto n = read_int(walk, v, 1, 100000)) tasks.log_lines = static_cast<int>(*n);
    } else if (key == "node") {
      if (auto s = read_string(walk, v)) tasks.node = *s;
    }
  });
}

std::optional<std::vector<std::string>> read_string_list(Walk& walk, const Field& f) {
  if (!f.node.IsSequence()) {
    walk.report(f.mark, f.path, "expected a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  size_t index = 0;
  for (const auto& item : f.node) {
    Field element{item, f.path + "." + std::to_string(index++), to_mark(item.Mark())};
    if (auto s = read_string(walk, element)) out.push_back(*s);
  }
  return out;
}

void load_roles(Walk& walk, const Field& f, AuthConfig& auth) {
  if (!f.node.IsMap()) {
    walk.report(f.mark, f.path, "expected a mapping of role name to a list of permissions");
    return;
  }
  auth.roles.clear();
  each_entry(walk, f, {}, [&](const Field& v, const std::string& role, Mark) {
    if (auto perms = read_string_list(walk, v)) auth.roles[role] = *perms;
  });
}

void load_auth(Walk& walk, const Field& f, AuthConfig& auth) {
  const std::vector<std::string> keys = {
      "enabled",     "order",       "authenticators",      "roles",
      "csrf_cookie", "csrf_header", "csrf_trusted_headers"};
  const std::vector<std::string> schemes = {"session", "bearer", "api_key"};
  each_entry(walk, f, keys, [&](const Field& v, const std::string& key, Mark) {
    if (key == "enabled") {
      if (auto b = read_bool(walk, v)) auth.enabled = *b;
    } else if (key == "order") {
      auto list = read_string_list(walk, v);
      if (!list) return;
      for (const auto& s : *list) {
        if (std::find(schemes.begin(), schemes.end(), s) == schemes.end()) {
          walk.report(v.mark, v.path,
                      "unknown credential \"" + s + "\" (expected session, bearer or api_key)" +
                          did_you_mean(s, schemes));
          return;
        }
      }
      auth.order = *list;
    } else if (key == "authenticators") {
      if (auto list = read_string_list(walk, v)) auth.authenticators = *list;
    } else if (key == "roles") {
      load_roles(walk, v, auth);
    } else if (key == "csrf_trusted_headers") {
      if (auto list = read_string_list(walk, v)) auth.csrf_trusted_headers = *list;
    } else if (auto s = read_string(walk, v)) {
      (key == "csrf_cookie" ? auth.csrf_cookie : auth.csrf_header) = *s;
    }
  });
}

void load_rate_class(Walk& walk, const Field& f, RateClass& rc) {
  each_entry(walk, f, {"limit", "window_seconds"},
             [&](const Field& v, const std::string& key, Mark) {
               if (key == "limit") {
                 if (auto n = read_int(walk, v, 1, std::numeric_limits<int32_t>::max()))
                   rc.limit = *n;
               } else if (auto d = read_number(walk, v, 0, true)) {
                 rc.window_seconds = *d;
               }
             });
}

void load_rate_limits(Walk& walk, const Field& f, RateLimitConfig& limits) {
  const std::vector<std::string> keys = {"enabled", "exempt_loopback", "default_class", "classes"};
  each_entry(walk, f, keys, [&](const Field& v, const std::string& key, Mark) {
    if (key == "enabled") {
      if (auto b = read_bool(walk, v)) limits.enabled = *b;
    } else if (key == "exempt_loopback") {
      if (auto b = read_bool(walk, v)) limits.exempt_loopback = *b;
    } else if (key == "default_class") {
      if (auto s = read_string(walk, v)) limits.default_class = *s;
    } else if (key == "classes") {
      if (!v.node.IsMap()) {
        walk.report(v.mark, v.path, "expected a mapping of class name to {limit, window_seconds}");
        return;
      }
      // Configured classes replace the defaults of the same name; the others stay.
      each_entry(walk, v, {}, [&](const Field& c, const std::string& name, Mark) {
        RateClass rc = limits.classes.count(name) ? limits.classes[name] : RateClass{};
        load_rate_class(walk, c, rc);
        limits.classes[name] = rc;
      });
    }
  });
  if (limits.default_class != "none" && !limits.classes.count(limits.default_class)) {
    walk.report(f.mark, f.path + ".default_class",
                "default_class \"" + limits.default_class + "\" is not a configured class");
  }
}

void load_version(Walk& walk, const Field& f, Config& config) {
  auto version =
      read_int(walk, f, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  if (!version) return;
  if (*version != 1) {
    walk.report(f.mark, f.path,
                "unsupported config version " + std::to_string(*version) + " (this host reads 1)");
    return;
  }
  config.version = 1;
}

void load_plugins_dir(Walk& walk, const Field& f, Config& config) {
  std::optional<std::string> dir = read_string(walk, f);
  if (!dir) return;
  if (dir->empty()) {
    walk.report(f.mark, f.path, "expected a directory, got \"\"");
    return;
  }
  fs::path path(*dir);
  if (path.is_relative()) path = fs::path(config.directory) / path;
  config.plugins_dir = path.lexically_normal().string();
}

// ---- plugin sections ---------------------------------------------------------------------------

std::string escape_pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string json_text(const JsonValue& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

JsonValue yaml_to_json(Walk& walk, const Field& f, const std::string& pointer, PluginConfig& plugin,
                       JsonAllocator& alloc);

JsonValue scalar_to_json(Walk& walk, const Field& f, JsonAllocator& alloc) {
  std::optional<Scalar> s = read_scalar(walk, f);
  if (!s) return JsonValue();
  switch (s->kind) {
    case ScalarKind::kNull: return JsonValue();
    case ScalarKind::kBool: return JsonValue(is_true(s->text));
    case ScalarKind::kInt:
      if (std::optional<int64_t> i = to_int64(s->text)) return JsonValue(*i);
      [[fallthrough]];  // too long for int64: keep it as a (rounded) number
    case ScalarKind::kFloat: {
      double d = to_double(s->text);
      if (std::isfinite(d)) return JsonValue(d);
      walk.report(f.mark, f.path, "infinite or NaN numbers cannot be passed to a plugin");
      return JsonValue();
    }
    case ScalarKind::kString: break;
  }
  return JsonValue(s->text.c_str(), static_cast<rapidjson::SizeType>(s->text.size()), alloc);
}

JsonValue map_to_json(Walk& walk, const Field& f, const std::string& pointer, PluginConfig& plugin,
                      JsonAllocator& alloc) {
  JsonValue object(rapidjson::kObjectType);
  each_entry(walk, f, {}, [&](const Field& v, const std::string& key, Mark key_mark) {
    std::string child = pointer + "/" + escape_pointer_token(key);
    plugin.key_marks[child] = key_mark;
    JsonValue value = yaml_to_json(walk, v, child, plugin, alloc);
    JsonValue name(key.c_str(), static_cast<rapidjson::SizeType>(key.size()), alloc);
    object.AddMember(name, value, alloc);
  });
  return object;
}

JsonValue list_to_json(Walk& walk, const Field& f, const std::string& pointer, PluginConfig& plugin,
                       JsonAllocator& alloc) {
  JsonValue array(rapidjson::kArrayType);
  size_t index = 0;
  for (const auto& item : f.node) {
    std::string i = std::to_string(index++);
    Field element{item, f.path + "." + i, to_mark(item.Mark())};
    JsonValue value = yaml_to_json(walk, element, pointer + "/" + i, plugin, alloc);
    array.PushBack(value, alloc);
  }
  return array;
}

// Converts a `config:` subtree, recording where each value sits by JSON pointer so that schema
// errors found later can point at the right line.
JsonValue yaml_to_json(Walk& walk, const Field& f, const std::string& pointer, PluginConfig& plugin,
                       JsonAllocator& alloc) {
  plugin.pointer_marks[pointer] = f.mark;
  if (f.node.IsMap()) return map_to_json(walk, f, pointer, plugin, alloc);
  if (f.node.IsSequence()) return list_to_json(walk, f, pointer, plugin, alloc);
  return scalar_to_json(walk, f, alloc);
}

void load_plugin_config(Walk& walk, const Field& f, PluginConfig& plugin) {
  if (f.node.IsNull()) return;
  if (!f.node.IsMap()) {
    walk.report(f.mark, f.path, "expected a mapping");
    return;
  }
  rapidjson::Document document;
  JsonValue config = yaml_to_json(walk, f, "", plugin, document.GetAllocator());
  plugin.config_json = json_text(config);
}

PluginConfig load_plugin(Walk& walk, const Field& f, const std::string& name, Mark key_mark) {
  PluginConfig plugin;
  plugin.name = name;
  plugin.mark = key_mark;
  plugin.config_json = "{}";
  plugin.pointer_marks[""] = key_mark;  // replaced by the block's own mark when there is one
  each_entry(walk, f, {"enabled", "required", "allowed_origins", "log_level", "config"},
             [&](const Field& v, const std::string& key, Mark) {
               if (key == "log_level") {
                 if (auto s = read_choice(walk, v, {"debug", "info", "warn", "error"})) {
                   plugin.log_level = *s;
                 }
               } else if (key == "enabled") {
                 if (auto b = read_bool(walk, v)) plugin.enabled = *b;
               } else if (key == "required") {
                 if (auto b = read_bool(walk, v)) plugin.required = *b;
               } else if (key == "allowed_origins") {
                 plugin.allowed_origins = read_string_list(walk, v);
               } else {
                 load_plugin_config(walk, v, plugin);
               }
             });
  return plugin;
}

// Plugins keep file order: it is their init order. A badly named plugin is checked but not kept,
// so no "library not found" error follows the naming one.
void load_plugins(Walk& walk, const Field& f, Config& config) {
  each_entry(walk, f, {}, [&](const Field& v, const std::string& name, Mark key_mark) {
    bool valid_name = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-';
    });
    if (!valid_name) {
      walk.report(key_mark, v.path, "plugin name must match [a-z0-9_-]+");
    }
    PluginConfig plugin = load_plugin(walk, v, name, key_mark);
    if (valid_name) config.plugins.push_back(std::move(plugin));
  });
}

// One `schedules:` entry. Cron and time zone syntax are checked where they are understood: by
// the scheduler, which `plughost check` runs over these.
void load_schedule(Walk& walk, const Field& f, ScheduleConfig& schedule) {
  const std::vector<std::string> keys = {"name", "cron", "timezone", "task", "payload"};
  each_entry(walk, f, keys, [&](const Field& v, const std::string& key, Mark) {
    if (key == "payload") {
      PluginConfig positions;  // payload positions are not kept
      rapidjson::Document document;
      if (!v.node.IsNull()) {
        schedule.payload_json =
            json_text(yaml_to_json(walk, v, "", positions, document.GetAllocator()));
      }
      return;
    }
    std::optional<std::string> text = read_string(walk, v);
    if (!text) return;
    std::string* field = key == "name"       ? &schedule.name
                         : key == "cron"     ? &schedule.cron
                         : key == "timezone" ? &schedule.timezone
                                             : &schedule.task;
    *field = *text;
  });
  if (!f.node.IsMap()) return;
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string*>{"name", &schedule.name},
        {"cron", &schedule.cron},
        {"task", &schedule.task}}) {
    if (value->empty()) walk.report(f.mark, f.path, "missing key \"" + std::string(key) + "\"");
  }
}

void load_schedules(Walk& walk, const Field& f, std::vector<ScheduleConfig>& schedules) {
  if (f.node.IsNull()) return;
  if (!f.node.IsSequence()) {
    walk.report(f.mark, f.path, "expected a list of schedules");
    return;
  }
  size_t index = 0;
  for (const auto& item : f.node) {
    ScheduleConfig schedule;
    schedule.mark = to_mark(item.Mark());
    load_schedule(walk, Field{item, f.path + "." + std::to_string(index++), schedule.mark},
                  schedule);
    schedules.push_back(std::move(schedule));
  }
}

void load_root(Walk& walk, const YAML::Node& root, Config& config) {
  Field document{root, "", to_mark(root.Mark())};
  if (!root.IsMap()) {
    walk.report(document.mark, "", "expected a mapping at the top of the file");
    return;
  }
  const std::vector<std::string> keys = {"version",     "server", "log",         "storage",
                                         "tasks",       "auth",   "rate_limits", "schedules",
                                         "plugins_dir", "plugins"};
  bool has_version = false;
  each_entry(walk, document, keys, [&](const Field& v, const std::string& key, Mark) {
    if (key == "version") {
      has_version = true;
      load_version(walk, v, config);
    } else if (key == "server") {
      load_server(walk, v, config.server);
    } else if (key == "log") {
      load_log(walk, v, config.log);
    } else if (key == "storage") {
      load_storage(walk, v, config);
    } else if (key == "tasks") {
      load_tasks(walk, v, config.tasks);
    } else if (key == "auth") {
      load_auth(walk, v, config.auth);
    } else if (key == "rate_limits") {
      load_rate_limits(walk, v, config.rate_limits);
    } else if (key == "schedules") {
      load_schedules(walk, v, config.schedules);
    } else if (key == "plugins_dir") {
      load_plugins_dir(walk, v, config);
    } else if (key == "plugins") {
      load_plugins(walk, v, config);
    }
  });
  if (!has_version) {
    walk.report(document.mark, "version", "missing key \"version\" (use version: 1)");
  }
}

std::string directory_of(const std::string& file) {
  std::error_code ec;
  fs::path absolute = fs::absolute(fs::path(file), ec);
  if (ec) absolute = fs::path(file);
  return absolute.parent_path().lexically_normal().string();
}

// The 1-based line of a "---" that starts a second document, 0 when there is none. Load() reads
// only the first document, and LoadAll() can loop forever on some malformed input, so this is a
// scan of the text: at column 0, "---" cannot be inside a scalar.
int second_document_line(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  bool content_seen = false;
  for (int number = 1; std::getline(lines, line); ++number) {
    bool marker = line.rfind("---", 0) == 0 &&
                  (line.size() == 3 || std::isspace(static_cast<unsigned char>(line[3])));
    if (marker && content_seen) return number;
    size_t first = line.find_first_not_of(" \t\r");
    bool blank = first == std::string::npos || line[first] == '#';
    if (!marker && !blank && line[0] != '%') content_seen = true;
  }
  return 0;
}

// ---- interpolation -----------------------------------------------------------------------------

// Index of the "}" closing a "${" whose body starts at `from`, skipping nested references (a
// default may itself use a variable); npos when there is none.
size_t closing_brace(const std::string& s, size_t from) {
  int depth = 1;
  for (size_t i = from; i < s.size(); ++i) {
    if (s.compare(i, 3, "$${") == 0) {
      i += 2;
    } else if (s.compare(i, 2, "${") == 0) {
      ++depth;
      ++i;
    } else if (s[i] == '}' && --depth == 0) {
      return i;
    }
  }
  return std::string::npos;
}

bool is_variable_name(const std::string& name) {
  if (name.empty() || is_digit(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
  });
}

// Expands the body of one "${…}": NAME, NAME:-default or NAME:?message. As in the shell, the
// default and the message apply when the variable is unset or empty; both may use variables.
std::optional<std::string> expand_reference(const std::string& body, const EnvLookup& env,
                                            std::string& error) {
  size_t op_at = std::min(body.find(":-"), body.find(":?"));
  std::string name = body.substr(0, op_at);
  std::string op = op_at == std::string::npos ? "" : body.substr(op_at, 2);
  if (!is_variable_name(name)) {
    error = "invalid variable name \"" + name + "\" in \"${" + body + "}\"";
    return std::nullopt;
  }
  std::optional<std::string> value = env(name);
  bool unset_or_empty = !value || value->empty();
  if (op == ":-" && unset_or_empty) return interpolate(body.substr(op_at + 2), env, error);
  if (op == ":?" && unset_or_empty) {
    std::optional<std::string> message = interpolate(body.substr(op_at + 2), env, error);
    if (message) {
      error = "environment variable " + name + (value ? " is empty" : " is not set") +
              (message->empty() ? "" : ": " + *message);
    }
    return std::nullopt;
  }
  if (!value) {
    error = "environment variable " + name + " is not set";
    return std::nullopt;
  }
  return value;
}

// ---- plugin config against its JSON Schema -----------------------------------------------------

std::string unescape_pointer_token(const std::string& token) {
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[++i] == '0' ? '~' : '/';
    } else {
      out += token[i];
    }
  }
  return out;
}

// "/sources/0/name" -> "plugins.<name>.config.sources.0.name"
std::string config_path(const PluginConfig& plugin, const std::string& pointer) {
  std::string path = "plugins." + plugin.name + ".config";
  size_t start = 0;
  while (start < pointer.size()) {
    size_t end = pointer.find('/', start + 1);
    if (end == std::string::npos) end = pointer.size();
    path += "." + unescape_pointer_token(pointer.substr(start + 1, end - start - 1));
    start = end;
  }
  return path;
}

std::string pointer_text(const rapidjson::Pointer& pointer) {
  rapidjson::StringBuffer buffer;
  pointer.Stringify(buffer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

const JsonValue* member(const JsonValue& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// The object a local "$ref" of `schema` points at, or nullptr when it has none. Remote refs are
// ignored, and RapidJSON reads an object whose ref is not a valid pointer as a plain schema.
// `broken` is set when the target is missing or not an object.
const JsonValue* local_ref_target(const JsonValue& schema, const JsonValue& root, bool& broken) {
  const JsonValue* ref = member(schema, "$ref");
  broken = false;
  if (!ref || !ref->IsString() || ref->GetString()[0] != '#') return nullptr;
  rapidjson::Pointer pointer(ref->GetString(), ref->GetStringLength());
  if (!pointer.IsValid()) return nullptr;
  const JsonValue* target = pointer.Get(root);
  broken = !target || !target->IsObject();
  return broken ? nullptr : target;
}

// Follows local "$ref"s, a few hops at most so that a loop cannot hang the check.
const JsonValue& resolve_refs(const JsonValue& schema, const JsonValue& root) {
  const JsonValue* current = &schema;
  bool broken = false;
  for (int hop = 0; hop < 8; ++hop) {
    const JsonValue* target = local_ref_target(*current, root, broken);
    if (!target) break;
    current = target;
  }
  return *current;
}

struct SchemaCheck {
  const Config& config;
  const PluginConfig& plugin;
  const JsonValue& schema;  // the root, for "$ref"s
  std::vector<Diagnostic>& diagnostics;
  std::set<std::string> reported = {};    // pointers that already have a diagnostic
  std::vector<std::string> unknown = {};  // pointers of keys the schema does not allow

  // Values that came from defaults have no mark: use the nearest enclosing one that has.
  Mark value_mark(std::string pointer) const {
    while (true) {
      auto it = plugin.pointer_marks.find(pointer);
      if (it != plugin.pointer_marks.end()) return it->second;
      if (pointer.empty()) return plugin.mark;
      pointer.erase(pointer.rfind('/'));
    }
  }
  void report(const std::string& pointer, Mark mark, const std::string& message) {
    reported.insert(pointer);
    diagnostics.push_back(
        {config.file, mark.line, mark.column, config_path(plugin, pointer), message});
  }
  void report_value(const std::string& pointer, const std::string& message) {
    report(pointer, value_mark(pointer), message);
  }
  void report_key(const std::string& pointer, const std::string& message) {
    auto it = plugin.key_marks.find(pointer);
    report(pointer, it != plugin.key_marks.end() ? it->second : value_mark(pointer), message);
  }
  // A problem of the schema itself: the plugin author's to fix, so it is shown at the plugin.
  void report_schema(const std::string& problem) {
    diagnostics.push_back(
        {config.file, plugin.mark.line, plugin.mark.column, "plugins." + plugin.name,
         "the plugin's config schema " + problem + "; report this to the plugin's author"});
  }
};

std::string json_type(const JsonValue& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "boolean";
  if (v.IsObject()) return "object";
  if (v.IsArray()) return "array";
  if (v.IsString()) return "string";
  return v.IsInt64() || v.IsUint64() ? "integer" : "number";
}

// Unknown type names (draft-03's "any", typos) match everything: the schema is the plugin
// author's to fix, not the operator's.
bool has_json_type(const JsonValue& v, const std::string& type) {
  if (type == "integer") return v.IsInt64() || v.IsUint64();
  if (type == "number") return v.IsNumber();
  if (type == "null" || type == "boolean" || type == "object" || type == "array" ||
      type == "string") {
    return json_type(v) == type;
  }
  return true;
}

std::vector<std::string> schema_types(const JsonValue& schema) {
  std::vector<std::string> types;
  const JsonValue* type = member(schema, "type");
  if (type && type->IsString()) types.push_back(type->GetString());
  if (type && type->IsArray()) {
    for (const auto& t : type->GetArray()) {
      if (t.IsString()) types.push_back(t.GetString());
    }
  }
  return types;
}

std::string type_mismatch(const std::vector<std::string>& types, const JsonValue& v) {
  std::string expected;
  for (const auto& t : types) expected += (expected.empty() ? "" : " or ") + t;
  return "expected " + expected + ", got " + json_type(v);
}

// Reports and returns false when `v` matches none of the schema's types.
bool check_type(SchemaCheck& check, const JsonValue& schema, const JsonValue& v,
                const std::string& pointer) {
  std::vector<std::string> types = schema_types(schema);
  if (types.empty()) return true;
  for (const auto& t : types) {
    if (has_json_type(v, t)) return true;
  }
  check.report_value(pointer, type_mismatch(types, v));
  return false;
}

// JSON Schema patterns are ECMA-262 regular expressions that match anywhere in the string. A
// pattern std::regex cannot read is the plugin author's bug and matches everything.
bool pattern_matches(const JsonValue& pattern, const std::string& text) {
  try {
    std::regex re(pattern.GetString(), pattern.GetStringLength(), std::regex::ECMAScript);
    return std::regex_search(text, re);
  } catch (const std::regex_error&) {
    return true;
  }
}

// "pattern" is checked here rather than by RapidJSON, whose own regex engine aborts on some
// malformed patterns.
void check_pattern(SchemaCheck& check, const JsonValue& schema, const JsonValue& v,
                   const std::string& pointer) {
  const JsonValue* pattern = member(schema, "pattern");
  if (!pattern || !pattern->IsString() || !v.IsString()) return;
  if (pattern_matches(*pattern, std::string(v.GetString(), v.GetStringLength()))) return;
  check.report_value(pointer,
                     "string " + json_text(v) + " does not match pattern " + json_text(*pattern));
}

std::vector<std::string> property_names(const JsonValue* properties) {
  std::vector<std::string> names;
  if (!properties || !properties->IsObject()) return names;
  for (const auto& p : properties->GetObject()) names.push_back(p.name.GetString());
  return names;
}

// The schema of the first "patternProperties" entry whose pattern matches `key`, or nullptr.
const JsonValue* pattern_property(const JsonValue& schema, const std::string& key) {
  const JsonValue* patterns = member(schema, "patternProperties");
  if (!patterns || !patterns->IsObject()) return nullptr;
  for (const auto& p : patterns->GetObject()) {
    if (pattern_matches(p.name, key)) return &p.value;
  }
  return nullptr;
}

void check_value(SchemaCheck& check, const JsonValue& schema, const JsonValue& v,
                 const std::string& pointer);

void check_members(SchemaCheck& check, const JsonValue& schema, const JsonValue& object,
                   const std::string& pointer) {
  const JsonValue* properties = member(schema, "properties");
  if (properties && !properties->IsObject()) properties = nullptr;
  const JsonValue* additional = member(schema, "additionalProperties");
  bool closed = additional && additional->IsBool() && !additional->GetBool();
  for (const auto& m : object.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    std::string child = pointer + "/" + escape_pointer_token(key);
    const JsonValue* declared = properties ? member(*properties, key.c_str()) : nullptr;
    if (!declared) declared = pattern_property(schema, key);
    if (declared) {
      check_value(check, *declared, m.value, child);
    } else if (closed) {
      check.report_key(
          child, "unknown key \"" + key + "\"" + did_you_mean(key, property_names(properties)));
      check.unknown.push_back(child);
    }
  }
  const JsonValue* required = member(schema, "required");
  if (!required || !required->IsArray()) return;
  for (const auto& r : required->GetArray()) {
    if (r.IsString() && !object.HasMember(r)) {
      check.report_value(pointer, "missing required key \"" + std::string(r.GetString()) + "\"");
    }
  }
}

// Unknown keys, missing required keys, types and patterns, for every value the schema describes
// through "properties", "patternProperties" and "items".
void check_value(SchemaCheck& check, const JsonValue& unresolved, const JsonValue& v,
                 const std::string& pointer) {
  const JsonValue& schema = resolve_refs(unresolved, check.schema);
  if (!schema.IsObject() || !check_type(check, schema, v, pointer)) return;
  check_pattern(check, schema, v, pointer);
  if (v.IsObject()) check_members(check, schema, v, pointer);
  const JsonValue* items = member(schema, "items");
  if (!v.IsArray() || !items || !items->IsObject()) return;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    check_value(check, *items, v[i], pointer + "/" + std::to_string(i));
  }
}

// Adds the "default" of each missing property, recursing into nested objects; an absent object
// is created when some of its properties have defaults, unless it is described through a "$ref"
// (which may be recursive: a tree node would grow forever). Returns whether anything was added.
bool apply_defaults(const JsonValue& unresolved, const JsonValue& root, JsonValue& object,
                    JsonAllocator& alloc) {
  const JsonValue& schema = resolve_refs(unresolved, root);
  const JsonValue* properties = member(schema, "properties");
  if (!properties || !properties->IsObject() || !object.IsObject()) return false;
  bool added = false;
  for (const auto& p : properties->GetObject()) {
    auto existing = object.FindMember(p.name);
    if (existing != object.MemberEnd()) {
      added = apply_defaults(p.value, root, existing->value, alloc) || added;
      continue;
    }
    const JsonValue* fallback = member(resolve_refs(p.value, root), "default");
    JsonValue value(rapidjson::kObjectType);
    if (fallback) value.CopyFrom(*fallback, alloc);
    bool filled = !member(p.value, "$ref") && apply_defaults(p.value, root, value, alloc);
    if (fallback || filled) {
      object.AddMember(JsonValue(p.name, alloc), value, alloc);
      added = true;
    }
  }
  return added;
}

// ---- what RapidJSON 1.1's validator is given ----
// It compiles every object of a schema document as a schema (enum values included) and, rather
// than rejecting some malformed shapes, dereferences unset pointers, trips assertions or recurses
// without end. So it gets a copy without the keywords check_value covers that its regex engine
// would compile, and a copy that still has a dangerous shape is not given to it at all.

// Removes "pattern" and "patternProperties" (and a boolean "additionalProperties" beside the
// latter, which RapidJSON 1.1 also mishandles) wherever they are keywords.
void drop_regex_keywords(JsonValue& schema) {
  if (schema.IsArray()) {
    for (auto& element : schema.GetArray()) drop_regex_keywords(element);
  }
  if (!schema.IsObject()) return;
  schema.RemoveMember("pattern");
  if (schema.RemoveMember("patternProperties")) {
    const JsonValue* additional = member(schema, "additionalProperties");
    if (additional && additional->IsBool()) schema.RemoveMember("additionalProperties");
  }
  for (auto& m : schema.GetObject()) {
    std::string keyword = m.name.GetString();
    if (keyword == "enum" || keyword == "default") continue;  // values, not schemas
    bool named_schemas =
        keyword == "properties" || keyword == "definitions" || keyword == "dependencies";
    if (named_schemas && m.value.IsObject()) {
      for (auto& named : m.value.GetObject()) drop_regex_keywords(named.value);
    } else {
      drop_regex_keywords(m.value);
    }
  }
}

// Subschemas applied to the same value as `schema` (not to its members or items): a cycle among
// them makes the validator recurse forever.
std::vector<const JsonValue*> same_value_subschemas(const JsonValue& schema,
                                                    const JsonValue& root) {
  bool broken = false;
  if (const JsonValue* target = local_ref_target(schema, root, broken)) return {target};
  std::vector<const JsonValue*> out;
  if (const JsonValue* negated = member(schema, "not")) out.push_back(negated);
  for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
    const JsonValue* list = member(schema, keyword);
    if (!list || !list->IsArray()) continue;
    for (const auto& element : list->GetArray()) out.push_back(&element);
  }
  const JsonValue* dependencies = member(schema, "dependencies");
  if (dependencies && dependencies->IsObject()) {
    for (const auto& d : dependencies->GetObject()) out.push_back(&d.value);
  }
  return out;
}

bool has_non_string_dependency(const JsonValue& schema) {
  const JsonValue* dependencies = member(schema, "dependencies");
  if (!dependencies || !dependencies->IsObject()) return false;
  for (const auto& d : dependencies->GetObject()) {
    if (!d.value.IsArray()) continue;
    for (const auto& name : d.value.GetArray()) {
      if (!name.IsString()) return true;
    }
  }
  return false;
}

// What RapidJSON 1.1 would crash on in this one object, or "".
std::string dangerous_shape(const JsonValue& schema, const JsonValue& root) {
  const JsonValue* pattern = member(schema, "pattern");
  if ((pattern && pattern->IsString()) || member(schema, "patternProperties")) {
    return "a regular expression inside an \"enum\" or \"default\" value";
  }
  if (has_non_string_dependency(schema)) return "\"dependencies\" naming a non-string";
  const JsonValue* negated = member(schema, "not");
  if (negated && !negated->IsObject()) return "a \"not\" that is not an object";
  for (const char* keyword : {"allOf", "anyOf", "oneOf", "items"}) {
    const JsonValue* list = member(schema, keyword);
    if (!list || !list->IsArray()) continue;
    for (const auto& element : list->GetArray()) {
      if (!element.IsObject()) {
        return "an \"" + std::string(keyword) + "\" entry that is not an object";
      }
    }
  }
  bool broken = false;
  local_ref_target(schema, root, broken);
  return broken ? "a \"$ref\" to no schema object" : "";
}

struct ShapeScan {
  const JsonValue& root;
  std::set<const JsonValue*> loop_free = {};  // schemas known not to reach themselves

  bool loops(const JsonValue& schema, std::set<const JsonValue*>& active) {
    if (!schema.IsObject() || loop_free.count(&schema)) return false;
    if (!active.insert(&schema).second) return true;
    for (const JsonValue* sub : same_value_subschemas(schema, root)) {
      if (loops(*sub, active)) return true;
    }
    active.erase(&schema);
    loop_free.insert(&schema);
    return false;
  }

  // The first dangerous shape in `v` and below, with where it is, or "".
  std::string find(const JsonValue& v, const std::string& pointer) {
    if (v.IsArray()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        std::string found = find(v[i], pointer + "/" + std::to_string(i));
        if (!found.empty()) return found;
      }
    }
    if (!v.IsObject()) return "";
    std::string found = dangerous_shape(v, root);
    std::set<const JsonValue*> active;
    if (found.empty() && loops(v, active)) found = "subschemas that refer back to themselves";
    if (!found.empty()) return found + " at \"" + pointer + "\"";
    for (const auto& m : v.GetObject()) {
      found = find(m.value, pointer + "/" + escape_pointer_token(m.name.GetString()));
      if (!found.empty()) return found;
    }
    return "";
  }
};

// ---- RapidJSON's validator and its messages ----

std::string explain_number(const std::string& keyword, const JsonValue& rules,
                           const JsonValue& rule, const JsonValue& v) {
  std::string got = json_text(v);
  std::string limit = json_text(rule);
  const JsonValue* exclusive =
      member(rules, keyword == "minimum" ? "exclusiveMinimum" : "exclusiveMaximum");
  bool strict = exclusive && exclusive->IsBool() && exclusive->GetBool();
  if (keyword == "minimum") {
    return strict ? "value " + got + " must be greater than " + limit
                  : "value " + got + " is below minimum " + limit;
  }
  if (keyword == "maximum") {
    return strict ? "value " + got + " must be less than " + limit
                  : "value " + got + " is above maximum " + limit;
  }
  return "value " + got + " is not a multiple of " + limit;
}

std::string explain_size(const std::string& keyword, const JsonValue& rule, const JsonValue& v) {
  std::string limit = json_text(rule);
  std::string got = json_text(v);
  if (keyword == "minLength") return "string " + got + " is shorter than " + limit + " characters";
  if (keyword == "maxLength") return "string " + got + " is longer than " + limit + " characters";
  std::string count = std::to_string(v.IsArray() ? v.Size() : v.IsObject() ? v.MemberCount() : 0);
  std::string unit = v.IsArray() ? " items" : " keys";
  bool at_least = keyword == "minItems" || keyword == "minProperties";
  return std::string("expected ") + (at_least ? "at least " : "at most ") + limit + unit +
         ", got " + count;
}

std::string explain_required(const JsonValue& rule, const JsonValue& v) {
  std::string missing;
  if (rule.IsArray() && v.IsObject()) {
    for (const auto& r : rule.GetArray()) {
      if (!r.IsString() || v.HasMember(r)) continue;
      missing += std::string(missing.empty() ? "" : ", ") + "\"" + r.GetString() + "\"";
    }
  }
  return "missing required key " + missing;
}

// A readable message for the keyword RapidJSON's validator stopped at; `rules` is the schema
// object holding that keyword and `v` the offending value.
std::string explain_failure(const std::string& keyword, const JsonValue* rules, const JsonValue* v,
                            const std::string& pointer) {
  const JsonValue* rule = rules ? member(*rules, keyword.c_str()) : nullptr;
  if (rule && v) {
    if (keyword == "minimum" || keyword == "maximum" || keyword == "multipleOf") {
      return explain_number(keyword, *rules, *rule, *v);
    }
    if (keyword == "minLength" || keyword == "maxLength" || keyword == "minItems" ||
        keyword == "maxItems" || keyword == "minProperties" || keyword == "maxProperties") {
      return explain_size(keyword, *rule, *v);
    }
    if (keyword == "enum") return "value " + json_text(*v) + " is not one of " + json_text(*rule);
    if (keyword == "uniqueItems") return "duplicate list item " + json_text(*v);
    if (keyword == "required") return explain_required(*rule, *v);
    if (keyword == "type") return type_mismatch(schema_types(*rules), *v);
  }
  if (keyword == "additionalProperties") {
    return "unknown key \"" + unescape_pointer_token(pointer.substr(pointer.rfind('/') + 1)) + "\"";
  }
  return "fails schema keyword \"" + keyword + "\"";
}

struct ValidatorFailure {
  std::string pointer;         // into the config
  std::string keyword;         // the schema keyword that failed
  std::string schema_pointer;  // to the schema object holding `keyword`
};

std::optional<ValidatorFailure> first_failure(const JsonValue& schema, const JsonValue& config) {
  rapidjson::SchemaDocument compiled(schema);
  rapidjson::SchemaValidator validator(compiled);
  if (config.Accept(validator)) return std::nullopt;
  const char* keyword = validator.GetInvalidSchemaKeyword();
  return ValidatorFailure{pointer_text(validator.GetInvalidDocumentPointer()),
                          keyword ? keyword : "",
                          pointer_text(validator.GetInvalidSchemaPointer())};
}

// RapidJSON's validator stops at the first failure. To find more, each failing keyword is
// dropped from (our copy of) the schema and the config validated again; failures at pointers
// already diagnosed are not repeated.
void report_validator_failures(SchemaCheck& check, rapidjson::Document& schema,
                               const JsonValue& config) {
  constexpr int kMaxRounds = 20;  // each round compiles the schema again
  for (int round = 0; round < kMaxRounds; ++round) {
    std::optional<ValidatorFailure> failure = first_failure(schema, config);
    if (!failure) return;
    JsonValue* rules = rapidjson::Pointer(failure->schema_pointer.c_str()).Get(schema);
    if (!check.reported.count(failure->pointer)) {
      const JsonValue* value = rapidjson::Pointer(failure->pointer.c_str()).Get(config);
      check.report_value(failure->pointer,
                         explain_failure(failure->keyword, rules, value, failure->pointer));
    }
    if (!rules || !rules->IsObject() || !rules->RemoveMember(failure->keyword.c_str())) return;
  }
}

// The problem that makes schema text unusable, or "".
std::string schema_text_problem(const std::string& text, rapidjson::Document& schema) {
  schema.Parse(text.data(), text.size());
  if (schema.HasParseError()) {
    return std::string("is not valid JSON (") +
           rapidjson::GetParseError_En(schema.GetParseError()) + " at offset " +
           std::to_string(schema.GetErrorOffset()) + ")";
  }
  return schema.IsObject() ? "" : "is not a JSON object";
}

// Runs RapidJSON's validator on `config` for the keywords check_value does not cover.
void validate_remaining(SchemaCheck& check, const JsonValue& config) {
  rapidjson::Document schema;
  schema.CopyFrom(check.schema, schema.GetAllocator());
  drop_regex_keywords(schema);
  std::string shape = ShapeScan{schema}.find(schema, "");
  if (!shape.empty()) {
    check.report_schema("cannot be used by the validator: it has " + shape);
    return;
  }
  report_validator_failures(check, schema, config);
}

}  // namespace

std::string Diagnostic::to_string() const {
  std::string out = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!path.empty()) out += path + ": ";
  return out + message;
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

size_t edit_distance(const std::string& a, const std::string& b) {
  // Two rows of the Levenshtein table are enough.
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> interpolate(const std::string& value, const EnvLookup& env,
                                       std::string& error) {
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    if (value.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
    } else if (value.compare(i, 2, "${") != 0) {
      out += value[i++];
    } else {
      size_t close = closing_brace(value, i + 2);
      if (close == std::string::npos) {
        error = "unterminated \"${\" in \"" + value + "\"";
        return std::nullopt;
      }
      std::optional<std::string> expanded =
          expand_reference(value.substr(i + 2, close - i - 2), env, error);
      if (!expanded) return std::nullopt;
      out += *expanded;
      i = close + 1;
    }
  }
  return out;
}

PluginConfigCheck check_plugin_config(const Config& config, const PluginConfig& plugin,
                                      const std::string& schema_json) {
  PluginConfigCheck out;
  out.config_json = plugin.config_json.empty() ? "{}" : plugin.config_json;
  if (schema_json.empty()) return out;
  rapidjson::Document schema;
  SchemaCheck check{config, plugin, schema, out.diagnostics};
  if (std::string problem = schema_text_problem(schema_json, schema); !problem.empty()) {
    check.report_schema(problem);
    return out;
  }
  rapidjson::Document document;
  document.Parse(out.config_json.data(), out.config_json.size());
  if (document.HasParseError() || !document.IsObject()) document.SetObject();

  check_value(check, schema, document, "");
  apply_defaults(schema, schema, document, document.GetAllocator());
  out.config_json = json_text(document);
  // Without the keys already reported as unknown, the validator can reach other problems.
  for (const auto& pointer : check.unknown) rapidjson::Pointer(pointer.c_str()).Erase(document);
  validate_remaining(check, document);
  return out;
}

ConfigResult load_config_text(const std::string& text, const std::string& file,
                              const EnvLookup& env) {
  ConfigResult result;
  result.config.file = file;
  result.config.directory = directory_of(file);
  Walk walk{file, env, result.diagnostics};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    walk.report(to_mark(e.mark), "", "YAML syntax error: " + e.msg);
    return result;
  }
  if (root.IsNull()) {
    walk.report({1, 1}, "",
                "the file holds no YAML mapping; a config needs at least \"version: 1\"");
    return result;
  }
  if (int line = second_document_line(text)) {
    walk.report({line, 1}, "",
                "a config file holds one YAML document; remove this \"---\" and what follows");
  }
  load_root(walk, root, result.config);
  sort_by_position(result.diagnostics);
  return result;
}

ConfigResult load_config_file(const std::string& path, const EnvLookup& env) {
  std::error_code ec;
  bool is_directory = fs::is_directory(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (!in || is_directory) {
    int error = is_directory ? EISDIR : errno;
    ConfigResult result;
    result.config.file = path;
    result.config.directory = directory_of(path);
    result.diagnostics.push_back(
        {path, 0, 0, "", std::string("cannot read config file: ") + std::strerror(error)});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_config_text(text.str(), path, env);
}

}  // namespace plughost
