#include "sources.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <plughost/http_client.hpp>
#include <plughost/json.hpp>
#include <sstream>
#include <stdexcept>

#include "text.hpp"

namespace rag {

namespace fs = std::filesystem;
using plughost::sdk::to_json;
using Alloc = rapidjson::Document::AllocatorType;

namespace {

// One fetched page; larger pages fail their sync with a clear error.
constexpr size_t kMaxPageBytes = size_t{32} << 20;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return ss.str();
}

// Source metadata, then `extra` members over it, then the fixed keys.
std::string merged_metadata(const std::string& base_json, const rapidjson::Value* extra,
                            const std::string& source, const std::string& title,
                            const std::string& document_id, const std::string& location) {
  rapidjson::Document d;
  d.Parse(base_json.c_str());
  if (d.HasParseError() || !d.IsObject()) d.SetObject();
  Alloc& a = d.GetAllocator();
  auto set = [&](const char* key, rapidjson::Value v) {
    if (d.HasMember(key)) d.RemoveMember(key);
    d.AddMember(rapidjson::Value(key, a), v, a);
  };
  if (extra && extra->IsObject()) {
    for (const auto& m : extra->GetObject()) {
      std::string key(m.name.GetString(), m.name.GetStringLength());
      set(key.c_str(), rapidjson::Value(m.value, a));
    }
  }
  set("source", rapidjson::Value(source.c_str(), a));
  set("document_id", rapidjson::Value(document_id.c_str(), a));
  if (!title.empty()) set("title", rapidjson::Value(title.c_str(), a));
  if (!location.empty()) set("location", rapidjson::Value(location.c_str(), a));
  return to_json(d);
}

rapidjson::Document front_matter_json(const FrontMatter& fm) {
  rapidjson::Document d(rapidjson::kObjectType);
  Alloc& a = d.GetAllocator();
  for (const auto& [k, v] : fm.values) {
    d.AddMember(rapidjson::Value(k.c_str(), a), rapidjson::Value(v.c_str(), a), a);
  }
  for (const auto& [k, list] : fm.lists) {
    rapidjson::Value arr(rapidjson::kArrayType);
    for (const auto& item : list) arr.PushBack(rapidjson::Value(item.c_str(), a), a);
    d.AddMember(rapidjson::Value(k.c_str(), a), arr, a);
  }
  return d;
}

SourceDocument file_document(const SourceSpec& spec, const fs::path& file, const std::string& rel) {
  std::string ext = lower(file.extension().string());
  std::string raw = ext == ".pdf" ? pdf_text(file.string()) : read_all(file);
  SourceDocument doc;
  doc.id = rel;
  rapidjson::Document extra(rapidjson::kObjectType);
  if (ext == ".html" || ext == ".htm") {
    doc.text = html_to_text(raw, &doc.title);
  } else if (ext == ".md" || ext == ".markdown") {
    FrontMatter fm = parse_front_matter(raw);
    doc.text = fm.body;
    extra = front_matter_json(fm);
    if (fm.values.count("title")) doc.title = fm.values["title"];
    if (fm.values.count("id")) doc.id = fm.values["id"];
  } else {
    doc.text = raw;
  }
  if (doc.title.empty()) doc.title = first_heading(doc.text);
  if (doc.title.empty()) doc.title = file.stem().string();
  doc.metadata_json =
      merged_metadata(spec.metadata_json, &extra, spec.name, doc.title, doc.id, rel);
  return doc;
}

SourceLoad load_folder(const SourceSpec& spec) {
  SourceLoad out;
  std::error_code ec;
  if (!fs::is_directory(spec.path, ec)) {
    out.ok = false;
    out.error = "folder " + spec.path + " does not exist or is not a directory";
    return out;
  }
  std::vector<fs::path> files;
  auto consider = [&](const fs::directory_entry& e) {
    if (!e.is_regular_file()) return;
    std::string ext = lower(e.path().extension().string());
    if (std::find(spec.extensions.begin(), spec.extensions.end(), ext) != spec.extensions.end()) {
      files.push_back(e.path());
    }
  };
  if (spec.recursive) {
    for (const auto& e : fs::recursive_directory_iterator(spec.path)) consider(e);
  } else {
    for (const auto& e : fs::directory_iterator(spec.path)) consider(e);
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string rel = fs::relative(f, spec.path).generic_string();
    try {
      out.documents.push_back(file_document(spec, f, rel));
    } catch (const std::exception& e) {
      // One unreadable file fails the source: its documents stay as last ingested.
      out.ok = false;
      out.error = rel + ": " + e.what();
      return out;
    }
  }
  return out;
}

std::string column_text(const soci::row& row, std::size_t i) {
  if (row.get_indicator(i) == soci::i_null) return "";
  switch (row.get_properties(i).get_data_type()) {
    case soci::dt_string: return row.get<std::string>(i);
    case soci::dt_double: {
      std::ostringstream s;
      s << row.get<double>(i);
      return s.str();
    }
    case soci::dt_integer: return std::to_string(row.get<int>(i));
    case soci::dt_long_long: return std::to_string(row.get<long long>(i));
    case soci::dt_unsigned_long_long: return std::to_string(row.get<unsigned long long>(i));
    case soci::dt_date: {
      std::tm t = row.get<std::tm>(i);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
      return buf;
    }
    default: return "";
  }
}

rapidjson::Value column_json(const soci::row& row, std::size_t i, Alloc& a) {
  if (row.get_indicator(i) == soci::i_null) return rapidjson::Value(rapidjson::kNullType);
  switch (row.get_properties(i).get_data_type()) {
    case soci::dt_double: return rapidjson::Value(row.get<double>(i));
    case soci::dt_integer: return rapidjson::Value(row.get<int>(i));
    case soci::dt_long_long: return rapidjson::Value(static_cast<int64_t>(row.get<long long>(i)));
    case soci::dt_unsigned_long_long:
      return rapidjson::Value(static_cast<uint64_t>(row.get<unsigned long long>(i)));
    default: return rapidjson::Value(column_text(row, i).c_str(), a);
  }
}

SourceLoad load_sql(const SourceSpec& spec) {
  SourceLoad out;
  try {
    soci::session db;
    if (spec.url.rfind("sqlite://", 0) == 0) {
      db.open(soci::sqlite3, "db=" + spec.url.substr(9) + " readonly=true");
    } else if (spec.url.rfind("postgresql://", 0) == 0 || spec.url.rfind("postgres://", 0) == 0) {
      db.open(soci::postgresql, spec.url);
    } else {
      throw std::runtime_error("url must start with sqlite:// or postgresql://");
    }
    soci::rowset<soci::row> rows = (db.prepare << spec.query);
    for (const auto& row : rows) {
      rapidjson::Document meta(rapidjson::kObjectType);
      Alloc& a = meta.GetAllocator();
      SourceDocument doc;
      bool has_id = false, has_text = false;
      for (std::size_t i = 0; i < row.size(); ++i) {
        std::string name = lower(row.get_properties(i).get_name());
        if (name == lower(spec.id_column)) {
          doc.id = column_text(row, i);
          has_id = true;
        } else if (name == lower(spec.text_column)) {
          doc.text = column_text(row, i);
          has_text = true;
        } else if (!spec.title_column.empty() && name == lower(spec.title_column)) {
          doc.title = column_text(row, i);
        } else if (spec.metadata_columns.empty() ||
                   std::find(spec.metadata_columns.begin(), spec.metadata_columns.end(), name) !=
                       spec.metadata_columns.end()) {
          meta.AddMember(rapidjson::Value(name.c_str(), a), column_json(row, i, a), a);
        }
      }
      if (!has_id || !has_text) {
        throw std::runtime_error("the query must return the columns \"" + spec.id_column +
                                 "\" and \"" + spec.text_column + "\"");
      }
      doc.metadata_json =
          merged_metadata(spec.metadata_json, &meta, spec.name, doc.title, doc.id, "");
      out.documents.push_back(std::move(doc));
    }
  } catch (const std::exception& e) {
    out = SourceLoad{};
    out.ok = false;
    out.error = std::string("sql source: ") + e.what();
  }
  return out;
}

SourceLoad load_http(const SourceSpec& spec) {
  SourceLoad out;
  for (const auto& url : spec.urls) {
    plughost::http::Request req;
    req.url = url;
    req.headers = {{"Accept", "text/html, text/markdown, text/plain"}};
    req.timeout_seconds = spec.timeout_seconds;
    req.max_response_bytes = kMaxPageBytes;
    req.max_redirects = 5;
    plughost::http::Response r = plughost::http::perform(req);
    if (r.status < 200 || r.status >= 300) {
      out.ok = false;
      out.error = url + ": " + (r.status == 0 ? r.error : "HTTP " + std::to_string(r.status));
      out.documents.clear();
      return out;
    }
    SourceDocument doc;
    doc.id = url;
    std::string type = lower(r.header("content-type"));
    if (type.find("html") != std::string::npos) {
      doc.text = html_to_text(r.body, &doc.title);
    } else {
      FrontMatter fm = parse_front_matter(r.body);
      doc.text = fm.body;
      if (fm.values.count("title")) doc.title = fm.values["title"];
    }
    if (doc.title.empty()) doc.title = first_heading(doc.text);
    if (doc.title.empty()) doc.title = url;
    doc.metadata_json =
        merged_metadata(spec.metadata_json, nullptr, spec.name, doc.title, doc.id, url);
    out.documents.push_back(std::move(doc));
  }
  return out;
}

std::vector<std::string> strings_of(const rapidjson::Value& v, const char* key) {
  std::vector<std::string> out;
  if (v.HasMember(key) && v[key].IsArray()) {
    for (const auto& s : v[key].GetArray()) {
      if (s.IsString()) out.emplace_back(s.GetString());
    }
  }
  return out;
}

std::string string_of(const rapidjson::Value& v, const char* key, const std::string& fallback) {
  return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : fallback;
}

}  // namespace

