// Fuzzes the SDK's read-only guard with arbitrary SQL against a WAL-mode SQLite file: whatever
// the text, run() returns or throws one of its three exceptions, and the database and its folder
// are unchanged afterwards (the data_version a second connection sees, the files beside it).
// outline() runs on the same text and keeps its invariants.
#include <sqlite3.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <plughost/read_only_query.hpp>
#include <set>
#include <string>

namespace {

namespace ro = plughost::readonly;

struct Fixture {
  std::string dir;
  std::string path;
  sqlite3* watcher = nullptr;  // holds the file open as the warehouse pool does
  Fixture() {
    char tmpl[] = "/tmp/plughost-fuzz-ro-XXXXXX";
    if (!mkdtemp(tmpl)) __builtin_trap();
    dir = tmpl;
    path = dir + "/wh.db";
    if (sqlite3_open(path.c_str(), &watcher) != SQLITE_OK) __builtin_trap();
    const char* setup =
        "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v REAL);"
        "INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', NULL), (3, 'c', -2);"
        "CREATE VIEW tv AS SELECT id, name FROM t; CREATE INDEX t_name ON t (name);";
    if (sqlite3_exec(watcher, setup, nullptr, nullptr, nullptr) != SQLITE_OK) __builtin_trap();
  }
  int64_t data_version() const {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(watcher, "PRAGMA data_version", -1, &st, nullptr);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
  }
  std::set<std::string> files() const {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      out.insert(e.path().filename().string());
    }
    return out;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  static Fixture fixture;
  static const std::set<std::string> kFiles = fixture.files();
  std::string sql(reinterpret_cast<const char*>(data), size);

  ro::SqlOutline o = ro::outline(sql);
  if (o.statements < 0 || o.statements > static_cast<int>(size)) __builtin_trap();
  for (char c : o.first_keyword) {
    if (c >= 'A' && c <= 'Z') __builtin_trap();
  }

  const int64_t before = fixture.data_version();
  ro::ReadOnlyDatabase db("sqlite://" + fixture.path);
  ro::Limits limits;
  limits.max_rows = 20;
  limits.timeout_ms = 20;
  limits.max_result_bytes = 1 << 16;
  limits.max_value_bytes = 1 << 16;
  try {
    ro::QueryResult r = db.run(sql, limits);
    if (r.rows.size() > limits.max_rows) __builtin_trap();
    for (const auto& row : r.rows) {
      if (row.size() != r.columns.size()) __builtin_trap();
    }
  } catch (const ro::QueryRefused&) {
  } catch (const ro::QueryTimeout&) {
  } catch (const ro::QueryFailed&) {
  }
  if (fixture.data_version() != before) __builtin_trap();  // someone wrote
  if (fixture.files() != kFiles) __builtin_trap();         // ATTACH / VACUUM INTO made a file
  return 0;
}
