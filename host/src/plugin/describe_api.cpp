#include "plugin/describe_api.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <plughost/json.hpp>

#include "config/config.hpp"
#include "http/docs_ui.hpp"
#include "openapi/openapi.hpp"
#include "plugin/abi_support.hpp"
#include "plugin/loader.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"
#include "storage/statement.hpp"

namespace plughost {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void key_str(Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  str(w, value);
}
void null_or(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  if (value.empty()) {
    w.Null();
  } else {
    str(w, value);
  }
}
void list(Writer& w, const std::vector<std::string>& items) {
  w.StartArray();
  for (const auto& s : items) str(w, s);
  w.EndArray();
}

std::string compiler() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "unknown";
#endif
}

void describe_host(ph_host* host, Writer& w) {
  const Config& c = host->set->config();
  w.StartObject();
  key_str(w, "name", "plughost");
  key_str(w, "version", PLUGHOST_VERSION);
  key_str(w, "abi", std::to_string(PH_ABI_MAJOR) + "." + std::to_string(PH_ABI_MINOR));
  key_str(w, "compiler", compiler());
  w.Key("cxx_standard");
  w.Int64(__cplusplus);
  key_str(w, "config_file", c.file);
  key_str(w, "node", c.tasks.node);
  key_str(w, "started_at", host->set->started_at());
  w.EndObject();
}

void describe_plugins(ph_host* host, Writer& w) {
  w.StartArray();
  for (const auto& p : host->set->plugins()) {
    w.StartObject();
    key_str(w, "name", p->name);
    key_str(w, "version", p->version);
    key_str(w, "status", plugin_status_name(p->status));
    key_str(w, "stability", p->stability);
    key_str(w, "abi",
            p->abi_major ? std::to_string(p->abi_major) + "." + std::to_string(p->abi_minor) : "");
    key_str(w, "description", p->description);
    null_or(w, "error", p->error);
    w.EndObject();
  }
  w.EndArray();
}

void describe_routes(ph_host* host, Writer& w) {
  w.StartArray();
  for (const auto& r : host->registry->routes()) {
    w.StartObject();
    key_str(w, "method", r.method);
    key_str(w, "path", r.pattern);
    key_str(w, "plugin", r.plugin);
    key_str(w, "permission", r.permission);
    key_str(w, "rate_class", r.rate_class);
    key_str(w, "summary", r.summary);
    w.EndObject();
  }
  w.EndArray();
}