std::string pdf_text(const std::string& path) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execlp("pdftotext", "pdftotext", "-layout", "-enc", "UTF-8", path.c_str(), "-",
           static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string text;
  std::array<char, 8192> buf;
  ssize_t n;
  while ((n = read(fds[0], buf.data(), buf.size())) > 0) {
    text.append(buf.data(), static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    throw std::runtime_error(code == 127
                                 ? "pdftotext is not installed (poppler-utils)"
                                 : "pdftotext failed with exit code " + std::to_string(code));
  }
  return text;
}

SourceSpec parse_source(const rapidjson::Value& v, size_t index, const std::string& base_dir) {
  if (!v.IsObject()) throw std::invalid_argument("a source must be an object");
  SourceSpec s;
  s.type = string_of(v, "type", "");
  s.name = string_of(v, "name", s.type + "-" + std::to_string(index + 1));
  if (v.HasMember("metadata") && v["metadata"].IsObject()) s.metadata_json = to_json(v["metadata"]);
  if (s.type == "folder") {
    s.path = string_of(v, "path", "");
    if (s.path.empty()) throw std::invalid_argument("a folder source needs \"path\"");
    if (fs::path(s.path).is_relative() && !base_dir.empty()) {
      s.path = (fs::path(base_dir) / s.path).string();
    }
    s.extensions = strings_of(v, "extensions");
    if (s.extensions.empty()) s.extensions = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf"};
    for (auto& e : s.extensions) {
      e = lower(e);
      if (!e.empty() && e[0] != '.') e = "." + e;
    }
    if (v.HasMember("recursive") && v["recursive"].IsBool()) s.recursive = v["recursive"].GetBool();
  } else if (s.type == "sql") {
    s.url = string_of(v, "url", "");
    s.query = string_of(v, "query", "");
    if (s.url.empty() || s.query.empty()) {
      throw std::invalid_argument("a sql source needs \"url\" and \"query\"");
    }
    s.id_column = lower(string_of(v, "id_column", "id"));
    s.text_column = lower(string_of(v, "text_column", "text"));
    s.title_column = lower(string_of(v, "title_column", ""));
    for (auto& c : strings_of(v, "metadata_columns")) s.metadata_columns.push_back(lower(c));
  } else if (s.type == "http") {
    s.urls = strings_of(v, "urls");
    if (v.HasMember("url") && v["url"].IsString()) {
      s.urls.insert(s.urls.begin(), v["url"].GetString());
    }
    if (s.urls.empty()) throw std::invalid_argument("an http source needs \"url\" or \"urls\"");
    if (v.HasMember("timeout_seconds") && v["timeout_seconds"].IsNumber()) {
      s.timeout_seconds = v["timeout_seconds"].GetDouble();
    }
  } else {
    throw std::invalid_argument("source type must be folder, sql or http");
  }
  return s;
}

SourceLoad load_source(const SourceSpec& spec) {
  if (spec.type == "folder") return load_folder(spec);
  if (spec.type == "sql") return load_sql(spec);
  return load_http(spec);
}

}  // namespace rag
