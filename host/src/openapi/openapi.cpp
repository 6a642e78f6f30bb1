#include "openapi/openapi.hpp"

#include <plughost/abi.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "plugin/loader.hpp"

#ifndef PLUGHOST_VERSION
#define PLUGHOST_VERSION "0.0.0"
#endif

namespace plughost {
namespace {

using Value = rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

Value text(const std::string& s, Alloc& a) {
  return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

void add(Value& obj, const std::string& key, Value v, Alloc& a) {
  obj.AddMember(text(key, a), v, a);
}

void add(Value& obj, const std::string& key, const std::string& s, Alloc& a) {
  add(obj, key, text(s, a), a);
}

Value object() {
  return Value(rapidjson::kObjectType);
}

// Component names must match ^[a-zA-Z0-9.\-_]+$.
std::string component_name(const std::string& raw) {
  std::string out;
  for (char c : raw) {
    out +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  }
  return out.empty() ? "_" : out;
}

// ---- JSON Schema -> OpenAPI 3.0 Schema Object ------------------------------------------------

const std::set<std::string>& kept_keywords() {
  static const std::set<std::string> keep = {"title",
                                             "multipleOf",
                                             "maximum",
                                             "minimum",
                                             "maxLength",
                                             "minLength",
                                             "pattern",
                                             "maxItems",
                                             "minItems",
                                             "uniqueItems",
                                             "maxProperties",
                                             "minProperties",
                                             "required",
                                             "enum",
                                             "type",
                                             "allOf",
                                             "oneOf",
                                             "anyOf",
                                             "not",
                                             "items",
                                             "properties",
                                             "additionalProperties",
                                             "description",
                                             "format",
                                             "default",
                                             "nullable",
                                             "readOnly",
                                             "writeOnly",
                                             "example",
                                             "deprecated",
                                             "exclusiveMaximum",
                                             "exclusiveMinimum"};
  return keep;
}

class SchemaConverter {
 public:
  SchemaConverter(std::string prefix, Value& components, Alloc& a)
      : prefix_(std::move(prefix)), components_(components), a_(a) {}

  // Converts `in` (a parsed JSON Schema) into a new OpenAPI schema value.
  Value convert(const Value& in) {
    if (!in.IsObject()) return in.IsBool() && !in.GetBool() ? not_anything() : object();
    for (const char* defs : {"$defs", "definitions"}) {
      auto it = in.FindMember(defs);
      if (it == in.MemberEnd() || !it->value.IsObject()) continue;
      for (const auto& d : it->value.GetObject()) {
        std::string name = component_name(prefix_ + d.name.GetString());
        if (components_.HasMember(name.c_str())) continue;
        Value converted = convert(d.value);
        add(components_, name, std::move(converted), a_);
      }
    }
    auto ref = in.FindMember("$ref");
    if (ref != in.MemberEnd() && ref->value.IsString()) return reference(ref->value.GetString());
    Value out = object();
    for (const auto& m : in.GetObject()) {
      std::string key = m.name.GetString();
      if (key == "type") {
        convert_type(m.value, out);
      } else if (key == "const") {
        Value list(rapidjson::kArrayType);
        list.PushBack(Value(m.value, a_), a_);
        add(out, "enum", std::move(list), a_);
      } else if (key == "examples" && m.value.IsArray() && !m.value.Empty() &&
                 !in.HasMember("example")) {
        add(out, "example", Value(m.value[0], a_), a_);
      } else if ((key == "exclusiveMaximum" || key == "exclusiveMinimum") && m.value.IsNumber()) {
        // Draft 6+: the bound itself; 3.0: a flag on maximum/minimum.
        add(out, key == "exclusiveMaximum" ? "maximum" : "minimum", Value(m.value, a_), a_);
        add(out, key, Value(true), a_);
      } else if (key == "properties" && m.value.IsObject()) {
        Value props = object();
        for (const auto& p : m.value.GetObject()) {
          add(props, p.name.GetString(), convert(p.value), a_);
        }
        add(out, key, std::move(props), a_);
      } else if (key == "items") {
        add(out, key, convert_items(m.value), a_);
      } else if (key == "additionalProperties" || key == "not") {
        add(out, key,
            m.value.IsBool() && key == "additionalProperties" ? Value(m.value.GetBool())
                                                              : convert(m.value),
            a_);
      } else if ((key == "allOf" || key == "anyOf" || key == "oneOf") && m.value.IsArray()) {
        Value list(rapidjson::kArrayType);
        for (const auto& s : m.value.GetArray()) list.PushBack(convert(s), a_);
        if (!list.Empty()) add(out, key, std::move(list), a_);
      } else if ((key == "required" || key == "enum") && m.value.IsArray()) {
        if (!m.value.Empty()) add(out, key, Value(m.value, a_), a_);
      } else if (kept_keywords().count(key) || key.rfind("x-", 0) == 0) {
        if (!out.HasMember(key.c_str())) add(out, key, Value(m.value, a_), a_);
      }
    }
    // 3.0 requires `items` on arrays.
    auto type = out.FindMember("type");
    if (type != out.MemberEnd() && type->value == "array" && !out.HasMember("items")) {
      add(out, "items", object(), a_);
    }
    return out;
  }

 private:
  Value not_anything() {
    Value v = object();
    add(v, "not", object(), a_);
    return v;
  }

  Value reference(const std::string& ref) {
    for (const char* local : {"#/$defs/", "#/definitions/"}) {
      if (ref.rfind(local, 0) == 0) {
        Value v = object();
        add(v, "$ref",
            "#/components/schemas/" + component_name(prefix_ + ref.substr(std::strlen(local))), a_);
        return v;
      }
    }
    return object();  // a reference outside the schema cannot be followed: any value
  }

  void convert_type(const Value& type, Value& out) {
    if (type.IsString()) {
      if (std::string(type.GetString()) == "null") {
        add(out, "nullable", Value(true), a_);
        Value only_null(rapidjson::kArrayType);
        only_null.PushBack(Value(), a_);
        add(out, "enum", std::move(only_null), a_);
      } else {
        add(out, "type", Value(type, a_), a_);
      }
      return;
    }
    if (!type.IsArray()) return;
    std::vector<std::string> types;
    for (const auto& t : type.GetArray()) {
      if (!t.IsString()) continue;
      std::string name = t.GetString();
      if (name == "null") {
        add(out, "nullable", Value(true), a_);
      } else {
        types.push_back(name);
      }
    }
    if (types.size() == 1) {
      add(out, "type", types[0], a_);
    } else if (types.size() > 1) {
      Value any(rapidjson::kArrayType);
      for (const auto& t : types) {
        Value alt = object();
        add(alt, "type", t, a_);
        if (t == "array") add(alt, "items", object(), a_);
        any.PushBack(alt, a_);
      }
      add(out, "anyOf", std::move(any), a_);
    }
  }

  Value convert_items(const Value& items) {
    if (!items.IsArray()) return convert(items);
    // Tuple form (draft-04 items list) has no 3.0 equivalent: any of the listed schemas.
    Value any(rapidjson::kArrayType);
    for (const auto& s : items.GetArray()) any.PushBack(convert(s), a_);
    Value v = object();
    if (!any.Empty()) add(v, "anyOf", std::move(any), a_);
    return v;
  }

  std::string prefix_;
  Value& components_;
  Alloc& a_;
};

// ---- paths -----------------------------------------------------------------------------------

std::vector<std::string> path_params(const std::string& pattern) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start < pattern.size()) {
    size_t slash = pattern.find('/', start);
    if (slash == std::string::npos) slash = pattern.size();
    std::string seg = pattern.substr(start, slash - start);
    if (seg.size() > 1 && seg[0] == ':') names.push_back(seg.substr(1));
    if (seg == "*") names.push_back("rest");
    start = slash + 1;
  }
  return names;
}

std::string operation_id(const std::string& plugin, const std::string& method,
                         const std::string& pattern, std::set<std::string>& used) {
  std::string id = (plugin.empty() ? "host" : plugin) + "_" + method + "_";
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (char c : pattern) {
    id += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  }
  std::string base;
  for (char c : id) {  // collapse runs of '_' and drop a trailing one
    if (c == '_' && !base.empty() && base.back() == '_') continue;
    base += c == '-' ? '_' : c;
  }
  while (!base.empty() && base.back() == '_') base.pop_back();
  std::string unique = base;
  for (int n = 2; used.count(unique); ++n) unique = base + "_" + std::to_string(n);
  used.insert(unique);
  return unique;
}

Value response_ref(const char* name, Alloc& a) {
  Value v = object();
  add(v, "$ref", std::string("#/components/responses/") + name, a);
  return v;
}

Value json_content(Value schema, Alloc& a) {
  Value media = object();
  add(media, "schema", std::move(schema), a);
  Value content = object();
  add(content, "application/json", std::move(media), a);
  return content;
}

Value media_of(const std::string& type, Value schema, Alloc& a) {
  Value media = object();
  add(media, "schema", std::move(schema), a);
  Value content = object();
  add(content, type, std::move(media), a);
  return content;
}

Value typed(const char* type, Alloc& a) {
  Value v = object();
  add(v, "type", std::string(type), a);
  return v;
}

// Parses a schema a plugin declared and converts it; nullopt-like (null Value) when unusable.
Value plugin_schema(const std::string& schema_text, const std::string& prefix, Value& components,
                    Alloc& a) {
  if (schema_text.empty()) return Value();
  rapidjson::Document in;
  in.Parse(schema_text.c_str());
  if (in.HasParseError() || !in.IsObject()) return Value();
  SchemaConverter converter(prefix, components, a);
  return converter.convert(in);
}

struct Operation {
  std::string plugin;  // "" for the host
  std::string method;
  std::string pattern;
  std::string summary;
  std::string description;
  std::string permission;
  std::string rate_class;
  std::string request_schema;
  std::string response_schema;
  std::string response_type = "application/json";
  std::string success = "200";  // plugins do not declare theirs: "2XX"
};

class Builder {
 public:
  Builder(const Config& config, Alloc& a) : config_(config), a_(a) {}

