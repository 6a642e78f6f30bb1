#include "identity/identity.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <plughost/json.hpp>

#include "plugin/loader.hpp"
#include "plugin/registry.hpp"

namespace plughost {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_list(Writer& w, const std::vector<std::string>& items) {
  w.StartArray();
  for (const auto& s : items) write_str(w, s);
  w.EndArray();
}

std::string input_json(const std::string& scheme, const Credentials& c) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("scheme");
  write_str(w, scheme);
  if (scheme == "session") {
    w.Key("cookies");
    w.StartObject();
    for (const auto& [name, value] : c.cookies) {
      write_str(w, name);
      write_str(w, value);
    }
    w.EndObject();
  } else {
    w.Key("credential");
    write_str(w, scheme == "bearer" ? *c.bearer : *c.api_key);
  }
  w.Key("remote_address");
  write_str(w, c.remote_address);
  w.Key("user_agent");
  write_str(w, c.user_agent);
  w.Key("method");
  write_str(w, c.method);
  w.Key("path");
  write_str(w, c.path);
  w.Key("tenant");
  write_str(w, c.tenant);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::vector<std::string> string_list(const rapidjson::Value& v) {
  std::vector<std::string> out;
  if (!v.IsArray()) return out;
  for (const auto& item : v.GetArray()) {
    if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

std::string string_member(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return "";
  if (it->value.IsString()) return std::string(it->value.GetString(), it->value.GetStringLength());
  if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
  return "";
}

// The principal object handlers see: what the authenticator said, with the host's resolved
// members written over it.
std::string principal_json(const rapidjson::Value* from, const Principal& p, bool auth_enabled,
                           const std::string& tenant) {
  rapidjson::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  if (from && from->IsObject()) doc.CopyFrom(*from, a);
  auto set = [&](const char* key, rapidjson::Value value) {
    doc.RemoveMember(key);
    doc.AddMember(rapidjson::StringRef(key), value, a);
  };
  auto str = [&](const std::string& s) {
    return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
  };
  set("kind", str(p.kind));
  set("id", str(p.id));
  if (!doc.HasMember("roles")) set("roles", rapidjson::Value(rapidjson::kArrayType));
  rapidjson::Value perms(rapidjson::kArrayType);
  for (const auto& s : p.permissions) perms.PushBack(str(s), a);
  set("permissions", std::move(perms));
  set("partial", rapidjson::Value(p.partial));
  set("scheme", str(p.scheme));
  set("tenant", str(tenant));
  set("auth_enabled", rapidjson::Value(auth_enabled));
  return sdk::to_json(doc);
}

}  // namespace

std::string Principal::rate_key(const std::string& remote_address) const {
  if (signed_in()) return kind + ":" + id;
  return "ip:" + remote_address;
}

bool permission_granted(const std::vector<std::string>& held, std::string_view wanted) {
  for (const auto& p : held) {
    if (p == "*" || p == wanted) return true;
    // "source.*" covers "source.sync" (and "source.x.y"), never "sources.x".
    if (p.size() >= 2 && p.compare(p.size() - 2, 2, ".*") == 0 && wanted.size() > p.size() - 1 &&
        wanted.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) {
      return true;
    }
  }
  return false;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

bool valid_tenant_id(std::string_view tenant) {
  if (tenant.empty() || tenant.size() > 64) return false;
  return std::all_of(tenant.begin(), tenant.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' ||
           c == '-';
  });
}

Identity::Identity(const AuthConfig& config, const Registry& registry, Logger& log)
    : config_(config), log_(log) {
  if (config_.authenticators.empty()) {
    for (const auto& c : registry.connectors()) {
      if (c.kind == "authenticator") authenticators_.push_back(&c);
    }
  } else {
    for (const auto& name : config_.authenticators) {
      if (const ConnectorEntry* c = registry.find_connector("authenticator", name)) {
        authenticators_.push_back(c);
      } else {
        log_.error("identity", "auth.authenticators names an authenticator no plugin registered",
                   {{"authenticator", name}});
      }
    }
  }
  if (config_.enabled && authenticators_.empty()) {
    log_.warn("identity",
              "auth is enabled but no authenticator is registered: only public routes can be "
              "reached (enable the accounts plugin, or set auth.enabled: false)");
  }
  anonymous_json_ = anonymous(Credentials{}).json;
}

std::vector<std::string> Identity::permissions_of(const std::vector<std::string>& roles) const {
  std::vector<std::string> out;
  for (const auto& role : roles) {
    auto it = config_.roles.find(role);
    if (it == config_.roles.end()) continue;
    for (const auto& p : it->second) {
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
  }
  return out;
}

Principal Identity::anonymous(const Credentials& c) const {
  Principal p;
  if (!config_.enabled) p.permissions = {"*"};  // auth off: everyone is an anonymous admin
  p.json = c.tenant.empty() && !anonymous_json_.empty()
               ? anonymous_json_
               : principal_json(nullptr, p, config_.enabled, c.tenant);
  return p;
}

std::optional<Principal> Identity::ask(const ConnectorEntry& authenticator,
                                       const std::string& scheme, const std::string& input,
                                       const Credentials& c) const {
  ph_buffer output;
  char message[512] = {0};
  ph_error err{sizeof(ph_error), message, sizeof(message)};
  int rc = authenticator.invoke(authenticator.user_data, ph_str{"authenticate", 12},
                                ph_str{input.data(), input.size()}, &output, &err);
  if (rc != PH_OK) {
    log_.warn("identity", "authenticator failed; the credential is not accepted",
              {{"authenticator", authenticator.name}, {"scheme", scheme}, {"error", message}});
    return std::nullopt;
  }
  rapidjson::Document doc;
  doc.Parse(output.data.data(), output.data.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    log_.warn("identity", "authenticator answered something other than a JSON object",
              {{"authenticator", authenticator.name}});
    return std::nullopt;
  }
  auto it = doc.FindMember("principal");
  if (it == doc.MemberEnd() || !it->value.IsObject()) return std::nullopt;
  const rapidjson::Value& found = it->value;
  Principal p;
  p.kind = string_member(found, "kind");
  p.id = string_member(found, "id");
  if (p.kind.empty() || p.kind == "anonymous") p.kind = "user";
  p.scheme = scheme;
  auto partial = found.FindMember("partial");
  p.partial = partial != found.MemberEnd() && partial->value.IsBool() && partial->value.GetBool();
  auto explicit_perms = found.FindMember("permissions");
  if (explicit_perms != found.MemberEnd() && explicit_perms->value.IsArray()) {
    p.permissions = string_list(explicit_perms->value);
  } else {
    auto roles = found.FindMember("roles");
    if (roles != found.MemberEnd()) p.permissions = permissions_of(string_list(roles->value));
  }
  if (p.partial) p.permissions.clear();
  p.json = principal_json(&found, p, true, c.tenant);
  return p;
}

Principal Identity::resolve(const Credentials& c) const {
  if (!config_.enabled) return anonymous(c);
  for (const auto& scheme : config_.order) {
    bool offered = scheme == "session"  ? !c.cookies.empty()
                   : scheme == "bearer" ? c.bearer.has_value()
                                        : c.api_key.has_value();
    if (!offered) continue;
    std::string input = input_json(scheme, c);
    for (const ConnectorEntry* authenticator : authenticators_) {
      if (auto p = ask(*authenticator, scheme, input, c)) return *p;
    }
  }
  return anonymous(c);
}

Identity::Verdict Identity::authorize(const Principal& principal,
                                      std::string_view permission) const {
  if (permission == PH_PERMISSION_PUBLIC) return Verdict::kAllowed;
  if (!config_.enabled) return Verdict::kAllowed;
  if (!principal.signed_in()) return Verdict::kUnauthenticated;
  if (permission.empty() || permission == PH_PERMISSION_AUTHENTICATED) return Verdict::kAllowed;
  return permission_granted(principal.permissions, permission) ? Verdict::kAllowed
                                                               : Verdict::kForbidden;
}

std::string Identity::settings_json(const AuthConfig& config) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("enabled");
  w.Bool(config.enabled);
  w.Key("csrf_cookie");
  write_str(w, config.csrf_cookie);
  w.Key("csrf_header");
  write_str(w, config.csrf_header);
  w.Key("roles");
  w.StartObject();
  for (const auto& [role, perms] : config.roles) {
    write_str(w, role);
    write_list(w, perms);
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace plughost
