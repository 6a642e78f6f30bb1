#include "source_types.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <plughost/json.hpp>
#include <sstream>
#include <stdexcept>

#include "csv_reader.hpp"
#include "time_text.hpp"

namespace dango {

namespace fs = std::filesystem;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

namespace {

// mtime in nanoseconds; lstat so that a symlink is seen as one (and skipped).
bool regular_file_mtime(const fs::path& path, int64_t& mtime_ns) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return true;
}

std::optional<char> single_char_option(const rapidjson::Value& options, const char* key) {
  auto it = options.FindMember(key);
  if (it == options.MemberEnd() || !it->value.IsString()) return std::nullopt;
  std::string v = it->value.GetString();
  if (v == "\\t" || v == "tab") return '\t';
  if (v.size() != 1) return std::nullopt;  // "auto" or empty: infer
  return v[0];
}

}  // namespace

std::map<std::string, int64_t> state_files(const std::string& state_json) {
  std::map<std::string, int64_t> files;
  rapidjson::Document d;
  std::string error;
  if (state_json.empty() || !plughost::sdk::parse_json(state_json, d, error) || !d.IsObject()) {
    return files;
  }
  auto it = d.FindMember("files");
  if (it == d.MemberEnd() || !it->value.IsObject()) return files;
  for (const auto& m : it->value.GetObject()) {
    if (m.value.IsInt64()) files[m.name.GetString()] = m.value.GetInt64();
  }
  return files;
}

std::string files_state(const std::map<std::string, int64_t>& files) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("files");
  w.StartObject();
  for (const auto& [name, mtime] : files) {
    w.Key(name.c_str());
    w.Int64(mtime);
  }
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

std::map<std::string, int64_t> folder_files(const std::string& folder,
                                            const std::vector<std::string>& extensions) {
  std::map<std::string, int64_t> now;
  for (const auto& entry : fs::directory_iterator(folder)) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (std::find(extensions.begin(), extensions.end(), ext) == extensions.end()) continue;
    int64_t mtime = 0;
    if (!regular_file_mtime(entry.path(), mtime)) continue;
    now[entry.path().filename().string()] = mtime;
  }
  return now;
}

CsvOptions csv_options(const rapidjson::Value& options) {
  CsvOptions o;
  if (!options.IsObject()) return o;
  o.delimiter = single_char_option(options, "delimiter");
  o.quote = single_char_option(options, "quote");
  auto header = options.FindMember("header");
  if (header != options.MemberEnd() && header->value.IsBool()) o.header = header->value.GetBool();
  return o;
}

// A JSON value as a cell: strings as they are, numbers and booleans as their JSON text, objects
// and arrays as JSON, null as NULL.
std::optional<std::string> json_cell(const rapidjson::Value& v) {
  if (v.IsNull()) return std::nullopt;
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  return plughost::sdk::to_json(v);
}

void add_json_record(Table& table, std::map<std::string, size_t>& index,
                     const rapidjson::Value& record) {
  std::vector<std::optional<std::string>> row(table.columns.size());
  for (const auto& m : record.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, table.columns.size()).first;
      table.columns.push_back({key, ColumnType::kText});
      for (auto& r : table.rows) r.emplace_back(std::nullopt);
      row.emplace_back(std::nullopt);
    }
    row[it->second] = json_cell(m.value);
  }
  table.rows.push_back(std::move(row));
}

