#include "upload.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <plughost/multipart.hpp>

#include "query.hpp"
#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace fs = std::filesystem;

namespace {

const SourceConfig& upload_source(Context& c, const sdk::Request& rq) {
  auto name = normalize_source_name(rq.param("name").value_or(""));
  if (!name) throw error_reply(400, "DANGO-V002", "Invalid source name");
  const SourceConfig* s = find_source(c.settings, *name);
  if (!s) throw detail_reply(404, "Source '" + *name + "' not found");
  return *s;
}

std::optional<bool> parse_flag(std::string_view text) {
  std::string v(text);
  std::transform(v.begin(), v.end(), v.begin(), ::tolower);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty()) return false;
  return std::nullopt;
}

std::string lower_extension(const std::string& name) {
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext;
}

Reply too_large(int64_t size, int64_t limit) {
  return error_reply(413, "DANGO-F004",
                     "File too large: " + std::to_string(size) + " bytes (limit " +
                         std::to_string(limit) + " bytes)");
}

// Removes the temp file unless released (every failure path leaves nothing behind).
class TempFile {
 public:
  explicit TempFile(const std::string& folder) : path_(folder + "/.dango-upload-XXXXXX") {
    fd_ = ::mkstemp(path_.data());
    if (fd_ < 0) path_.clear();
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  bool ok() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  // Writes everything and syncs it to disk; false with errno on failure.
  bool write_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    if (::fchmod(fd_, 0644) != 0 || ::fsync(fd_) != 0) return false;
    int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }
  // The file now lives under another name: nothing to remove.
  void release() { path_.clear(); }

 private:
  std::string path_;
  int fd_ = -1;
};

// Moves `from` to `to` atomically unless `to` exists: true, or false with errno (EEXIST when the
// name is taken). renameat2(RENAME_NOREPLACE), else link + unlink where the filesystem lacks it.
bool rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return false;
  if (::link(from.c_str(), to.c_str()) != 0) return false;
  ::unlink(from.c_str());
  return true;
}

void sync_folder(const std::string& folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void publish_uploaded(Context& c, const std::string& source, const std::string& file,
                      int64_t size) {
  std::string event = Json()
                          .begin()
                          .key("type")
                          .str("csv_uploaded")
                          .key("event")
                          .str("csv_uploaded")
                          .key("source")
                          .str(source)
                          .key("file")
                          .str(file)
                          .key("size_bytes")
                          .num(size)
                          .key("timestamp")
                          .str(iso_utc_now())
                          .end()
                          .text();
  try {
    c.host.publish("csv_uploaded", event, true);
  } catch (const std::exception& e) {
    c.host.warn(std::string("dango-sources: could not publish csv_uploaded: ") + e.what());
  }
}

}  // namespace

std::optional<std::string> safe_upload_name(std::string_view filename) {
  if (filename.empty() || filename.size() > 255 || filename.front() == '.' ||
      valid_utf8(filename) != filename) {
    return std::nullopt;
  }
  for (char ch : filename) {
    auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f || ch == '/' || ch == '\\') return std::nullopt;
  }
  if (filename.back() == ' ' || filename.front() == ' ') return std::nullopt;
  return std::string(filename);
}

