#include "bulk_load.hpp"

#include <fcntl.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <plughost/json.hpp>
#include <stdexcept>
#include <thread>

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
// valid UTF-8, a Latin-1 conversion held in memory. With `planned`, the file must still be the one
// the first pass read (same size and mtime, else it changed during the sync) and its encoding is
// taken from the plan instead of being checked again.
class FileText {
 public:
  explicit FileText(const std::string& path, const CsvFilePlan* planned = nullptr) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot stat " + path);
    }
    size_ = static_cast<size_t>(st.st_size);
    mtime_ns_ = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (planned && (planned->size != size_ || planned->mtime_ns != mtime_ns_)) {
      ::close(fd);
      throw std::runtime_error(planned->name + ": the file changed during the sync");
    }
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
    utf8_ = planned ? planned->utf8 : is_utf8(text_);
    if (!utf8_) {
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
  size_t size() const { return size_; }
  int64_t mtime_ns() const { return mtime_ns_; }
  bool utf8() const { return utf8_; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
  int64_t mtime_ns_ = 0;
  bool utf8_ = true;
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
  scan.plan.size = file.size();
  scan.plan.mtime_ns = file.mtime_ns();
  scan.plan.utf8 = file.utf8();
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

// The records of a planned file's text, checked again (the file may have changed since the first
// pass: then the load fails and rolls back rather than load something else).
template <typename OnRecord>
void stream_records(const CsvFilePlan& file, std::string_view text, OnRecord on_record) {
  CsvStream stream(text, file.delimiter, file.quote);
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

// One cell converted for binding: NULL (an empty field), a number, or text — a view into the
// file's text, or into the batch's own buffer for a quoted field that was unescaped.
enum class CellKind : uint8_t { kNull, kInteger, kReal, kText, kOwnedText };
struct Cell {
  CellKind kind;
  int size;
  union {
    int64_t integer;
    double real;
    const char* text;
    size_t offset;  // into RowBatch::owned
  } v;
};

// Rows converted by the reading thread for the inserting one: `rows` × file columns cells.
struct RowBatch {
  size_t rows = 0;
  std::vector<Cell> cells;
  std::string owned;
};

constexpr size_t kBatchRows = 4096;    // rows handed over at a time
constexpr size_t kRowsPerInsert = 64;  // rows per multi-row INSERT (kBatchRows is a multiple)
constexpr size_t kQueueDepth = 2;      // batches read ahead of the inserts

// A bounded hand-over of batches from one reading thread to one inserting thread.
class BatchQueue {
 public:
  // The reader: false when the inserter stopped (it gave up; the reader ends quietly).
  bool push(RowBatch&& batch) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return queue_.size() < kQueueDepth || stopped_; });
    if (stopped_) return false;
    queue_.push_back(std::move(batch));
    changed_.notify_all();
    return true;
  }
  // The reader is done, with its error if it failed.
  void finish(std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    error_ = error;
    changed_.notify_all();
  }
  // The inserter: the next batch; false at the end; throws the reader's error.
  bool pop(RowBatch& batch) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return !queue_.empty() || finished_; });
    if (error_) std::rethrow_exception(error_);
    if (queue_.empty()) return false;
    batch = std::move(queue_.front());
    queue_.pop_front();
    changed_.notify_all();
    return true;
  }
  // The inserter gives up (an error or a cancel): a waiting reader returns.
  void stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<RowBatch> queue_;
  bool finished_ = false;
  bool stopped_ = false;
  std::exception_ptr error_;
};

// The reading thread: parses and converts a planned file's records into batches, counting each
// column's non-empty cells into `non_null`.
void convert_file(const CsvFilePlan& file, std::string_view text,
                  const std::vector<Binding>& bindings, BatchQueue& queue,
                  std::vector<int64_t>& non_null) {
  const size_t n = file.columns.size();
  const std::less<const char*> before;
  const char* text_end = text.data() + text.size();
  RowBatch batch;
  batch.cells.reserve(kBatchRows * n);
  struct Stopped {};
  try {
    stream_records(file, text, [&](const std::vector<std::string_view>& fields) {
      for (size_t c = 0; c < n; ++c) {
        std::string_view f = fields[c];
        Cell cell;
        if (f.empty()) {
          cell.kind = CellKind::kNull;
          batch.cells.push_back(cell);
          continue;
        }
        ++non_null[c];
        if (bindings[c] == Binding::kInteger) {
          if (auto i = as_integer(f)) {
            cell.kind = CellKind::kInteger;
            cell.v.integer = *i;
            batch.cells.push_back(cell);
            continue;
          }
        } else if (bindings[c] == Binding::kReal) {
          if (auto r = as_real(f)) {
            cell.kind = CellKind::kReal;
            cell.v.real = *r;
            batch.cells.push_back(cell);
            continue;
          }
        }
        cell.size = static_cast<int>(f.size());
        if (!before(f.data(), text.data()) && before(f.data(), text_end)) {
          cell.kind = CellKind::kText;
          cell.v.text = f.data();
        } else {
          cell.kind = CellKind::kOwnedText;
          cell.v.offset = batch.owned.size();
          batch.owned.append(f);
        }
        batch.cells.push_back(cell);
      }
      if (++batch.rows == kBatchRows) {
        if (!queue.push(std::move(batch))) throw Stopped();
        batch = RowBatch();
        batch.cells.reserve(kBatchRows * n);
      }
    });
  } catch (const Stopped&) {
    return;
  }
  if (batch.rows > 0) queue.push(std::move(batch));
}

