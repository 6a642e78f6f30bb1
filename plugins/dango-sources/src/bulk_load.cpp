#include "bulk_load.hpp"

#include <fcntl.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>
#include <plughost/json.hpp>
#include <stdexcept>

#include "time_text.hpp"
#include "warehouse.hpp"

namespace dango {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFileColumn = "_dango_filename";
constexpr const char* kMtimeColumn = "_dango_file_mtime";
constexpr const char* kLoadedColumn = "_dango_loaded_at";
constexpr size_t kMaxErrorsPerFile = 20;
constexpr size_t kPostgresChunk = 1000;

// A read-only mapping of a whole file; the text is UTF-8 (a BOM dropped) or, when the file is not
// valid UTF-8, a Latin-1 conversion held in memory.
class FileText {
 public:
  explicit FileText(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot stat " + path);
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        throw std::runtime_error("cannot map " + path + ": " + std::strerror(errno));
      }
      data_ = static_cast<const char*>(p);
      ::madvise(p, size_, MADV_SEQUENTIAL);
    }
    ::close(fd);
    text_ = std::string_view(data_, size_);
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
    if (!is_utf8(text_)) {
      converted_ = to_utf8(text_);
      text_ = converted_;
    }
  }
  ~FileText() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
  }
  FileText(const FileText&) = delete;
  FileText& operator=(const FileText&) = delete;
  std::string_view text() const { return text_; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
  std::string converted_;
  std::string_view text_;
};

struct FileScan {
  CsvFilePlan plan;
  std::vector<ColumnType> types;  // per file column
  std::vector<bool> has_values;
  std::vector<InputError> errors;
};

// Checks every record of one file and types its columns.
FileScan scan_file(const std::string& path, const std::string& name, const CsvOptions& options) {
  FileScan scan;
  scan.plan.path = path;
  scan.plan.name = name;
  scan.plan.header = options.header;
  FileText file(path);
  csv_dialect(file.text(), options, scan.plan.delimiter, scan.plan.quote);
  CsvStream stream(file.text(), scan.plan.delimiter, scan.plan.quote);
  std::string error;
  bool have_columns = false;
  auto report = [&](size_t line, std::string message) {
    if (scan.errors.size() < kMaxErrorsPerFile) scan.errors.push_back({name, line, message});
  };
  while (stream.next(error)) {
    if (!error.empty()) {
      report(stream.line(), error);
      continue;
    }
    const auto& fields = stream.fields();
    if (!have_columns) {
      have_columns = true;
      for (const auto& c : csv_columns(fields, options.header)) scan.plan.columns.push_back(c.name);
      scan.types.assign(fields.size(), ColumnType::kInteger);
      scan.has_values.assign(fields.size(), false);
      if (options.header) continue;
    }
    if (fields.size() != scan.plan.columns.size()) {
      report(stream.line(), "expected " + std::to_string(scan.plan.columns.size()) +
                                " fields, found " + std::to_string(fields.size()));
      continue;
    }
    for (size_t c = 0; c < fields.size(); ++c) {
      if (fields[c].empty() || (scan.has_values[c] && scan.types[c] == ColumnType::kText)) continue;
      ColumnType t = cell_type(fields[c]);
      scan.types[c] = scan.has_values[c] ? widen(scan.types[c], t) : t;
      scan.has_values[c] = true;
    }
    ++scan.plan.rows;
  }
  return scan;
}

// Adds a file's columns to the table's: the union by name, types widened by files with values.
void merge_columns(std::vector<Column>& into, std::vector<bool>& typed, const FileScan& scan) {
  for (size_t i = 0; i < scan.plan.columns.size(); ++i) {
    const std::string& name = scan.plan.columns[i];
    ColumnType t = scan.has_values[i] ? scan.types[i] : ColumnType::kText;
    auto it =
        std::find_if(into.begin(), into.end(), [&](const Column& c) { return c.name == name; });
    if (it == into.end()) {
      into.push_back({name, t});
      typed.push_back(scan.has_values[i]);
      continue;
    }
    size_t k = static_cast<size_t>(it - into.begin());
    if (!scan.has_values[i]) continue;  // no value says nothing about the type
    it->type = typed[k] ? widen(it->type, t) : t;
    typed[k] = true;
  }
}

// How a cell is bound: integers and reals as numbers (no text-to-number work in the database),
// everything else as text; an empty cell is NULL.
enum class Binding { kInteger, kReal, kText };