  Value operation(const Operation& op, Value& components_schemas) {
    Value o = object();
    add(o, "operationId", operation_id(op.plugin, op.method, op.pattern, used_ids_), a_);
    if (!op.summary.empty()) add(o, "summary", op.summary, a_);
    std::string description = op.description;
    bool is_public = op.permission == PH_PERMISSION_PUBLIC;
    if (!is_public && config_.auth.enabled) {
      std::string perm = op.permission.empty() ? PH_PERMISSION_AUTHENTICATED : op.permission;
      description +=
          std::string(description.empty() ? "" : "\n\n") +
          (perm == PH_PERMISSION_AUTHENTICATED ? "Requires a signed-in principal."
                                               : "Requires the permission `" + perm + "`.");
    }
    if (!description.empty()) add(o, "description", description, a_);
    Value tags(rapidjson::kArrayType);
    tags.PushBack(text(op.plugin.empty() ? "host" : op.plugin, a_), a_);
    add(o, "tags", std::move(tags), a_);

    std::vector<std::string> names = path_params(op.pattern);
    if (!names.empty()) {
      Value params(rapidjson::kArrayType);
      for (const auto& n : names) {
        Value p = object();
        add(p, "name", n, a_);
        add(p, "in", std::string("path"), a_);
        add(p, "required", Value(true), a_);
        if (n == "rest") add(p, "description", std::string("The rest of the path."), a_);
        add(p, "schema", typed("string", a_), a_);
        params.PushBack(p, a_);
      }
      add(o, "parameters", std::move(params), a_);
    }
    std::string prefix = (op.plugin.empty() ? std::string("host") : op.plugin) + ".";
    Value request = plugin_schema(op.request_schema, prefix, components_schemas, a_);
    if (!request.IsNull()) {
      Value body = object();
      add(body, "required", Value(true), a_);
      add(body, "content", json_content(std::move(request), a_), a_);
      add(o, "requestBody", std::move(body), a_);
    }

    Value responses = object();
    Value ok = object();
    add(ok, "description", std::string("Success."), a_);
    Value response = plugin_schema(op.response_schema, prefix, components_schemas, a_);
    if (!response.IsNull()) {
      add(ok, "content", media_of(op.response_type, std::move(response), a_), a_);
    }
    add(responses, op.success, std::move(ok), a_);
    if (!is_public && config_.auth.enabled) {
      add(responses, "401", response_ref("Unauthorized", a_), a_);
      if (op.permission != PH_PERMISSION_AUTHENTICATED && !op.permission.empty()) {
        add(responses, "403", response_ref("Forbidden", a_), a_);
      }
    }
    std::string cls = resolved_rate_class(op);
    if (!cls.empty()) add(responses, "429", response_ref("RateLimited", a_), a_);
    add(responses, "default", response_ref("Error", a_), a_);
    add(o, "responses", std::move(responses), a_);

    if (config_.auth.enabled) {
      Value security(rapidjson::kArrayType);
      if (!is_public) {
        for (const char* scheme : {"sessionCookie", "bearerAuth", "apiKey"}) {
          Value req = object();
          add(req, scheme, Value(rapidjson::kArrayType), a_);
          security.PushBack(req, a_);
        }
      }
      add(o, "security", std::move(security), a_);
    }
    add(o, "x-plughost-permission",
        op.permission.empty() ? std::string(PH_PERMISSION_AUTHENTICATED) : op.permission, a_);
    if (!op.plugin.empty()) {
      Value rate = object();
      add(rate, "class", cls.empty() ? std::string("none") : cls, a_);
      if (!cls.empty()) {
        const RateClass& rc = config_.rate_limits.classes.at(cls);
        add(rate, "limit", Value(static_cast<int64_t>(rc.limit)), a_);
        add(rate, "window_seconds", Value(rc.window_seconds), a_);
      }
      add(o, "x-plughost-rate-limit", std::move(rate), a_);
    }
    return o;
  }

