#include "http/docs_ui.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace plughost {
namespace {

struct AssetFile {
  const char* path;  // request path
  const char* file;  // relative to the ui dir
  const char* content_type;
};

constexpr AssetFile kAssets[] = {
    {"/api/docs", "docs.html", "text/html; charset=utf-8"},
    {"/api/docs/assets/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js",
     "text/javascript; charset=utf-8"},
    {"/api/docs/assets/swagger-ui.css", "swagger-ui/swagger-ui.css", "text/css; charset=utf-8"},
    {"/api/docs/assets/favicon-32x32.png", "swagger-ui/favicon-32x32.png", "image/png"},
    {"/api/docs/assets/swagger-init.js", "swagger-init.js", "text/javascript; charset=utf-8"},
    {"/api/docs/assets/LICENSE", "swagger-ui/LICENSE", "text/plain; charset=utf-8"},
    {"/api/redoc", "redoc.html", "text/html; charset=utf-8"},
    {"/api/redoc/assets/redoc.standalone.js", "redoc/redoc.standalone.js",
     "text/javascript; charset=utf-8"},
    {"/api/redoc/assets/LICENSE", "redoc/LICENSE", "text/plain; charset=utf-8"},
};

}  // namespace

std::string DocsUi::default_dir() {
  if (const char* env = std::getenv("PLUGHOST_UI_DIR"); env && *env) return env;
  std::filesystem::path exe_dir = boost::dll::program_location().parent_path();
  return (exe_dir.parent_path() / "share" / "plughost" / "ui").string();
}

std::optional<DocsUi> DocsUi::load(const std::string& dir, std::string& error) {
  DocsUi ui;
  for (const auto& a : kAssets) {
    std::filesystem::path file = std::filesystem::path(dir) / a.file;
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      error = "cannot read " + file.string();
      return std::nullopt;
    }
    std::ostringstream body;
    body << in.rdbuf();
    ui.assets_[a.path] = StaticAsset{a.content_type, body.str()};
  }
  return ui;
}

bool DocsUi::available(const std::string& dir) {
  for (const auto& a : kAssets) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(std::filesystem::path(dir) / a.file, ec)) return false;
  }
  return true;
}

const StaticAsset* DocsUi::find(const std::string& path) const {
  auto it = assets_.find(path);
  return it == assets_.end() ? nullptr : &it->second;
}

const char* DocsUi::content_security_policy() {
  return "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
         "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
         "worker-src 'self' blob:; base-uri 'self'; form-action 'none'; frame-ancestors 'none'";
}

}  // namespace plughost
