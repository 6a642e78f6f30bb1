// sample_project.hpp — the inspector tests' Django workspace: a copy of demo/workspace (apps
// studio.catalog and studio.ops, a foreign key across them, a management command that sleeps)
// in a temp dir, its SQLite database created by `manage.py migrate ops 0001`, so that
// catalog 0001 and ops 0001 are applied and catalog 0002 is pending.
#pragma once

#include <string>
#include <vector>

namespace inspector_test {

// An interpreter that can import Django (Debian's python3-django), or "" when there is none.
std::string django_python();

struct CommandOutput {
  int exit_code = -1;
  std::string output;
};
// Runs argv in `cwd` (no shell), stdout and stderr together.
CommandOutput run_command(const std::vector<std::string>& argv, const std::string& cwd);

// Creates the sample workspace under `parent` and returns its path; throws when it cannot.
std::string create_sample_project(const std::string& parent, const std::string& python);

// True while `pid` names a live (not zombie) process.
bool process_alive(int pid);

}  // namespace inspector_test
