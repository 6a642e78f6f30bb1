#include "demo_database.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace datachat {

bool ensure_demo_database(const std::string& path, const std::string& today) {
  namespace fs = std::filesystem;
  if (fs::exists(path)) return false;
  fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  std::string tmp = path + ".building-" + std::to_string(::getpid());
  fs::remove(tmp);
  std::string script = kDemoShopSql;
  for (size_t at; (at = script.find("{{TODAY}}")) != std::string::npos;) {
    script.replace(at, 9, today);
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(tmp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  char* error = nullptr;
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db, ("BEGIN;" + script + ";COMMIT;").c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : (db ? sqlite3_errmsg(db) : "out of memory");
  sqlite3_free(error);
  sqlite3_close(db);
  if (rc != SQLITE_OK) {
    fs::remove(tmp);
    throw std::runtime_error("cannot build the demo database " + path + ": " + message);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp);
    if (!fs::exists(path))
      throw std::runtime_error("cannot place the demo database: " + ec.message());
    return false;  // another process built it first
  }
  return true;
}

}  // namespace datachat