Binding binding_for(ColumnType t) {
  return t == ColumnType::kInteger ? Binding::kInteger
         : t == ColumnType::kReal  ? Binding::kReal
                                   : Binding::kText;
}

std::optional<int64_t> as_integer(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> as_real(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

void check_sqlite(int rc, sqlite_api::sqlite3* db, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return;
  throw std::runtime_error(std::string(what) + ": " + sqlite_api::sqlite3_errmsg(db));
}

std::vector<Binding> file_bindings(const CsvFilePlan& file, const std::vector<Column>& columns) {
  std::vector<Binding> out;
  for (const auto& name : file.columns) {
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const Column& c) { return c.name == name; });
    out.push_back(binding_for(it == columns.end() ? ColumnType::kText : it->type));
  }
  return out;
}

// The records of a planned file, checked again (the file may have changed since the first pass:
// then the load fails and rolls back rather than load something else).
template <typename OnRecord>
void stream_file(const CsvFilePlan& file, OnRecord on_record) {
  FileText text(file.path);
  CsvStream stream(text.text(), file.delimiter, file.quote);
  std::string error;
  bool skip_header = file.header;
  size_t rows = 0;
  while (stream.next(error)) {
    if (!error.empty() || stream.fields().size() != file.columns.size()) {
      throw std::runtime_error(file.name + ":" + std::to_string(stream.line()) +
                               ": the file changed during the sync");
    }
    if (skip_header) {
      skip_header = false;
      continue;
    }
    on_record(stream.fields());
    ++rows;
  }
  if (rows != file.rows) throw std::runtime_error(file.name + ": the file changed during the sync");
}

// One prepared statement for the whole file on the connection's own handle: numbers bound as
// numbers, text as views into the mapped file (SQLITE_STATIC: the statement is stepped before the
// next record replaces them), the three _dango_* values bound once (a reset keeps bindings).
int64_t insert_file_sqlite(soci::session& sql, const std::string& insert, const CsvFilePlan& file,
                           const std::vector<Binding>& bindings, const std::string& loaded_at) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(sql.get_backend());
  sqlite_api::sqlite3* db = backend->conn_;
  sqlite_api::sqlite3_stmt* st = nullptr;
  check_sqlite(sqlite_api::sqlite3_prepare_v2(db, insert.c_str(), -1, &st, nullptr), db,
               "prepare the insert");
  struct Finalize {
    sqlite_api::sqlite3_stmt* st;
    ~Finalize() { sqlite_api::sqlite3_finalize(st); }
  } finalize{st};
  const int n = static_cast<int>(file.columns.size());
  const std::string* meta[] = {&file.name, &file.mtime_text, &loaded_at};
  for (int k = 0; k < 3; ++k) {
    check_sqlite(sqlite_api::sqlite3_bind_text(st, n + k + 1, meta[k]->data(),
                                               static_cast<int>(meta[k]->size()), SQLITE_STATIC),
                 db, "bind");
  }
  int64_t rows = 0;
  stream_file(file, [&](const std::vector<std::string_view>& fields) {
    for (int c = 0; c < n; ++c) {
      std::string_view f = fields[static_cast<size_t>(c)];
      int rc;
      if (f.empty()) {
        rc = sqlite_api::sqlite3_bind_null(st, c + 1);
      } else if (auto i = bindings[c] == Binding::kInteger ? as_integer(f) : std::nullopt) {
        rc = sqlite_api::sqlite3_bind_int64(st, c + 1, *i);
      } else if (auto r = bindings[c] == Binding::kReal ? as_real(f) : std::nullopt) {
        rc = sqlite_api::sqlite3_bind_double(st, c + 1, *r);
      } else {
        rc = sqlite_api::sqlite3_bind_text(st, c + 1, f.data(), static_cast<int>(f.size()),
                                           SQLITE_STATIC);
      }
      check_sqlite(rc, db, "bind");
    }
    check_sqlite(sqlite_api::sqlite3_step(st), db, "insert");
    sqlite_api::sqlite3_reset(st);
    ++rows;
  });
  return rows;
}

}  // namespace

size_t CsvLoadPlan::rows() const {
  size_t n = 0;
  for (const auto& f : files) n += f.rows;
  return n;
}

