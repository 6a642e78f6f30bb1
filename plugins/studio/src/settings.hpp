// settings.hpp — the studio plugin's validated `config:` block as a plain struct.
// Read once in init; immutable afterwards, so handlers may share it across threads.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <vector>

namespace studio {

// Studio's own origin list (NOTES), applied by the plugin only when the operator set no
// `allowed_origins` for it in the host config (then the host enforces that list instead).
inline const std::vector<std::string>& default_allowed_origins() {
  static const std::vector<std::string> kOrigins = {"https://studio.aksara.dev",
                                                    "http://localhost:3000"};
  return kOrigins;
}

struct Settings {
  std::string project_name = "plughost";
  std::string project_version = "0.1.0";
  std::string environment = "production";
  bool debug = false;
  std::string auth_token;             // empty: no bearer token required
  std::string permission = "public";  // host permission of every studio route
};

// Reads the config block (defaults applied by the host); missing keys keep the defaults above.
Settings read_settings(const rapidjson::Value& config);

// The origins the plugin must check itself: nullopt when the host enforces an allow-list for the
// plugin (`plugins.<plugin>.allowed_origins` present in the host's settings JSON), else Studio's
// default list.
std::optional<std::vector<std::string>> self_checked_origins(const rapidjson::Value& host_settings,
                                                             const std::string& plugin);

}  // namespace studio
