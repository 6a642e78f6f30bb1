// presets.hpp — the read-only command presets and djdesk's allow-list check
// (INSPECTOR_SAFE_COMMANDS): a command runs only if, shell-split and re-joined with single
// spaces, it equals an allowed entry or starts with one followed by a space.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inspector {

struct Preset {
  std::string key;
  std::string label;
  std::string command;  // "python manage.py showmigrations"
  std::string description;
  double timeout_seconds = 0;  // 0: the plugin's default
};

// djdesk's presets, in its order, plus `makemigrations --check --dry-run`.
std::vector<Preset> builtin_presets();
// The built-in allow-list: one entry per built-in command.
std::vector<std::string> builtin_safe_commands();

// POSIX shell-style split (quotes and backslashes, no expansion); nullopt when quotes do not
// close. Never runs a shell.
std::optional<std::vector<std::string>> shell_split(std::string_view command);

struct SafeCommand {
  std::vector<std::string> args;  // the split command: "python", "manage.py", …
  std::string safe_prefix;        // the allow-list entry it matched, normalised
  std::string error;              // djdesk's message when refused
  bool ok() const { return error.empty(); }
};

// Checks `command` against `allow_list`. Errors: "Unable to parse command string." and
// "Command is not part of INSPECTOR_SAFE_COMMANDS.".
SafeCommand check_safe_command(std::string_view command,
                               const std::vector<std::string>& allow_list);

}  // namespace inspector