CsvLoadPlan plan_csv_load(const ReadRequest& rq) {
  rapidjson::Document options;
  std::string error;
  if (!plughost::sdk::parse_json(rq.options_json, options, error) || !options.IsObject()) {
    options.SetObject();
  }
  const CsvOptions csv = csv_options(options);
  CsvLoadPlan plan;
  plan.loaded_at = rq.loaded_at;
  SourceBatch& batch = plan.batch;
  std::error_code ec;
  fs::create_directories(rq.folder, ec);
  auto before = state_files(rq.state_json);
  auto now = folder_files(rq.folder, {".csv"});
  TableLoad load;
  load.name = rq.source;
  load.replace = rq.full_refresh;
  load.delete_column = kFileColumn;
  for (const auto& [name, mtime] : before) {
    if (!now.count(name)) load.delete_values.push_back(name);
  }
  std::vector<bool> typed;
  for (const auto& [name, mtime] : now) {
    auto prev = before.find(name);
    bool changed = prev == before.end() || prev->second != mtime;
    if (!changed && !rq.full_refresh) continue;
    FileScan scan = scan_file((fs::path(rq.folder) / name).string(), name, csv);
    if (!scan.errors.empty()) {
      batch.errors.insert(batch.errors.end(), scan.errors.begin(), scan.errors.end());
      continue;
    }
    if (scan.plan.rows == 0) {
      batch.notes.push_back("skipped " + name + ": no rows");
      continue;
    }
    if (prev != before.end()) load.delete_values.push_back(name);
    batch.notes.push_back("loaded " + name + ": " + std::to_string(scan.plan.rows) + " rows");
    merge_columns(load.table.columns, typed, scan);
    scan.plan.mtime_text = iso_utc(mtime / 1000000000);
    plan.files.push_back(std::move(scan.plan));
  }
  if (!plan.files.empty()) {
    load.table.columns.push_back({kFileColumn, ColumnType::kText});
    load.table.columns.push_back({kMtimeColumn, ColumnType::kTimestamp});
    load.table.columns.push_back({kLoadedColumn, ColumnType::kTimestamp});
    load.table.column_has_values = typed;
    load.table.column_has_values.resize(load.table.columns.size(), true);
  }
  batch.state_json = files_state(now);
  if (rq.full_refresh || !plan.files.empty() || !load.delete_values.empty()) {
    batch.tables.push_back(std::move(load));
  }
  return plan;
}

LoadResult Warehouse::load_csv(const std::string& source, const CsvLoadPlan& plan,
                               bool allow_empty_replace) {
  LoadResult result;
  const std::string layer = "raw_" + source;
  soci::session sql(*pool_);
  WriteTransaction tx(sql, dialect_ == "sqlite");
  for (const auto& load : plan.batch.tables) {
    if (!prepare_load(sql, layer, load, plan.rows(), allow_empty_replace, result)) continue;
    const std::string table = qualified(layer, load.name);
    for (const auto& file : plan.files) {
      std::vector<std::string> names = file.columns;
      for (const char* meta : {kFileColumn, kMtimeColumn, kLoadedColumn}) names.push_back(meta);
      std::string insert = "INSERT INTO " + table + " (";
      std::string values;
      for (size_t c = 0; c < names.size(); ++c) {
        insert += (c ? ", " : "") + quote_identifier(names[c]);
        values += c ? ", ?" : "?";
      }
      insert += ") VALUES (" + values + ")";
      const auto bindings = file_bindings(file, load.table.columns);
      if (dialect_ == "sqlite") {
        result.rows_inserted += insert_file_sqlite(sql, insert, file, bindings, plan.loaded_at);
      } else {
        TableLoad chunk;
        chunk.name = load.name;
        for (const auto& n : names) chunk.table.columns.push_back({n, ColumnType::kText});
        stream_file(file, [&](const std::vector<std::string_view>& fields) {
          std::vector<std::optional<std::string>> row;
          row.reserve(names.size());
          for (auto f : fields) {
            row.emplace_back(f.empty() ? std::nullopt : std::optional<std::string>(f));
          }
          row.emplace_back(file.name);
          row.emplace_back(file.mtime_text);
          row.emplace_back(plan.loaded_at);
          chunk.table.rows.push_back(std::move(row));
          if (chunk.table.rows.size() == kPostgresChunk) {
            result.rows_inserted += insert_rows(sql, layer, chunk);
            chunk.table.rows.clear();
          }
        });
        result.rows_inserted += insert_rows(sql, layer, chunk);
      }
    }
  }
  if (!result.kept_old_rows) write_state(sql, source, plan.batch.state_json);
  tx.commit();
  return result;
}

}  // namespace dango