namespace {

constexpr const char* kFileColumn = "_dango_filename";
constexpr const char* kMtimeColumn = "_dango_file_mtime";
constexpr const char* kLoadedColumn = "_dango_loaded_at";

struct ParsedFile {
  Table table;
  std::vector<InputError> errors;
};
using FileParser = std::function<ParsedFile(const std::string& text, const std::string& file,
                                            const rapidjson::Value& options)>;

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Appends `part` to `into` by column name: the union of columns, types widened, gaps NULL.
void merge_table(Table& into, Table part) {
  std::vector<size_t> position(part.columns.size());
  for (size_t i = 0; i < part.columns.size(); ++i) {
    auto it = std::find_if(into.columns.begin(), into.columns.end(),
                           [&](const Column& c) { return c.name == part.columns[i].name; });
    if (it == into.columns.end()) {
      into.columns.push_back(part.columns[i]);
      for (auto& row : into.rows) row.emplace_back(std::nullopt);
      position[i] = into.columns.size() - 1;
    } else {
      // A column without a single value in this file says nothing about the column's type.
      bool has_values = std::any_of(part.rows.begin(), part.rows.end(),
                                    [&](const auto& row) { return row[i].has_value(); });
      if (has_values) it->type = widen(it->type, part.columns[i].type);
      position[i] = static_cast<size_t>(it - into.columns.begin());
    }
  }
  for (auto& row : part.rows) {
    std::vector<std::optional<std::string>> out(into.columns.size());
    for (size_t i = 0; i < row.size(); ++i) out[position[i]] = std::move(row[i]);
    into.rows.push_back(std::move(out));
  }
}

SourceBatch read_file_source(const ReadRequest& rq, const std::vector<std::string>& extensions,
                             const FileParser& parse) {
  rapidjson::Document options;
  std::string error;
  if (!plughost::sdk::parse_json(rq.options_json, options, error) || !options.IsObject()) {
    options.SetObject();
  }
  SourceBatch batch;
  std::error_code ec;
  fs::create_directories(rq.folder, ec);
  auto before = state_files(rq.state_json);
  std::map<std::string, int64_t> now = folder_files(rq.folder, extensions);
  TableLoad load;
  load.name = rq.source;
  load.replace = rq.full_refresh;
  load.delete_column = kFileColumn;
  for (const auto& [name, mtime] : before) {
    if (!now.count(name)) load.delete_values.push_back(name);
  }
  Table merged;
  for (const auto& [name, mtime] : now) {
    auto prev = before.find(name);
    bool changed = prev == before.end() || prev->second != mtime;
    if (!changed && !rq.full_refresh) continue;
    ParsedFile file = parse(to_utf8(read_whole(fs::path(rq.folder) / name)), name, options);
    if (!file.errors.empty()) {
      batch.errors.insert(batch.errors.end(), file.errors.begin(), file.errors.end());
      continue;
    }
    if (file.table.rows.empty()) {
      batch.notes.push_back("skipped " + name + ": no rows");
      continue;
    }
    infer_column_types(file.table);
    std::string mtime_text = iso_utc(mtime / 1000000000);
    file.table.columns.push_back({kFileColumn, ColumnType::kText});
    file.table.columns.push_back({kMtimeColumn, ColumnType::kTimestamp});
    file.table.columns.push_back({kLoadedColumn, ColumnType::kTimestamp});
    for (auto& row : file.table.rows) {
      row.emplace_back(name);
      row.emplace_back(mtime_text);
      row.emplace_back(rq.loaded_at);
    }
    if (prev != before.end()) load.delete_values.push_back(name);
    batch.notes.push_back("loaded " + name + ": " + std::to_string(file.table.rows.size()) +
                          " rows");
    merge_table(merged, std::move(file.table));
  }
  load.table = std::move(merged);
  batch.state_json = files_state(now);
  // A full refresh always answers its table, so the loader can keep the old rows when it is empty.
  if (rq.full_refresh || !load.table.rows.empty() || !load.delete_values.empty()) {
    batch.tables.push_back(std::move(load));
  }
  return batch;
}

ParsedFile parse_csv_file(const std::string& text, const std::string& file,
                          const rapidjson::Value& options) {
  CsvResult r = read_csv(text, csv_options(options), file);
  return {std::move(r.table), std::move(r.errors)};
}

ParsedFile parse_json_file(const std::string& text, const std::string& file,
                           const rapidjson::Value&) {
  ParsedFile out;
  std::map<std::string, size_t> index;
  bool lines = file.size() > 6 && (file.substr(file.size() - 6) == ".jsonl" ||
                                   file.substr(file.size() - 7) == ".ndjson");
  if (!lines) {
    rapidjson::Document d;
    std::string error;
    if (!plughost::sdk::parse_json(text, d, error)) {
      size_t line =
          1 + static_cast<size_t>(std::count(
                  text.begin(), text.begin() + std::min(d.GetErrorOffset(), text.size()), '\n'));
      out.errors.push_back({file, line, "invalid JSON: " + error});
      return out;
    }
    if (!d.IsArray()) {
      out.errors.push_back({file, 1, "expected an array of objects"});
      return out;
    }
    for (const auto& v : d.GetArray()) {
      if (!v.IsObject()) {
        out.errors.push_back({file, 0, "array element is not an object"});
        return out;
      }
      add_json_record(out.table, index, v);
    }
    return out;
  }
  std::istringstream in(text);
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    rapidjson::Document d;
    std::string error;
    if (!plughost::sdk::parse_json(line, d, error) || !d.IsObject()) {
      if (out.errors.size() < 20) {
        out.errors.push_back({file, n, error.empty() ? "line is not a JSON object" : error});
      }
      continue;
    }
    add_json_record(out.table, index, d);
  }
  return out;
}

