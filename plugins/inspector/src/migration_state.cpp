#include "migration_state.hpp"

#include <dirent.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "text.hpp"

namespace inspector {

std::vector<std::string> migration_files(const std::string& directory) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(directory.c_str()), closedir);
  if (!dir) return out;
  while (dirent* e = readdir(dir.get())) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '_' || name[0] == '~' || name[0] == '.') continue;
    std::string full = directory + "/" + name;
    struct stat st {};
    if (stat(full.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      struct stat init {};
      if (stat((full + "/__init__.py").c_str(), &init) == 0) out.push_back(name);
    } else if (name.size() > 3 && name.compare(name.size() - 3, 3, ".py") == 0) {
      out.push_back(name.substr(0, name.size() - 3));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

AppliedRead read_applied_sqlite(const std::string& database_path) {
  AppliedRead out;
  struct stat st {};
  if (stat(database_path.c_str(), &st) != 0) {
    out.applied.emplace();  // no database yet: nothing applied
    return out;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(database_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  if (rc != SQLITE_OK) {
    out.error = std::string("cannot open ") + database_path + ": " +
                (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return out;
  }
  sqlite3_busy_timeout(db.get(), 2000);
  sqlite3_stmt* stmt_raw = nullptr;
  rc = sqlite3_prepare_v2(db.get(), "SELECT app, name FROM django_migrations", -1, &stmt_raw,
                          nullptr);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(stmt_raw, sqlite3_finalize);
  if (rc != SQLITE_OK) {
    std::string message = sqlite3_errmsg(db.get());
    if (message.find("no such table") != std::string::npos) {
      out.applied.emplace();  // never migrated
    } else {
      out.error = "cannot read django_migrations: " + message;
    }
    return out;
  }
  AppliedMigrations applied;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    auto text = [&](int col) {
      const unsigned char* t = sqlite3_column_text(stmt.get(), col);
      return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
    };
    applied[text(0)].insert(text(1));
  }
  if (rc != SQLITE_DONE) {
    out.error = std::string("cannot read django_migrations: ") + sqlite3_errmsg(db.get());
    return out;
  }
  out.applied = std::move(applied);
  return out;
}

AppliedMigrations parse_showmigrations(const std::vector<std::string>& lines) {
  AppliedMigrations out;
  std::string app;
  for (const auto& raw : lines) {
    if (raw.empty()) continue;
    if (raw[0] != ' ') {
      app = std::string(trim(raw));
      continue;
    }
    std::string_view line = trim(raw);
    if (line.rfind("[X]", 0) == 0 && !app.empty()) {
      std::string_view name = trim(line.substr(3));
      size_t space = name.find(' ');  // "0001_initial (2 squashed migrations)"
      out[app].insert(std::string(name.substr(0, space)));
    }
  }
  return out;
}

}  // namespace inspector
