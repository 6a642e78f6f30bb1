#include "config/config.hpp"

#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace plughost {
namespace {

namespace fs = std::filesystem;

// Everything a walk over the YAML document needs to report problems.
struct Ctx {
  const std::string& file;
  const EnvLookup& env;
  std::vector<Diagnostic>& diagnostics;

  void report(const YAML::Mark& mark, const std::string& path, const std::string& message) {
    diagnostics.push_back({file, mark.line + 1, mark.column + 1, path, message});
  }
};

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string suggestion(const std::string& key, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;
  for (const auto& c : candidates) {
    size_t d = edit_distance(key, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best.empty() ? "" : " (did you mean \"" + best + "\"?)";
}

void unknown_key(Ctx& ctx, const YAML::Node& key, const std::string& path,
                 const std::vector<std::string>& allowed) {
  std::string name = key.Scalar();
  ctx.report(key.Mark(), join_path(path, name),
             "unknown key \"" + name + "\"" + suggestion(name, allowed));
}

// The YAML 1.2 core-schema type of a plain scalar.
enum class ScalarKind { kNull, kBool, kInt, kDouble, kString };

ScalarKind classify(const std::string& s, bool quoted) {
  if (quoted) return ScalarKind::kString;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return ScalarKind::kNull;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    return ScalarKind::kBool;
  }
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|"
      "NAN)");
  if (std::regex_match(s, kInt)) return ScalarKind::kInt;
  if (std::regex_match(s, kFloat)) return ScalarKind::kDouble;
  return ScalarKind::kString;
}

bool is_quoted(const YAML::Node& node) {
  return node.Tag() == "!";
}

// The scalar's text after interpolation; nullopt (with a diagnostic) when it is not a scalar or
// interpolation fails.
std::optional<std::string> scalar(Ctx& ctx, const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) {
    ctx.report(node.Mark(), path,
               "expected a single value, got a " + std::string(node.IsMap() ? "mapping" : "list"));
    return std::nullopt;
  }
  std::string error;
  auto text = interpolate(node.Scalar(), ctx.env, error);
  if (!text) ctx.report(node.Mark(), path, error);
  return text;
}

std::optional<bool> get_bool(Ctx& ctx, const YAML::Node& node, const std::string& path) {
  auto text = scalar(ctx, node, path);
  if (!text) return std::nullopt;
  if (classify(*text, is_quoted(node)) == ScalarKind::kBool) {
    return (*text)[0] == 't' || (*text)[0] == 'T';
  }
  ctx.report(node.Mark(), path, "expected a boolean (true or false), got \"" + *text + "\"");
  return std::nullopt;
}

std::optional<int64_t> get_int(Ctx& ctx, const YAML::Node& node, const std::string& path,
                               int64_t min, int64_t max) {
  auto text = scalar(ctx, node, path);
  if (!text) return std::nullopt;
  if (classify(*text, is_quoted(node)) != ScalarKind::kInt) {
    ctx.report(node.Mark(), path, "expected an integer, got \"" + *text + "\"");
    return std::nullopt;
  }
  errno = 0;
  long long v = std::strtoll(text->c_str(), nullptr, 10);
  if (errno == ERANGE || v < min || v > max) {
    ctx.report(
        node.Mark(), path,
        "value " + *text + " is out of range " + std::to_string(min) + "-" + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> get_number(Ctx& ctx, const YAML::Node& node, const std::string& path,
                                 double min, bool min_exclusive) {
  auto text = scalar(ctx, node, path);
  if (!text) return std::nullopt;
  auto kind = classify(*text, is_quoted(node));
  if (kind != ScalarKind::kInt && kind != ScalarKind::kDouble) {
    ctx.report(node.Mark(), path, "expected a number, got \"" + *text + "\"");
    return std::nullopt;
  }
  double v = std::strtod(text->c_str(), nullptr);
  if (!std::isfinite(v) || v < min || (min_exclusive && v == min)) {
    std::ostringstream bound;
    bound << min;
    ctx.report(node.Mark(), path,
               "value " + *text + " must be " + (min_exclusive ? "> " : ">= ") + bound.str());
    return std::nullopt;
  }
  return v;
}

std::optional<std::string> get_string(Ctx& ctx, const YAML::Node& node, const std::string& path) {
  auto text = scalar(ctx, node, path);
  if (!text) return std::nullopt;
  if (!is_quoted(node) && classify(*text, false) == ScalarKind::kNull) {
    ctx.report(node.Mark(), path, "expected a string, got null");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> get_choice(Ctx& ctx, const YAML::Node& node, const std::string& path,
                                      const std::vector<std::string>& choices) {
  auto text = get_string(ctx, node, path);
  if (!text) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *text) != choices.end()) return text;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  ctx.report(node.Mark(), path, "expected one of " + list + ", got \"" + *text + "\"");
  return std::nullopt;
}

// Calls `field(key_node, value_node, key)` for each entry of a mapping; reports non-mappings
// and keys outside `allowed`.
template <typename F>
void each_entry(Ctx& ctx, const YAML::Node& node, const std::string& path,
                const std::vector<std::string>& allowed, F&& field) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    ctx.report(node.Mark(), path, "expected a mapping");
    return;
  }
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      unknown_key(ctx, kv.first, path, allowed);
      continue;
    }
    field(kv.first, kv.second, key);
  }
}