void write_errors(Writer& w, const std::vector<InputError>& errors) {
  w.StartArray();
  for (const auto& e : errors) {
    w.StartObject();
    w.Key("file");
    w.String(e.file.c_str());
    w.Key("line");
    w.Uint64(e.line);
    w.Key("message");
    w.String(e.message.c_str());
    w.EndObject();
  }
  w.EndArray();
}

const rapidjson::Value* member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string str_member(const rapidjson::Value& v, const char* key) {
  const auto* m = member(v, key);
  return m && m->IsString() ? m->GetString() : "";
}

TableLoad parse_table_load(const rapidjson::Value& t) {
  TableLoad load;
  load.name = str_member(t, "name");
  if (load.name.empty()) throw std::invalid_argument("a table has no name");
  const auto* columns = member(t, "columns");
  if (!columns || !columns->IsArray())
    throw std::invalid_argument("table " + load.name + ": columns");
  bool typed = true;
  for (const auto& c : columns->GetArray()) {
    Column col;
    col.name = c.IsString() ? c.GetString() : str_member(c, "name");
    if (col.name.empty()) throw std::invalid_argument("table " + load.name + ": unnamed column");
    auto type = parse_type_name(c.IsObject() ? str_member(c, "type") : "");
    typed = typed && type.has_value();
    col.type = type.value_or(ColumnType::kText);
    load.table.columns.push_back(col);
  }
  if (const auto* rows = member(t, "rows"); rows && rows->IsArray()) {
    for (const auto& r : rows->GetArray()) {
      if (!r.IsArray() || r.Size() != load.table.columns.size()) {
        throw std::invalid_argument("table " + load.name + ": a row's length is not the columns'");
      }
      std::vector<std::optional<std::string>> row;
      for (const auto& cell : r.GetArray()) row.push_back(json_cell(cell));
      load.table.rows.push_back(std::move(row));
    }
  }
  if (!typed) infer_column_types(load.table);
  load.replace = str_member(t, "mode") == "replace";
  if (const auto* dw = member(t, "delete_where"); dw && dw->IsObject()) {
    load.delete_column = str_member(*dw, "column");
    if (const auto* values = member(*dw, "values"); values && values->IsArray()) {
      for (const auto& v : values->GetArray()) {
        if (auto cell = json_cell(v)) load.delete_values.push_back(*cell);
      }
    }
  }
  return load;
}

}  // namespace

SourceBatch read_csv_source(const ReadRequest& rq) {
  return read_file_source(rq, {".csv"}, parse_csv_file);
}

SourceBatch read_json_source(const ReadRequest& rq) {
  return read_file_source(rq, {".json", ".jsonl", ".ndjson"}, parse_json_file);
}

std::string read_request_json(const ReadRequest& rq) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("source");
  w.String(rq.source.c_str());
  w.Key("options");
  w.RawValue(rq.options_json.c_str(), rq.options_json.size(), rapidjson::kObjectType);
  w.Key("folder");
  w.String(rq.folder.c_str());
  w.Key("state");
  if (rq.state_json.empty()) {
    w.Null();
  } else {
    w.RawValue(rq.state_json.c_str(), rq.state_json.size(), rapidjson::kObjectType);
  }
  w.Key("full_refresh");
  w.Bool(rq.full_refresh);
  w.Key("loaded_at");
  w.String(rq.loaded_at.c_str());
  // The sync's optional date window: null when not asked.
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string*>{"start_date", &rq.start_date},
        {"end_date", &rq.end_date}}) {
    w.Key(key);
    if (value->empty()) {
      w.Null();
    } else {
      w.String(value->c_str());
    }
  }
  w.EndObject();
  return buf.GetString();
}