struct Statement {
  sqlite_api::sqlite3_stmt* st = nullptr;
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite_api::sqlite3_finalize(st); }
};

// The inserts of one file: a multi-row statement for kRowsPerInsert rows and a one-row statement
// for the rest of the last batch. Parameters ?1–?3 are the _dango_* values, bound once (a reset
// keeps bindings); row r's column c is ?(4 + r × columns + c). Numbers are bound as numbers, text
// as views (SQLITE_STATIC: the file's text and the batch outlive the step that reads them).
class FileInsert {
 public:
  FileInsert(sqlite_api::sqlite3* db, const std::string& head, size_t columns,
             const std::string* meta[3])
      : db_(db), n_(columns) {
    prepare(many_, head, kRowsPerInsert, meta);
    prepare(one_, head, 1, meta);
  }

  void insert(const RowBatch& batch) {
    size_t r = 0;
    for (; batch.rows - r >= kRowsPerInsert; r += kRowsPerInsert) {
      run(many_.st, batch, r, kRowsPerInsert);
    }
    for (; r < batch.rows; ++r) run(one_.st, batch, r, 1);
  }

 private:
  void prepare(Statement& s, const std::string& head, size_t rows, const std::string* meta[3]) {
    std::string sql = head;
    for (size_t r = 0; r < rows; ++r) {
      sql += r ? ", (" : "(";
      for (size_t c = 0; c < n_; ++c) sql += "?" + std::to_string(4 + r * n_ + c) + ", ";
      sql += "?1, ?2, ?3)";
    }
    check_sqlite(sqlite_api::sqlite3_prepare_v2(db_, sql.c_str(), -1, &s.st, nullptr), db_,
                 "prepare the insert");
    for (int k = 0; k < 3; ++k) {
      check_sqlite(sqlite_api::sqlite3_bind_text(s.st, k + 1, meta[k]->data(),
                                                 static_cast<int>(meta[k]->size()), SQLITE_STATIC),
                   db_, "bind");
    }
  }

  void run(sqlite_api::sqlite3_stmt* st, const RowBatch& batch, size_t first, size_t rows) {
    const Cell* cell = batch.cells.data() + first * n_;
    const int count = static_cast<int>(rows * n_);
    for (int i = 0; i < count; ++i, ++cell) {
      const int index = 4 + i;
      int rc;
      switch (cell->kind) {
        case CellKind::kNull: rc = sqlite_api::sqlite3_bind_null(st, index); break;
        case CellKind::kInteger:
          rc = sqlite_api::sqlite3_bind_int64(st, index, cell->v.integer);
          break;
        case CellKind::kReal: rc = sqlite_api::sqlite3_bind_double(st, index, cell->v.real); break;
        case CellKind::kText:
          rc = sqlite_api::sqlite3_bind_text(st, index, cell->v.text, cell->size, SQLITE_STATIC);
          break;
        default:
          rc = sqlite_api::sqlite3_bind_text(st, index, batch.owned.data() + cell->v.offset,
                                             cell->size, SQLITE_STATIC);
      }
      check_sqlite(rc, db_, "bind");
    }
    int rc = sqlite_api::sqlite3_step(st);
    sqlite_api::sqlite3_reset(st);
    check_sqlite(rc, db_, "insert");
  }

  sqlite_api::sqlite3* db_;
  size_t n_;
  Statement many_;
  Statement one_;
};