bool parse_listen(const std::string& listen, ServerConfig& server, std::string& error) {
  std::string host, port;
  if (!listen.empty() && listen[0] == '[') {
    error = "IPv6 listen addresses are not supported yet; use an IPv4 address";
    return false;
  }
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    error = "expected host:port, got \"" + listen + "\"";
    return false;
  }
  host = listen.substr(0, colon);
  port = listen.substr(colon + 1);
  static const std::regex kIpv4("([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})");
  std::smatch m;
  if (host == "localhost") {
    host = "127.0.0.1";
  } else if (!std::regex_match(host, m, kIpv4) ||
             std::any_of(m.begin() + 1, m.end(),
                         [](const auto& g) { return std::stoi(g.str()) > 255; })) {
    error = "host \"" + host + "\" is not an IPv4 address or localhost";
    return false;
  }
  if (!std::regex_match(port, std::regex("[0-9]{1,5}")) || std::stoi(port) > 65535) {
    error = "port \"" + port + "\" is not in 0-65535";
    return false;
  }
  server.host = host;
  server.port = static_cast<uint16_t>(std::stoi(port));
  return true;
}

void load_server(Ctx& ctx, const YAML::Node& node, ServerConfig& server) {
  const std::vector<std::string> keys = {"listen", "threads", "max_body_bytes", "drain_seconds",
                                         "shutdown_timeout_seconds"};
  each_entry(ctx, node, "server", keys,
             [&](const YAML::Node&, const YAML::Node& v, const std::string& key) {
               std::string path = "server." + key;
               if (key == "listen") {
                 if (auto s = get_string(ctx, v, path)) {
                   std::string error;
                   if (!parse_listen(*s, server, error)) ctx.report(v.Mark(), path, error);
                 }
               } else if (key == "threads") {
                 if (auto n = get_int(ctx, v, path, 1, 256)) server.threads = static_cast<int>(*n);
               } else if (key == "max_body_bytes") {
                 if (auto n = get_int(ctx, v, path, 1, INT64_MAX)) server.max_body_bytes = *n;
               } else if (key == "drain_seconds") {
                 if (auto d = get_number(ctx, v, path, 0, false)) server.drain_seconds = *d;
               } else if (key == "shutdown_timeout_seconds") {
                 if (auto d = get_number(ctx, v, path, 0, true))
                   server.shutdown_timeout_seconds = *d;
               }
             });
}

