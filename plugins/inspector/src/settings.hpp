// settings.hpp — the inspector's validated configuration: workspaces (Django projects on disk),
// presets and their allow-list, doc links, limits and scan schedule.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "presets.hpp"

namespace inspector {

struct DocLink {
  std::string title;
  std::string url;
  std::string icon;
  std::string pane_target;
  std::string description;
};

struct Workspace {
  std::string slug;
  std::string name;
  std::string path;  // canonical, checked at start (and again before each run)
  std::string python;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<DocLink> doc_links;
};

struct Settings {
  std::vector<Workspace> workspaces;
  std::vector<DocLink> doc_links;
  std::vector<Preset> presets;             // built-ins first, then the operator's
  std::vector<std::string> safe_commands;  // built-ins plus `safe_commands`
  double timeout_seconds = 60;
  size_t max_output_bytes = 1 << 20;
  size_t max_output_lines = 5000;
  double scan_timeout_seconds = 120;
  bool scan_on_start = true;
  std::string scan_cron = "0 * * * *";
  std::string scan_timezone;
  bool data_lab_live = false;

  const Workspace* workspace(std::string_view slug) const;
  const Preset* preset(std::string_view key) const;
  double timeout_for(const Preset& preset) const {
    return preset.timeout_seconds > 0 ? preset.timeout_seconds : timeout_seconds;
  }
};

// Reads the plugin's config (already schema-validated by the host). Throws std::invalid_argument
// naming the workspace when a workspace path is unusable or a slug repeats.
Settings load_settings(const rapidjson::Value& config);

// True for a slug the API accepts: [-a-zA-Z0-9_]{1,140} (Django's slug converter).
bool valid_slug(std::string_view slug);

}  // namespace inspector