void describe_storage(ph_host* host, Writer& w) {
  Database* db = host->services ? host->services->db : nullptr;
  w.StartObject();
  w.Key("connected");
  if (!db) {
    w.Bool(false);
    key_str(w, "dialect", "");
    w.Key("pool_size");
    w.Int(0);
    w.Key("pool_available");
    w.Int(0);
    w.Key("latency_ms");
    w.Null();
    key_str(w, "last_error", "storage is not configured");
    w.EndObject();
    return;
  }
  std::string error;
  auto started = std::chrono::steady_clock::now();
  try {
    Statement probe(*db, "SELECT 1");
    if (!probe.step()) error = "SELECT 1 returned no row";
  } catch (const std::exception& e) {
    error = e.what();
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  w.Bool(error.empty());
  key_str(w, "dialect", dialect_name(db->dialect()));
  w.Key("pool_size");
  w.Uint64(db->pool_size());
  w.Key("pool_available");
  w.Uint64(db->pool_available());
  w.Key("latency_ms");
  w.Double(std::round(ms * 1000) / 1000);
  null_or(w, "last_error", error);
  w.EndObject();
}

void describe_migrations(ph_host* host, Writer& w) {
  Database* db = host->services ? host->services->db : nullptr;
  std::vector<LedgerRow> ledger;
  if (db) ledger = read_ledger(*db);
  std::map<std::pair<std::string, std::string>, const LedgerRow*> applied;
  for (const auto& row : ledger) applied[{row.plugin, row.name}] = &row;
  w.StartArray();
  auto row = [&](const std::string& plugin, const std::string& name, const std::string& checksum,
                 const LedgerRow* in_ledger) {
    w.StartObject();
    key_str(w, "plugin", plugin);
    key_str(w, "name", name);
    key_str(w, "checksum", checksum);
    w.Key("applied");
    w.Bool(in_ledger != nullptr);
    null_or(w, "applied_at", in_ledger ? in_ledger->applied_at : "");
    w.EndObject();
  };
  std::map<std::pair<std::string, std::string>, bool> seen;
  if (host->services) {
    for (const auto& m : host->services->migrations) {
      auto it = applied.find({m.plugin, m.name});
      row(m.plugin, m.name, m.checksum, it == applied.end() ? nullptr : it->second);
      seen[{m.plugin, m.name}] = true;
    }
  }
  for (const auto& l : ledger) {  // applied by plugins not loaded this run
    if (!seen.count({l.plugin, l.name})) row(l.plugin, l.name, l.checksum, &l);
  }
  w.EndArray();
}

// ---- settings --------------------------------------------------------------------------------

// "scheme://user:password@host…" -> "scheme://user:***@host…"; other text unchanged.
std::string redact_url_password(const std::string& text) {
  size_t scheme = text.find("://");
  if (scheme == std::string::npos) return text;
  size_t at = text.find('@', scheme + 3);
  size_t slash = text.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return text;
  size_t colon = text.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return text;
  return text.substr(0, colon + 1) + "***" + text.substr(at);
}

void redact(rapidjson::Value& v, rapidjson::Document::AllocatorType& a) {
  if (v.IsObject()) {
    for (auto& m : v.GetObject()) {
      std::string name(m.name.GetString(), m.name.GetStringLength());
      if (secret_like_key(name) && !m.value.IsNull() && !m.value.IsBool()) {
        m.value.SetString("***", a);  // the whole value, objects and lists included
      } else {
        redact(m.value, a);
      }
    }
  } else if (v.IsArray()) {
    for (auto& item : v.GetArray()) redact(item, a);
  } else if (v.IsString()) {
    std::string text(v.GetString(), v.GetStringLength());
    std::string masked = redact_url_password(text);
    if (masked != text)
      v.SetString(masked.c_str(), static_cast<rapidjson::SizeType>(masked.size()), a);
  }
}

void plugin_settings(Writer& w, const PluginConfig& p) {
  w.StartObject();
  w.Key("enabled");
  w.Bool(p.enabled);
  w.Key("required");
  w.Bool(p.required);
  if (p.allowed_origins) {
    w.Key("allowed_origins");
    list(w, *p.allowed_origins);
  }
  w.Key("config");
  rapidjson::Document doc;
  doc.Parse(p.config_json.c_str());
  if (doc.HasParseError()) doc.SetObject();
  redact(doc, doc.GetAllocator());
  doc.Accept(w);
  w.EndObject();
}

}  // namespace