void load_tasks(Ctx& ctx, const YAML::Node& node, TasksConfig& tasks) {
  const std::vector<std::string> keys = {"workers",
                                         "lease_seconds",
                                         "poll_interval_seconds",
                                         "default_timeout_seconds",
                                         "max_attempts",
                                         "log_lines",
                                         "node"};
  each_entry(ctx, node, "tasks", keys,
             [&](const YAML::Node&, const YAML::Node& v, const std::string& key) {
               std::string path = "tasks." + key;
               if (key == "workers") {
                 if (auto n = get_int(ctx, v, path, 0, 256)) tasks.workers = static_cast<int>(*n);
               } else if (key == "lease_seconds") {
                 if (auto d = get_number(ctx, v, path, 0, true)) tasks.lease_seconds = *d;
               } else if (key == "poll_interval_seconds") {
                 if (auto d = get_number(ctx, v, path, 0, true)) tasks.poll_interval_seconds = *d;
               } else if (key == "default_timeout_seconds") {
                 if (auto d = get_number(ctx, v, path, 0, true)) tasks.default_timeout_seconds = *d;
               } else if (key == "max_attempts") {
                 if (auto n = get_int(ctx, v, path, 1, 100))
                   tasks.max_attempts = static_cast<int>(*n);
               } else if (key == "log_lines") {
                 if (auto n = get_int(ctx, v, path, 1, 100000))
                   tasks.log_lines = static_cast<int>(*n);
               } else if (key == "node") {
                 if (auto s = get_string(ctx, v, path)) tasks.node = *s;
               }
             });
}

void load_log(Ctx& ctx, const YAML::Node& node, LogConfig& log) {
  each_entry(ctx, node, "log", {"level", "format", "access"},
             [&](const YAML::Node&, const YAML::Node& v, const std::string& key) {
               std::string path = "log." + key;
               if (key == "level") {
                 if (auto s = get_choice(ctx, v, path, {"debug", "info", "warn", "error"})) {
                   log.level = *s;
                 }
               } else if (key == "format") {
                 if (auto s = get_choice(ctx, v, path, {"auto", "json", "text"})) log.format = *s;
               } else if (key == "access") {
                 if (auto b = get_bool(ctx, v, path)) log.access = *b;
               }
             });
}

// ---- YAML -> JSON for plugin config blocks ---------------------------------------------------

std::string pointer_escape(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

rapidjson::Value to_json(Ctx& ctx, const YAML::Node& node, const std::string& path,
                         const std::string& pointer, PluginConfig& pc,
                         rapidjson::Document::AllocatorType& alloc) {
  pc.pointer_marks[pointer] = {node.Mark().line + 1, node.Mark().column + 1};
  if (node.IsMap()) {
    rapidjson::Value obj(rapidjson::kObjectType);
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      pc.key_marks[pointer + "/" + pointer_escape(key)] = {kv.first.Mark().line + 1,
                                                           kv.first.Mark().column + 1};
      rapidjson::Value v = to_json(ctx, kv.second, join_path(path, key),
                                   pointer + "/" + pointer_escape(key), pc, alloc);
      obj.AddMember(rapidjson::Value(key.c_str(), alloc), v, alloc);
    }
    return obj;
  }
  if (node.IsSequence()) {
    rapidjson::Value arr(rapidjson::kArrayType);
    for (size_t i = 0; i < node.size(); ++i) {
      arr.PushBack(to_json(ctx, node[i], path + "." + std::to_string(i),
                           pointer + "/" + std::to_string(i), pc, alloc),
                   alloc);
    }
    return arr;
  }
  if (!node.IsScalar()) return rapidjson::Value();  // null node
  auto text = scalar(ctx, node, path);
  if (!text) return rapidjson::Value();
  switch (classify(*text, is_quoted(node))) {
    case ScalarKind::kNull: return rapidjson::Value();
    case ScalarKind::kBool: return rapidjson::Value((*text)[0] == 't' || (*text)[0] == 'T');
    case ScalarKind::kInt: {
      errno = 0;
      long long v = std::strtoll(text->c_str(), nullptr, 10);
      if (errno != ERANGE) return rapidjson::Value(static_cast<int64_t>(v));
      return rapidjson::Value(std::strtod(text->c_str(), nullptr));
    }
    case ScalarKind::kDouble: {
      double d = std::strtod(text->c_str(), nullptr);
      if (std::isfinite(d)) return rapidjson::Value(d);
      ctx.report(node.Mark(), path, "infinite or NaN numbers are not allowed");
      return rapidjson::Value();
    }
    case ScalarKind::kString: break;
  }
  return rapidjson::Value(text->c_str(), static_cast<rapidjson::SizeType>(text->size()), alloc);
}

