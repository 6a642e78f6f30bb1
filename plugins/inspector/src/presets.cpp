#include "presets.hpp"

namespace inspector {
namespace {

std::optional<std::string> normalised(std::string_view command) {
  auto tokens = shell_split(command);
  if (!tokens) return std::nullopt;
  std::string out;
  for (const auto& t : *tokens) out += (out.empty() ? "" : " ") + t;
  return out;
}

}  // namespace

std::vector<Preset> builtin_presets() {
  return {
      {"showmigrations", "Diff migrations", "python manage.py showmigrations",
       "Compare applied vs. pending migrations across every Django app.", 0},
      {"check", "Run system checks", "python manage.py check",
       "Execute Django's `check` command to verify settings and models.", 0},
      {"diffsettings", "Diff settings", "python manage.py diffsettings",
       "Highlight settings that differ from Django's defaults.", 0},
      {"inspectdb", "Inspect database", "python manage.py inspectdb",
       "Reverse-engineer models from the connected database schema.", 0},
      {"sqlmigrate", "Show SQL for migrations", "python manage.py sqlmigrate core 0003",
       "Render the SQL of a migration as part of the inspection report.", 0},
      {"dumpdata", "Export fixtures", "python manage.py dumpdata --natural-foreign --indent=2",
       "Create JSON fixtures without mutating the project.", 0},
      {"makemigrations", "Check for model changes",
       "python manage.py makemigrations --check --dry-run",
       "Report model changes that have no migration yet, writing nothing.", 0},
  };
}

std::vector<std::string> builtin_safe_commands() {
  return {
      "python manage.py showmigrations",
      "python manage.py check",
      "python manage.py diffsettings",
      "python manage.py sqlmigrate",
      "python manage.py inspectdb",
      "python manage.py dumpdata",
      "python manage.py makemigrations --check --dry-run",
  };
}

std::optional<std::vector<std::string>> shell_split(std::string_view s) {
  std::vector<std::string> out;
  std::string token;
  bool in_token = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_token) out.push_back(std::move(token)), token.clear(), in_token = false;
      continue;
    }
    in_token = true;
    if (c == '\\') {
      if (i + 1 >= s.size()) return std::nullopt;  // shlex: "No escaped character"
      token += s[++i];
    } else if (c == '\'') {
      size_t close = s.find('\'', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      token.append(s.substr(i + 1, close - i - 1));
      i = close;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < s.size() && s[j] != '"'; ++j) {
        if (s[j] == '\\' && j + 1 < s.size() &&
            (s[j + 1] == '"' || s[j + 1] == '\\' || s[j + 1] == '$' || s[j + 1] == '`')) {
          ++j;
        }
        token += s[j];
      }
      if (j >= s.size()) return std::nullopt;
      i = j;
    } else {
      token += c;
    }
  }
  if (in_token) out.push_back(std::move(token));
  return out;
}

SafeCommand check_safe_command(std::string_view command,
                               const std::vector<std::string>& allow_list) {
  SafeCommand out;
  auto tokens = shell_split(command);
  if (!tokens) {
    out.error = "Unable to parse command string.";
    return out;
  }
  std::string joined;
  for (const auto& t : *tokens) joined += (joined.empty() ? "" : " ") + t;
  for (const auto& raw : allow_list) {
    auto safe = normalised(raw);
    if (!safe || safe->empty()) continue;
    if (joined == *safe || joined.rfind(*safe + " ", 0) == 0) {
      out.args = std::move(*tokens);
      out.safe_prefix = *safe;
      return out;
    }
  }
  out.error = "Command is not part of INSPECTOR_SAFE_COMMANDS.";
  return out;
}

}  // namespace inspector