bool secret_like_key(const std::string& raw) {
  std::string key = raw;
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word : {"password", "passwd", "secret", "token", "credential", "authorization",
                           "api_key", "apikey", "private_key", "signing_key", "access_key"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  return key == "key" || (key.size() > 4 && key.compare(key.size() - 4, 4, "_key") == 0);
}

std::string settings_json(const Config& c, const std::string& storage_url_redacted) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("version");
  w.Int(c.version);
  w.Key("server");
  w.StartObject();
  key_str(w, "listen", c.server.host + ":" + std::to_string(c.server.port));
  w.Key("threads");
  w.Int(c.server.threads);
  w.Key("max_body_bytes");
  w.Uint64(c.server.max_body_bytes);
  w.Key("drain_seconds");
  w.Double(c.server.drain_seconds);
  w.Key("shutdown_timeout_seconds");
  w.Double(c.server.shutdown_timeout_seconds);
  w.EndObject();
  w.Key("log");
  w.StartObject();
  key_str(w, "level", c.log.level);
  key_str(w, "format", c.log.format);
  w.Key("access");
  w.Bool(c.log.access);
  w.EndObject();
  w.Key("storage");
  w.StartObject();
  key_str(w, "url", storage_url_redacted);
  w.Key("pool_size");
  w.Int(c.storage_pool_size);
  w.EndObject();
  w.Key("tasks");
  w.StartObject();
  w.Key("workers");
  w.Int(c.tasks.workers);
  w.Key("lease_seconds");
  w.Double(c.tasks.lease_seconds);
  w.Key("default_timeout_seconds");
  w.Double(c.tasks.default_timeout_seconds);
  w.Key("max_attempts");
  w.Int(c.tasks.max_attempts);
  w.EndObject();
  w.Key("auth");
  w.StartObject();
  w.Key("enabled");
  w.Bool(c.auth.enabled);
  w.Key("order");
  list(w, c.auth.order);
  w.Key("authenticators");
  list(w, c.auth.authenticators);
  w.Key("roles");
  w.StartObject();
  for (const auto& [role, perms] : c.auth.roles) {
    str(w, role);
    list(w, perms);
  }
  w.EndObject();
  w.EndObject();
  w.Key("rate_limits");
  w.StartObject();
  w.Key("enabled");
  w.Bool(c.rate_limits.enabled);
  w.Key("exempt_loopback");
  w.Bool(c.rate_limits.exempt_loopback);
  key_str(w, "default_class", c.rate_limits.default_class);
  w.Key("classes");
  w.StartObject();
  for (const auto& [name, rc] : c.rate_limits.classes) {
    str(w, name);
    w.StartObject();
    w.Key("limit");
    w.Int64(rc.limit);
    w.Key("window_seconds");
    w.Double(rc.window_seconds);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  w.Key("schedules");
  w.StartArray();
  for (const auto& s : c.schedules) {
    w.StartObject();
    key_str(w, "name", s.name);
    key_str(w, "cron", s.cron);
    key_str(w, "timezone", s.timezone);
    key_str(w, "task", s.task);
    w.EndObject();
  }
  w.EndArray();
  w.Key("plugins");
  w.StartObject();
  for (const auto& p : c.plugins) {
    str(w, p.name);
    plugin_settings(w, p);
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {

int host_describe(ph_host* host, const char* what, ph_buffer* out, ph_error* err) {
  if (!host || !what || !out) {
    abi::set_error(err, "host_describe needs a subject and an output buffer");
    return PH_ERR_INVALID_ARGUMENT;
  }
  std::string subject = what;
  try {
    if (subject == "settings") {
      Database* db = host->services ? host->services->db : nullptr;
      std::string url = db ? db->url().redacted : host->set->config().storage_url;
      if (!db) {
        std::string error;
        if (auto parsed = parse_storage_url(url, host->set->config().directory, error)) {
          url = parsed->redacted;
        }
      }
      out->data += settings_json(host->set->config(), url);
      return PH_OK;
    }
    if (subject == "openapi") {
      out->data += openapi_document(*host->set, host->set->config(),
                                    {DocsUi::available(DocsUi::default_dir())});
      return PH_OK;
    }
    rapidjson::StringBuffer buf;
    Writer w(buf);
    if (subject == "host") {
      describe_host(host, w);
    } else if (subject == "plugins") {
      describe_plugins(host, w);
    } else if (subject == "routes") {
      describe_routes(host, w);
    } else if (subject == "storage") {
      describe_storage(host, w);
    } else if (subject == "migrations") {
      describe_migrations(host, w);
    } else {
      abi::set_error(err, "unknown subject \"" + subject + "\"");
      return PH_ERR_NOT_FOUND;
    }
    out->data.append(buf.GetString(), buf.GetSize());
    return PH_OK;
  } catch (const std::exception& e) {
    abi::set_error(err, e.what());
    return PH_ERR_INTERNAL;
  }
}

}  // namespace

void fill_describe_api(ph_host_api& table) {
  table.host_describe = host_describe;
}

}  // namespace plughost