// Streams one planned file into the table on the connection's own handle: a reading thread parses
// and converts batches of records while this thread inserts them (two cores: the parsing is off
// the inserts' path). `after_batch` runs here between batches with the rows inserted so far.
int64_t insert_file_sqlite(soci::session& sql, const std::string& head, const CsvFilePlan& file,
                           const std::vector<Binding>& bindings, const std::string& loaded_at,
                           std::vector<int64_t>& non_null,
                           const std::function<void(size_t)>& after_batch, size_t done_before) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(sql.get_backend());
  const std::string* meta[3] = {&file.name, &file.mtime_text, &loaded_at};
  FileInsert insert(backend->conn_, head, file.columns.size(), meta);
  FileText text(file.path, &file);
  BatchQueue queue;
  std::thread reader([&] {
    try {
      convert_file(file, text.text(), bindings, queue, non_null);
      queue.finish(nullptr);
    } catch (...) {
      queue.finish(std::current_exception());
    }
  });
  // However this ends, the reader is stopped and joined before the text and batches go.
  struct Join {
    BatchQueue& queue;
    std::thread& reader;
    ~Join() {
      queue.stop();
      reader.join();
    }
  } join{queue, reader};
  int64_t rows = 0;
  RowBatch batch;
  while (queue.pop(batch)) {
    insert.insert(batch);
    rows += static_cast<int64_t>(batch.rows);
    if (after_batch) after_batch(done_before + static_cast<size_t>(rows));
  }
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
                               bool allow_empty_replace,
                               const std::function<void(size_t)>& after_batch) {
  LoadResult result;
  const std::string layer = "raw_" + source;
  soci::session sql(*pool_);
  WriteTransaction tx(sql, dialect_ == "sqlite");
  size_t done = 0;
  for (const auto& load : plan.batch.tables) {
    if (!prepare_load(sql, layer, load, plan.rows(), allow_empty_replace, result)) continue;
    const std::string table = qualified(layer, load.name);
    // Empty now (new, replaced or emptied by the deletes): after the inserts it holds exactly
    // this load's rows, whose counts then stand for the table's (no scan for the metrics).
    int has_rows = 1;
    sql << "SELECT COUNT(*) FROM (SELECT 1 FROM " + table + " LIMIT 1) AS probe",
        soci::into(has_rows);
    LoadedTable counts;
    counts.name = load.name;
    for (const auto& file : plan.files) {
      std::vector<std::string> names = file.columns;
      for (const char* meta : {kFileColumn, kMtimeColumn, kLoadedColumn}) names.push_back(meta);
      std::string head = "INSERT INTO " + table + " (";
      for (size_t c = 0; c < names.size(); ++c) {
        head += (c ? ", " : "") + quote_identifier(names[c]);
      }
      head += ") VALUES ";
      const auto bindings = file_bindings(file, load.table.columns);
      std::vector<int64_t> non_null(file.columns.size(), 0);
      int64_t rows = 0;
      if (dialect_ == "sqlite") {
        rows = insert_file_sqlite(sql, head, file, bindings, plan.loaded_at, non_null, after_batch,
                                  done);
      } else {
        TableLoad chunk;
        chunk.name = load.name;
        for (const auto& n : names) chunk.table.columns.push_back({n, ColumnType::kText});
        FileText text(file.path, &file);
        stream_records(file, text.text(), [&](const std::vector<std::string_view>& fields) {
          std::vector<std::optional<std::string>> row;
          row.reserve(names.size());
          for (size_t c = 0; c < fields.size(); ++c) {
            if (fields[c].empty()) {
              row.emplace_back(std::nullopt);
            } else {
              row.emplace_back(std::string(fields[c]));
              ++non_null[c];
            }
          }
          row.emplace_back(file.name);
          row.emplace_back(file.mtime_text);
          row.emplace_back(plan.loaded_at);
          chunk.table.rows.push_back(std::move(row));
          if (chunk.table.rows.size() == kPostgresChunk) {
            rows += insert_rows(sql, layer, chunk);
            chunk.table.rows.clear();
            if (after_batch) after_batch(done + static_cast<size_t>(rows));
          }
        });
        rows += insert_rows(sql, layer, chunk);
      }
      done += static_cast<size_t>(rows);
      result.rows_inserted += rows;
      counts.rows += rows;
      for (size_t c = 0; c < file.columns.size(); ++c)
        counts.non_null[file.columns[c]] += non_null[c];
      for (const char* meta : {kFileColumn, kMtimeColumn, kLoadedColumn})
        counts.non_null[meta] += rows;
    }
    if (!has_rows) result.whole_tables.push_back(std::move(counts));
  }
  if (!result.kept_old_rows) write_state(sql, source, plan.batch.state_json);
  tx.commit();
  return result;
}

}  // namespace dango
