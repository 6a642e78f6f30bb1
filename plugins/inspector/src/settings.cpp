#include "settings.hpp"

#include <stdexcept>

#include "workspace_path.hpp"

namespace inspector {
namespace {

std::string string_member(const rapidjson::Value& object, const char* name,
                          const std::string& fallback = {}) {
  if (!object.IsObject()) return fallback;
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return fallback;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

double number_member(const rapidjson::Value& object, const char* name, double fallback) {
  auto it = object.FindMember(name);
  return it != object.MemberEnd() && it->value.IsNumber() ? it->value.GetDouble() : fallback;
}

bool bool_member(const rapidjson::Value& object, const char* name, bool fallback) {
  auto it = object.FindMember(name);
  return it != object.MemberEnd() && it->value.IsBool() ? it->value.GetBool() : fallback;
}

const rapidjson::Value* array_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it != object.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}

std::vector<DocLink> load_doc_links(const rapidjson::Value& object) {
  std::vector<DocLink> out;
  if (const auto* links = array_member(object, "doc_links")) {
    for (const auto& l : links->GetArray()) {
      out.push_back({string_member(l, "title"), string_member(l, "url"),
                     string_member(l, "icon", "book-open"), string_member(l, "pane_target"),
                     string_member(l, "description")});
    }
  }
  return out;
}

Workspace load_workspace(const rapidjson::Value& w) {
  Workspace ws;
  ws.slug = string_member(w, "slug");
  if (!valid_slug(ws.slug)) {
    throw std::invalid_argument("workspace slug \"" + ws.slug +
                                "\" must match [-a-zA-Z0-9_]{1,140}");
  }
  ws.name = string_member(w, "name");
  if (ws.name.empty()) ws.name = ws.slug;
  std::string configured = string_member(w, "path");
  PathCheck path = resolve_workspace_path(configured);
  if (!path.ok()) {
    throw std::invalid_argument("workspace \"" + ws.slug + "\" (path \"" + configured +
                                "\"): " + path.error);
  }
  ws.path = path.resolved;
  ws.python = string_member(w, "python", "python3");
  if (ws.python.empty()) ws.python = "python3";
  auto env = w.FindMember("env");
  if (env != w.MemberEnd() && env->value.IsObject()) {
    for (const auto& e : env->value.GetObject()) {
      if (e.value.IsString()) ws.env.emplace_back(e.name.GetString(), e.value.GetString());
    }
  }
  ws.doc_links = load_doc_links(w);
  return ws;
}

}  // namespace

bool valid_slug(std::string_view slug) {
  if (slug.empty() || slug.size() > 140) return false;
  for (char c : slug) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

const Workspace* Settings::workspace(std::string_view slug) const {
  for (const auto& w : workspaces) {
    if (w.slug == slug) return &w;
  }
  return nullptr;
}

const Preset* Settings::preset(std::string_view key) const {
  for (const auto& p : presets) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

Settings load_settings(const rapidjson::Value& config) {
  static const rapidjson::Value kEmpty(rapidjson::kObjectType);
  const rapidjson::Value& c = config.IsObject() ? config : kEmpty;
  Settings s;
  if (const auto* list = array_member(c, "workspaces")) {
    for (const auto& w : list->GetArray()) {
      Workspace ws = load_workspace(w);
      if (s.workspace(ws.slug)) {
        throw std::invalid_argument("workspace \"" + ws.slug + "\" is configured twice");
      }
      s.workspaces.push_back(std::move(ws));
    }
  }
  s.doc_links = load_doc_links(c);
  s.presets = builtin_presets();
  s.safe_commands = builtin_safe_commands();
  if (const auto* list = array_member(c, "safe_commands")) {
    for (const auto& entry : list->GetArray()) {
      if (entry.IsString()) s.safe_commands.emplace_back(entry.GetString());
    }
  }
  if (const auto* list = array_member(c, "presets")) {
    for (const auto& p : list->GetArray()) {
      Preset preset{string_member(p, "key"), string_member(p, "label"), string_member(p, "command"),
                    string_member(p, "description"), number_member(p, "timeout_seconds", 0)};
      bool replaced = false;
      for (auto& existing : s.presets) {
        if (existing.key == preset.key) existing = preset, replaced = true;
      }
      if (!replaced) s.presets.push_back(std::move(preset));
    }
  }
  s.timeout_seconds = number_member(c, "timeout_seconds", 60);
  s.max_output_bytes = static_cast<size_t>(number_member(c, "max_output_bytes", 1 << 20));
  s.max_output_lines = static_cast<size_t>(number_member(c, "max_output_lines", 5000));
  s.scan_timeout_seconds = number_member(c, "scan_timeout_seconds", 120);
  s.scan_on_start = bool_member(c, "scan_on_start", true);
  s.scan_cron = string_member(c, "scan_cron", "0 * * * *");
  s.scan_timezone = string_member(c, "scan_timezone");
  s.data_lab_live = bool_member(c, "data_lab_live", false);
  return s;
}

}  // namespace inspector
