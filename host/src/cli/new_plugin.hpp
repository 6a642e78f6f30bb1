// new_plugin.hpp — `plughost new-plugin NAME DIR`: writes a complete plugin project (CMake,
// config schema, a route and a connector, a test against the real host, README) that builds
// against the installed SDK.
#pragma once

#include <string>

namespace plughost {

// Writes the project into `dir` (created; must not exist or be empty). Returns "" or an error.
std::string write_plugin_project(const std::string& name, const std::string& dir);

// [a-z][a-z0-9_]* up to 64 characters: a plugin name that is also a C++ and CMake identifier.
bool valid_new_plugin_name(const std::string& name);

}  // namespace plughost
