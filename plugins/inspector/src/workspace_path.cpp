#include "workspace_path.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace inspector {
namespace {

std::string expand_home(const std::string& raw) {
  if (raw == "~" || raw.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home && *home) return std::string(home) + raw.substr(1);
  }
  return raw;
}

}  // namespace

PathCheck resolve_workspace_path(const std::string& raw) {
  PathCheck out;
  std::string candidate = expand_home(raw);
  char buffer[PATH_MAX];
  if (!::realpath(candidate.c_str(), buffer)) {
    out.error = errno == ENOENT || errno == ENOTDIR ? "Workspace path does not exist."
                : errno == EACCES                   ? "Permission denied for workspace path."
                                                    : "Unable to inspect workspace path.";
    return out;
  }
  std::string resolved(buffer);
  struct stat st {};
  if (::stat(resolved.c_str(), &st) != 0) {
    out.error = errno == EACCES ? "Permission denied for workspace path."
                                : "Unable to inspect workspace path.";
    return out;
  }
  if (!S_ISDIR(st.st_mode)) {
    out.error = "Workspace path must be a directory.";
    return out;
  }
  struct stat manage {};
  if (::stat((resolved + "/manage.py").c_str(), &manage) != 0) {
    out.error = "manage.py not found in workspace path.";
    return out;
  }
  out.resolved = resolved;
  return out;
}

}  // namespace inspector