 private:
  // The class a route is counted against, or "" when it is not limited.
  std::string resolved_rate_class(const Operation& op) const {
    const RateLimitConfig& rl = config_.rate_limits;
    if (op.plugin.empty() || !rl.enabled || op.rate_class == "none") return "";
    std::string cls = op.rate_class.empty() || !rl.classes.count(op.rate_class) ? rl.default_class
                                                                                : op.rate_class;
    if (cls == "none" || !rl.classes.count(cls)) return "";
    return cls;
  }

  const Config& config_;
  Alloc& a_;
  std::set<std::string> used_ids_;
};

std::vector<Operation> host_operations(const OpenApiHostRoutes& host_routes) {
  std::vector<Operation> ops;
  auto host_op = [&](const char* path, const char* summary, const char* permission,
                     const char* type, const char* schema) {
    Operation op;
    op.method = "get";
    op.pattern = path;
    op.summary = summary;
    op.permission = permission;
    op.response_type = type;
    op.response_schema = schema;
    ops.push_back(op);
  };
  host_op("/healthz", "Liveness: the process answers", PH_PERMISSION_PUBLIC, "application/json",
          R"({"type":"object","required":["status"],"properties":{"status":{"type":"string",)"
          R"("enum":["ok"]}}})");
  host_op("/readyz", "Readiness: storage and every enabled plugin (503 while draining or degraded)",
          PH_PERMISSION_PUBLIC, "application/json",
          R"({"type":"object","required":["status","checks"],"properties":{"status":{"type":)"
          R"("string","enum":["ready","not_ready"]},"checks":{"type":"array","items":{"type":)"
          R"("object","required":["name","status"],"properties":{"name":{"type":"string"},)"
          R"("status":{"type":"string"},"error":{"type":"string"}}}}}})");
  host_op("/metrics", "Prometheus metrics (text exposition format 0.0.4)", PH_PERMISSION_PUBLIC,
          "text/plain", R"({"type":"string"})");
  host_op("/openapi.json", "This document", PH_PERMISSION_PUBLIC, "application/json",
          R"({"type":"object"})");
  if (host_routes.docs_ui) {
    host_op("/api/docs", "Swagger UI for this document", PH_PERMISSION_PUBLIC, "text/html",
            R"({"type":"string"})");
    host_op("/api/redoc", "ReDoc for this document", PH_PERMISSION_PUBLIC, "text/html",
            R"({"type":"string"})");
  }
  Operation stream;
  stream.method = "get";
  stream.pattern = "/api/events/stream";
  stream.summary = "Server-Sent Events: host and plugin events matching ?types=a,b_*";
  stream.permission = PH_PERMISSION_AUTHENTICATED;
  stream.response_type = "text/event-stream";
  stream.response_schema = R"({"type":"string"})";
  ops.push_back(stream);
  return ops;
}

Value components(const Config& config, Alloc& a) {
  Value c = object();
  Value schemas = object();
  rapidjson::Document envelope;
  envelope.Parse(
      R"({"type":"object","required":["error"],"properties":{"error":{"type":"object",)"
      R"("required":["code","message","trace_id"],"properties":{"code":{"type":"string",)"
      R"("example":"NOT_FOUND"},"message":{"type":"string"},"details":{"type":"array",)"
      R"("items":{"type":"object","properties":{"field":{"type":"string"},"message":{"type":)"
      R"("string"}}}},"trace_id":{"type":"string"}}}}})");
  add(schemas, "ErrorEnvelope", Value(envelope, a), a);
  add(c, "schemas", std::move(schemas), a);

  Value responses = object();
  auto error_response = [&](const char* name, const char* description) {
    Value r = object();
    add(r, "description", std::string(description), a);
    Value ref = object();
    add(ref, "$ref", std::string("#/components/schemas/ErrorEnvelope"), a);
    add(r, "content", json_content(std::move(ref), a), a);
    add(responses, name, std::move(r), a);
  };
  error_response("Error", "Error in the host's envelope (a plugin may use its own format).");
  error_response("Unauthorized", "No valid credentials.");
  error_response("Forbidden", "The principal lacks the route's permission.");
  error_response("RateLimited",
                 "Over the route's rate class; see Retry-After and X-RateLimit-* headers.");
  add(c, "responses", std::move(responses), a);

  if (config.auth.enabled) {
    // The session cookie is set by the sign-in plugin; its name is that plugin's `cookie_name`.
    std::string cookie = "dango_session";
    for (const auto& pc : config.plugins) {
      rapidjson::Document d;
      d.Parse(pc.config_json.c_str());
      if (pc.enabled && !d.HasParseError() && d.IsObject() && d.HasMember("cookie_name") &&
          d["cookie_name"].IsString()) {
        cookie = d["cookie_name"].GetString();
      }
    }
    Value schemes = object();
    Value session = object();
    add(session, "type", std::string("apiKey"), a);
    add(session, "in", std::string("cookie"), a);
    add(session, "name", cookie, a);
    add(session, "description",
        "Session cookie from signing in. Unsafe methods also need the CSRF token (cookie `" +
            config.auth.csrf_cookie + "` echoed in `" + config.auth.csrf_header +
            "`) or an X-Requested-With header.",
        a);
    add(schemes, "sessionCookie", std::move(session), a);
    Value bearer = object();
    add(bearer, "type", std::string("http"), a);
    add(bearer, "scheme", std::string("bearer"), a);
    add(bearer, "description", std::string("Access token or API key as a bearer token."), a);
    add(schemes, "bearerAuth", std::move(bearer), a);
    Value key = object();
    add(key, "type", std::string("apiKey"), a);
    add(key, "in", std::string("header"), a);
    add(key, "name", std::string("X-API-Key"), a);
    add(schemes, "apiKey", std::move(key), a);
    add(c, "securitySchemes", std::move(schemes), a);
  }
  return c;
}

const char* http_method_key(const std::string& method) {
  static const std::map<std::string, const char*> keys = {
      {"GET", "get"},         {"PUT", "put"},   {"POST", "post"},   {"DELETE", "delete"},
      {"OPTIONS", "options"}, {"HEAD", "head"}, {"PATCH", "patch"}, {"TRACE", "trace"}};
  auto it = keys.find(method);
  return it == keys.end() ? nullptr : it->second;
}

}  // namespace