std::string json_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

void load_schedules(Ctx& ctx, const YAML::Node& node, std::vector<ScheduleConfig>& out) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    ctx.report(node.Mark(), "schedules", "expected a list of schedules");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    std::string path = "schedules." + std::to_string(i);
    ScheduleConfig sc;
    sc.mark = {node[i].Mark().line + 1, node[i].Mark().column + 1};
    each_entry(ctx, node[i], path, {"name", "cron", "timezone", "task", "payload"},
               [&](const YAML::Node&, const YAML::Node& v, const std::string& key) {
                 std::string p = path + "." + key;
                 if (key == "payload") {
                   PluginConfig scratch;
                   rapidjson::Document doc;
                   sc.payload_json = json_text(to_json(ctx, v, p, "", scratch, doc.GetAllocator()));
                 } else if (auto s = get_string(ctx, v, p)) {
                   if (key == "name") sc.name = *s;
                   if (key == "cron") sc.cron = *s;
                   if (key == "timezone") sc.timezone = *s;
                   if (key == "task") sc.task = *s;
                 }
               });
    for (const auto& [field, value] : {std::pair<const char*, std::string*>{"name", &sc.name},
                                       {"cron", &sc.cron},
                                       {"task", &sc.task}}) {
      if (value->empty())
        ctx.report(node[i].Mark(), path, std::string("missing key \"") + field + "\"");
    }
    out.push_back(std::move(sc));
  }
}

void load_plugin(Ctx& ctx, const YAML::Node& key, const YAML::Node& node, Config& config) {
  PluginConfig pc;
  pc.name = key.Scalar();
  pc.mark = {key.Mark().line + 1, key.Mark().column + 1};
  std::string path = "plugins." + pc.name;
  static const std::regex kName("[a-z0-9_-]+");
  if (!std::regex_match(pc.name, kName)) {
    ctx.report(key.Mark(), path, "plugin name must match [a-z0-9_-]+");
  }
  pc.config_json = "{}";
  pc.pointer_marks[""] = pc.mark;
  each_entry(ctx, node, path, {"enabled", "required", "config"},
             [&](const YAML::Node&, const YAML::Node& v, const std::string& k) {
               std::string p = path + "." + k;
               if (k == "enabled") {
                 if (auto b = get_bool(ctx, v, p)) pc.enabled = *b;
               } else if (k == "required") {
                 if (auto b = get_bool(ctx, v, p)) pc.required = *b;
               } else if (k == "config") {
                 if (v.IsNull()) return;
                 if (!v.IsMap()) {
                   ctx.report(v.Mark(), p, "expected a mapping");
                   return;
                 }
                 rapidjson::Document doc;
                 rapidjson::Value value = to_json(ctx, v, p, "", pc, doc.GetAllocator());
                 pc.config_json = json_text(value);
               }
             });
  config.plugins.push_back(std::move(pc));
}