ReadRequest parse_read_request(std::string_view json) {
  rapidjson::Document d;
  std::string error;
  if (!plughost::sdk::parse_json(json, d, error) || !d.IsObject()) {
    throw std::invalid_argument("read input is not a JSON object");
  }
  ReadRequest rq;
  rq.source = str_member(d, "source");
  rq.folder = str_member(d, "folder");
  rq.loaded_at = str_member(d, "loaded_at");
  if (rq.loaded_at.empty()) rq.loaded_at = iso_utc_now();
  if (const auto* o = member(d, "options"); o && o->IsObject()) {
    rq.options_json = plughost::sdk::to_json(*o);
  }
  if (const auto* s = member(d, "state"); s && s->IsObject()) {
    rq.state_json = plughost::sdk::to_json(*s);
  }
  if (const auto* f = member(d, "full_refresh"); f && f->IsBool()) rq.full_refresh = f->GetBool();
  rq.start_date = str_member(d, "start_date");
  rq.end_date = str_member(d, "end_date");
  if (rq.source.empty() || rq.folder.empty()) {
    throw std::invalid_argument("read input needs source and folder");
  }
  return rq;
}

std::string batch_json(const SourceBatch& batch) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("tables");
  w.StartArray();
  for (const auto& t : batch.tables) {
    w.StartObject();
    w.Key("name");
    w.String(t.name.c_str());
    w.Key("columns");
    w.StartArray();
    for (const auto& c : t.table.columns) {
      w.StartObject();
      w.Key("name");
      w.String(c.name.c_str());
      w.Key("type");
      w.String(type_name(c.type));
      w.EndObject();
    }
    w.EndArray();
    w.Key("rows");
    w.StartArray();
    for (const auto& row : t.table.rows) {
      w.StartArray();
      for (const auto& cell : row) {
        if (cell) {
          w.String(cell->c_str(), static_cast<rapidjson::SizeType>(cell->size()));
        } else {
          w.Null();
        }
      }
      w.EndArray();
    }
    w.EndArray();
    w.Key("mode");
    w.String(t.replace ? "replace" : "append");
    if (!t.delete_column.empty()) {
      w.Key("delete_where");
      w.StartObject();
      w.Key("column");
      w.String(t.delete_column.c_str());
      w.Key("values");
      w.StartArray();
      for (const auto& v : t.delete_values) w.String(v.c_str());
      w.EndArray();
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("state");
  w.RawValue(batch.state_json.c_str(), batch.state_json.size(), rapidjson::kObjectType);
  w.Key("errors");
  write_errors(w, batch.errors);
  w.Key("notes");
  w.StartArray();
  for (const auto& n : batch.notes) w.String(n.c_str());
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

SourceBatch parse_batch(std::string_view json) {
  rapidjson::Document d;
  std::string error;
  if (!plughost::sdk::parse_json(json, d, error) || !d.IsObject()) {
    throw std::invalid_argument("source connector answered no JSON object: " + error);
  }
  SourceBatch batch;
  if (const auto* tables = member(d, "tables"); tables && tables->IsArray()) {
    for (const auto& t : tables->GetArray()) batch.tables.push_back(parse_table_load(t));
  }
  if (const auto* s = member(d, "state"); s && s->IsObject())
    batch.state_json = plughost::sdk::to_json(*s);
  if (const auto* errors = member(d, "errors"); errors && errors->IsArray()) {
    for (const auto& e : errors->GetArray()) {
      const auto* line = member(e, "line");
      batch.errors.push_back({str_member(e, "file"),
                              line && line->IsUint64() ? static_cast<size_t>(line->GetUint64()) : 0,
                              str_member(e, "message")});
    }
  }
  if (const auto* notes = member(d, "notes"); notes && notes->IsArray()) {
    for (const auto& n : notes->GetArray()) {
      if (n.IsString()) batch.notes.push_back(n.GetString());
    }
  }
  return batch;
}

}  // namespace dango