std::string sniff_content(std::string_view data) {
  if (data.substr(0, 4) == "PAR1") return "parquet";
  for (char ch : data) {
    auto u = static_cast<unsigned char>(ch);
    // Text (UTF-8 or Latin-1 CSV, JSON) has no control bytes but TAB, LF, FF and CR.
    if ((u < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f') || u == 0x7f) {
      return "binary";
    }
  }
  if (data.substr(0, 3) == "\xEF\xBB\xBF") data.remove_prefix(3);
  size_t first = data.find_first_not_of(" \t\r\n\f");
  if (first != std::string_view::npos && (data[first] == '[' || data[first] == '{')) return "json";
  return "text";
}

void upload_file(Context& c, const sdk::Request& rq, sdk::Response& rs) {
  const SourceConfig& s = upload_source(c, rq);
  const int64_t limit = c.settings.upload_max_bytes;
  // The whole body bounds the file: refuse before parsing when even it is too large.
  if (static_cast<int64_t>(rq.body().size()) > limit + 64 * 1024) {
    throw too_large(static_cast<int64_t>(rq.body().size()), limit);
  }
  auto boundary = sdk::multipart::form_data_boundary(rq.header("content-type").value_or(""));
  if (!boundary) {
    throw error_reply(400, "DANGO-F001", "Expected multipart/form-data with a boundary");
  }
  std::vector<sdk::multipart::Part> parts;
  std::string error;
  if (!sdk::multipart::parse(rq.body(), *boundary, parts, error)) {
    throw error_reply(400, "DANGO-F001", "Malformed multipart body: " + error);
  }
  const sdk::multipart::Part* file = sdk::multipart::find(parts, "file");
  if (!file || !file->filename || file->filename->empty()) {
    throw error_reply(400, "DANGO-F001", "A file part named 'file' is required");
  }
  bool trigger = false;
  for (std::optional<std::string_view> text :
       {rq.query("trigger_sync"),
        sdk::multipart::find(parts, "trigger_sync")
            ? std::optional<std::string_view>(sdk::multipart::find(parts, "trigger_sync")->data)
            : std::nullopt}) {
    if (!text) continue;
    auto flag = parse_flag(*text);
    if (!flag) throw error_reply(400, "DANGO-V001", "trigger_sync must be true or false");
    trigger = trigger || *flag;
  }

  auto name = safe_upload_name(*file->filename);
  if (!name) {
    c.engine.log(s.name, "warning", "file_upload_refused",
                 "Refused an upload with an unsafe file name: " + valid_utf8(*file->filename));
    throw error_reply(400, "DANGO-F002", "Invalid file name: " + valid_utf8(*file->filename));
  }
  std::string ext = lower_extension(*name);
  if (ext == ".parquet") {
    throw error_reply(415, "DANGO-F005",
                      "Parquet files are not supported (no Parquet reader); upload CSV or JSON");
  }
  std::vector<std::string> accepted;
  if (s.type == "csv") accepted = {".csv"};
  if (s.type == "json") accepted = {".json", ".jsonl", ".ndjson"};
  if (accepted.empty()) {
    throw error_reply(400, "DANGO-F002",
                      "Source '" + s.name + "' of type '" + s.type + "' does not take uploads");
  }
  if (std::find(accepted.begin(), accepted.end(), ext) == accepted.end()) {
    std::string list;
    for (const auto& a : accepted) list += (list.empty() ? "" : ", ") + a;
    throw error_reply(400, "DANGO-F002",
                      "Source '" + s.name + "' accepts " + list + " files, not '" + *name + "'");
  }
  const auto size = static_cast<int64_t>(file->data.size());
  if (size > limit) throw too_large(size, limit);
  std::string format = sniff_content(file->data);
  if (format == "parquet") {
    throw error_reply(415, "DANGO-F005",
                      "Parquet content is not supported (no Parquet reader); upload CSV or JSON");
  }
  if (format == "binary") {
    throw error_reply(415, "DANGO-F005", "The file is not text: CSV or JSON expected");
  }
  if (s.type == "json" && format != "json") {
    throw error_reply(415, "DANGO-F005", "The file is not JSON (an array or NDJSON objects)");
  }
  if (s.type == "csv") format = "csv";
  if (s.type == "json") format = ext == ".json" ? "json" : "ndjson";

  if (trigger) {
    if (!s.enabled) {
      throw error_reply(400, "DANGO-SYNC-002", "Source '" + s.name + "' is disabled");
    }
    auto latest = c.engine.latest_run(s.name);
    if (latest && latest->status == "running") {
      throw error_reply(409, "DANGO-SYNC-004", "Sync already running for " + s.name);
    }
  }

  const std::string target = (fs::path(s.folder) / *name).string();
  struct stat st {};
  if (::lstat(target.c_str(), &st) == 0) {
    throw error_reply(409, "DANGO-F003", "File already exists: " + *name);
  }
  std::error_code ec;
  fs::create_directories(s.folder, ec);
  TempFile temp(s.folder);
  if (!temp.ok() || !temp.write_all(file->data)) {
    c.host.warn("dango-sources: cannot write an upload into " + s.folder + ": " +
                std::strerror(errno));
    throw error_reply(500, "DANGO-G001", "An internal error occurred.");
  }
  if (!rename_no_replace(temp.path(), target)) {
    if (errno == EEXIST) throw error_reply(409, "DANGO-F003", "File already exists: " + *name);
    c.host.warn("dango-sources: cannot move an upload to " + target + ": " + std::strerror(errno));
    throw error_reply(500, "DANGO-G001", "An internal error occurred.");
  }
  temp.release();
  sync_folder(s.folder);
  c.engine.log(s.name, "info", "file_uploaded",
               "Uploaded " + *name + " (" + std::to_string(size) + " bytes)");
  publish_uploaded(c, s.name, *name, size);

  std::optional<SyncRun> run;
  std::string message = "Uploaded " + *name + " to " + s.name;
  if (trigger) {
    run = c.engine.start(s, SyncOptions{}, "upload");
    message += run ? "; sync started" : "; a sync was already running";
  }
  Json j;
  j.begin()
      .key("success")
      .flag(true)
      .key("message")
      .str(message)
      .key("source_name")
      .str(s.name)
      .key("filename")
      .str(*name)
      .key("file_path")
      .str(target)
      .key("size_bytes")
      .num(size)
      .key("format")
      .str(format)
      .key("sync_triggered")
      .flag(run.has_value())
      .key("run_id");
  if (run) {
    j.num(run->id);
  } else {
    j.null();
  }
  j.end();
  rs.json_text(j.text());
}

}  // namespace dango
