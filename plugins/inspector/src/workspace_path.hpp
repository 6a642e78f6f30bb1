// workspace_path.hpp — validates a workspace directory the way djdesk's command runner did,
// with its exact messages ("Workspace path does not exist." …).
#pragma once

#include <string>

namespace inspector {

struct PathCheck {
  std::string resolved;  // canonical absolute path when ok()
  std::string error;     // djdesk's message otherwise
  bool ok() const { return error.empty(); }
};

// Expands a leading "~", resolves symlinks, and requires a directory holding manage.py.
PathCheck resolve_workspace_path(const std::string& raw);

}  // namespace inspector