std::string openapi_path(const std::string& pattern) {
  std::string out;
  size_t start = 0;
  while (start < pattern.size()) {
    size_t slash = pattern.find('/', start);
    if (slash == std::string::npos) slash = pattern.size();
    std::string seg = pattern.substr(start, slash - start);
    if (seg.size() > 1 && seg[0] == ':') {
      out += "{" + seg.substr(1) + "}";
    } else if (seg == "*") {
      out += "{rest}";
    } else {
      out += seg;
    }
    if (slash < pattern.size()) out += '/';
    start = slash + 1;
  }
  return out;
}

std::string openapi_document(const PluginSet& plugins, const Config& config,
                             const OpenApiHostRoutes& host_routes) {
  rapidjson::Document doc(rapidjson::kObjectType);
  Alloc& a = doc.GetAllocator();
  add(doc, "openapi", std::string("3.0.3"), a);
  Value info = object();
  add(info, "title", std::string("plughost"), a);
  add(info, "version", std::string(PLUGHOST_VERSION), a);
  add(info, "description",
      std::string("Every route of this host: its own (tag `host`) and those of each running "
                  "plugin (one tag per plugin). Errors use the envelope "
                  "`{\"error\":{\"code\",\"message\",\"details\",\"trace_id\"}}` unless a "
                  "plugin declares its own. `x-plughost-permission` names the permission a "
                  "route needs; `x-plughost-rate-limit` its rate class."),
      a);
  add(doc, "info", std::move(info), a);
  Value servers(rapidjson::kArrayType);
  Value server = object();
  add(server, "url", std::string("/"), a);
  servers.PushBack(server, a);
  add(doc, "servers", std::move(servers), a);

  Value tags(rapidjson::kArrayType);
  Value host_tag = object();
  add(host_tag, "name", std::string("host"), a);
  add(host_tag, "description", std::string("Routes of the host itself."), a);
  tags.PushBack(host_tag, a);
  for (const auto& p : plugins.plugins()) {
    if (p->status != PluginStatus::kRunning) continue;
    Value t = object();
    add(t, "name", p->name, a);
    add(t, "description", p->description + " (" + p->version + ", " + p->stability + ")", a);
    tags.PushBack(t, a);
  }

  Value comps = components(config, a);
  Value& schemas = comps["schemas"];
  Builder builder(config, a);
  // Paths keep the route table's order (host routes first); methods within a path likewise.
  std::vector<std::pair<std::string, Value>> paths;
  auto path_item = [&](const std::string& path) -> Value& {
    for (auto& [p, v] : paths) {
      if (p == path) return v;
    }
    paths.emplace_back(path, object());
    return paths.back().second;
  };
  for (const auto& op : host_operations(host_routes)) {
    Value o = builder.operation(op, schemas);
    add(path_item(op.pattern), op.method, std::move(o), a);
  }
  for (const auto& r : plugins.registry().routes()) {
    const char* key = http_method_key(r.method);
    if (!key) continue;
    Value& item = path_item(openapi_path(r.pattern));
    if (item.HasMember(key)) continue;
    Operation op;
    op.plugin = r.plugin;
    op.method = r.method;
    op.pattern = r.pattern;
    op.summary = r.summary;
    op.permission = r.permission;
    op.rate_class = r.rate_class;
    op.request_schema = r.request_schema;
    op.response_schema = r.response_schema;
    op.success = "2XX";
    Value o = builder.operation(op, schemas);
    add(item, key, std::move(o), a);
  }
  Value paths_obj = object();
  for (auto& [p, v] : paths) add(paths_obj, p, std::move(v), a);
  add(doc, "paths", std::move(paths_obj), a);
  add(doc, "components", std::move(comps), a);
  add(doc, "tags", std::move(tags), a);

  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace plughost
