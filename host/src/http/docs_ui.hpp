// docs_ui.hpp — Swagger UI (/api/docs) and ReDoc (/api/redoc): the pages and their assets, read
// once from share/plughost/ui at start and served from memory with a strict CSP.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace plughost {

struct StaticAsset {
  std::string content_type;
  std::string body;
};

class DocsUi {
 public:
  // Where the assets are looked for: $PLUGHOST_UI_DIR, else <exe>/../share/plughost/ui (both the
  // build tree and an installed prefix have that layout).
  static std::string default_dir();
  // Reads every file the two pages need; nullopt (and `error` says which file) when one is missing.
  static std::optional<DocsUi> load(const std::string& dir, std::string& error);

  // Whether every file load() needs is present (without reading them).
  static bool available(const std::string& dir);

  // The asset served at `path` ("/api/docs", "/api/docs/assets/swagger-ui.css"…), or null.
  const StaticAsset* find(const std::string& path) const;

  // Content-Security-Policy for the pages: scripts and styles from the host only (the UIs set
  // inline style attributes, so styles also allow 'unsafe-inline'), no other origin at all.
  static const char* content_security_policy();

 private:
  std::map<std::string, StaticAsset> assets_;  // by request path
};

}  // namespace plughost