void load_root(Ctx& ctx, const YAML::Node& root, Config& config) {
  const std::vector<std::string> keys = {"version", "server",    "log",         "storage",
                                         "tasks",   "schedules", "plugins_dir", "plugins"};
  if (!root.IsMap()) {
    ctx.report(root.Mark(), "", "expected a mapping at the top of the file");
    return;
  }
  bool has_version = false;
  each_entry(
      ctx, root, "", keys, [&](const YAML::Node& k, const YAML::Node& v, const std::string& key) {
        if (key == "version") {
          has_version = true;
          if (auto n = get_int(ctx, v, key, INT64_MIN, INT64_MAX)) {
            if (*n != 1)
              ctx.report(
                  v.Mark(), key,
                  "unsupported config version " + std::to_string(*n) + " (this host reads 1)");
          }
        } else if (key == "server") {
          load_server(ctx, v, config.server);
        } else if (key == "log") {
          load_log(ctx, v, config.log);
        } else if (key == "storage") {
          each_entry(ctx, v, "storage", {"url", "pool_size"},
                     [&](const YAML::Node&, const YAML::Node& u, const std::string& skey) {
                       if (skey == "pool_size") {
                         if (auto n = get_int(ctx, u, "storage.pool_size", 1, 256)) {
                           config.storage_pool_size = static_cast<int>(*n);
                         }
                         return;
                       }
                       auto url = get_string(ctx, u, "storage.url");
                       if (!url) return;
                       if (url->rfind("sqlite://", 0) != 0 && url->rfind("postgresql://", 0) != 0) {
                         ctx.report(
                             u.Mark(), "storage.url",
                             "expected a sqlite:// or postgresql:// URL, got \"" + *url + "\"");
                         return;
                       }
                       config.storage_url = *url;
                     });
        } else if (key == "tasks") {
          load_tasks(ctx, v, config.tasks);
        } else if (key == "schedules") {
          load_schedules(ctx, v, config.schedules);
        } else if (key == "plugins_dir") {
          if (auto dir = get_string(ctx, v, key)) {
            fs::path p(*dir);
            if (p.is_relative()) p = fs::path(config.directory) / p;
            config.plugins_dir = p.lexically_normal().string();
          }
        } else if (key == "plugins") {
          each_entry(ctx, v, "plugins", {},
                     [&](const YAML::Node& pk, const YAML::Node& pv, const std::string&) {
                       load_plugin(ctx, pk, pv, config);
                     });
        }
        (void)k;
      });
  if (!has_version) ctx.report(root.Mark(), "version", "missing key \"version\" (use version: 1)");
}

}  // namespace

std::string Diagnostic::to_string() const {
  std::string out = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!path.empty()) out += path + ": ";
  return out + message;
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> interpolate(const std::string& value, const EnvLookup& env,
                                       std::string& error) {
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    if (value.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (value.compare(i, 2, "${") != 0) {
      out += value[i++];
      continue;
    }
    size_t close = value.find('}', i + 2);
    if (close == std::string::npos) {
      error = "unterminated \"${\" in \"" + value + "\"";
      return std::nullopt;
    }
    std::string expr = value.substr(i + 2, close - i - 2);
    std::string name = expr, op, arg;
    if (auto p = expr.find(":-"); p != std::string::npos) {
      name = expr.substr(0, p), op = ":-", arg = expr.substr(p + 2);
    } else if (auto q = expr.find(":?"); q != std::string::npos) {
      name = expr.substr(0, q), op = ":?", arg = expr.substr(q + 2);
    }
    static const std::regex kVar("[A-Za-z_][A-Za-z0-9_]*");
    if (!std::regex_match(name, kVar)) {
      error = "invalid variable name \"" + name + "\" in \"" + value + "\"";
      return std::nullopt;
    }
    auto v = env(name);
    bool empty = !v || v->empty();
    if (op == ":-" && empty) {
      out += arg;
    } else if (op == ":?" && empty) {
      error = "environment variable " + name +
              " is not set: " + (arg.empty() ? std::string("required") : arg);
      return std::nullopt;
    } else if (!v) {
      error = "environment variable " + name + " is not set";
      return std::nullopt;
    } else {
      out += *v;
    }
    i = close + 1;
  }
  return out;
}

ConfigResult load_config_text(const std::string& text, const std::string& file,
                              const EnvLookup& env) {
  ConfigResult result;
  result.config.file = file;
  fs::path dir = fs::absolute(fs::path(file)).parent_path();
  result.config.directory = dir.string();
  Ctx ctx{file, env, result.diagnostics};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    ctx.report(e.mark, "", "YAML syntax error: " + e.msg);
    return result;
  }
  load_root(ctx, root, result.config);
  return result;
}

ConfigResult load_config_file(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigResult result;
    result.config.file = path;
    result.diagnostics.push_back(
        {path, 0, 0, "", std::string("cannot read config file: ") + std::strerror(errno)});
    return result;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return load_config_text(ss.str(), path, env);
}

}  // namespace plughost
