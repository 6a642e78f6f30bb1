#include "watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace {

constexpr size_t kRecent = 20;         // changes kept for the status
constexpr int64_t kRewatchMs = 5000;   // how often a folder that could not be watched is retried
constexpr int64_t kMinRetryMs = 1000;  // a due sync whose source is busy waits at least this
constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_TO |
                           IN_MOVED_FROM | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

// Editors' and uploaders' scratch files are not data: hidden files, backups, partial downloads.
bool ignored_name(const std::string& name) {
  auto ends_with = [&](const char* suffix) {
    size_t n = std::strlen(suffix);
    return name.size() >= n && name.compare(name.size() - n, n, suffix) == 0;
  };
  return name.empty() || name[0] == '.' || ends_with("~") || ends_with(".tmp") ||
         ends_with(".part") || ends_with(".swp") || ends_with(".crdownload");
}

const char* action_of(uint32_t mask) {
  if (mask & IN_CREATE) return "created";
  if (mask & IN_DELETE) return "deleted";
  if (mask & IN_MOVED_TO) return "moved_in";
  if (mask & IN_MOVED_FROM) return "moved_out";
  return "modified";
}

}  // namespace

WatcherSettings parse_watcher_settings(const rapidjson::Value& config, const Settings& settings) {
  WatcherSettings w;
  auto block = config.FindMember("watcher");
  if (block != config.MemberEnd() && block->value.IsObject()) {
    auto enabled = block->value.FindMember("enabled");
    if (enabled != block->value.MemberEnd() && enabled->value.IsBool()) {
      w.enabled = enabled->value.GetBool();
    }
    auto debounce = block->value.FindMember("debounce_seconds");
    if (debounce != block->value.MemberEnd() && debounce->value.IsNumber()) {
      w.debounce_seconds = debounce->value.GetDouble();
      if (!(w.debounce_seconds >= 0.05 && w.debounce_seconds <= 86400)) {
        throw std::invalid_argument("watcher.debounce_seconds must be within 0.05..86400");
      }
    }
  }
  auto sources = config.FindMember("sources");
  if (sources == config.MemberEnd() || !sources->value.IsArray()) return w;
  for (const auto& v : sources->value.GetArray()) {
    if (!v.IsObject()) continue;
    auto name = v.FindMember("name");
    auto auto_sync = v.FindMember("auto_sync");
    if (name == v.MemberEnd() || !name->value.IsString() || auto_sync == v.MemberEnd() ||
        !auto_sync->value.IsBool() || !auto_sync->value.GetBool()) {
      continue;
    }
    auto normalized = normalize_source_name(name->value.GetString());
    const SourceConfig* s = normalized ? find_source(settings, *normalized) : nullptr;
    if (s && s->enabled) w.sources.push_back(s->name);
  }
  std::sort(w.sources.begin(), w.sources.end());
  return w;
}

FolderWatcher::FolderWatcher(WatcherSettings settings, const Settings& sources, SyncEngine& engine)
    : settings_(std::move(settings)), sources_(sources), engine_(engine) {
  for (const auto& name : settings_.sources) {
    if (const SourceConfig* s = find_source(sources_, name))
      folders_.push_back({name, s->folder, -1, ""});
  }
}

FolderWatcher::~FolderWatcher() {
  stop();
}

void FolderWatcher::start() {
  if (!settings_.enabled || folders_.empty() || thread_.joinable()) return;
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (inotify_fd_ < 0 || wake_fd_ < 0) {
    std::string why = std::strerror(errno);
    stop();
    throw std::runtime_error("file watcher: inotify unavailable: " + why);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    watch_missing_folders();
    running_ = true;
    started_at_ = iso_utc_now();
  }
  thread_ = std::thread([this] { run(); });
}

void FolderWatcher::stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof(one)) < 0) {
      // The eventfd cannot be full after a single write; nothing else can fail here.
    }
    thread_.join();
  }
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  inotify_fd_ = wake_fd_ = -1;
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
}

void FolderWatcher::watch_missing_folders() {
  for (auto& f : folders_) {
    if (f.wd >= 0) continue;
    f.wd = inotify_add_watch(inotify_fd_, f.path.c_str(), kMask | IN_ONLYDIR);
    f.error = f.wd < 0 ? std::string("cannot watch: ") + std::strerror(errno) : "";
  }
}

void FolderWatcher::run() {
  int64_t last_rewatch = now_ms();
  while (true) {
    int64_t now = now_ms();
    int timeout = static_cast<int>(std::clamp<int64_t>(next_wakeup_ms() - now, 0, kRewatchMs));
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    int n = poll(fds, 2, timeout);
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) break;  // stop()
    if (n > 0 && (fds[1].revents & POLLIN)) read_events();
    if (now_ms() - last_rewatch >= kRewatchMs) {
      std::lock_guard<std::mutex> lock(mu_);
      watch_missing_folders();
      last_rewatch = now_ms();
    }
    start_due_syncs();
  }
}

void FolderWatcher::read_events() {
  alignas(inotify_event) char buf[16384];
  while (true) {
    ssize_t len = read(inotify_fd_, buf, sizeof(buf));
    if (len <= 0) return;  // EAGAIN: drained
    std::lock_guard<std::mutex> lock(mu_);
    for (char* p = buf; p < buf + len;) {
      auto* e = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + e->len;
      if (e->mask & IN_Q_OVERFLOW) {
        // Events were lost: every watched folder may have changed.
        for (const auto& f : folders_) note_change(f, "", "overflow");
        continue;
      }
      auto f = std::find_if(folders_.begin(), folders_.end(),
                            [&](const Folder& x) { return x.wd == e->wd; });
      if (f == folders_.end()) continue;
      if (e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
        f->wd = -1;
        f->error = "the folder was removed or moved; watching again once it exists";
        continue;
      }
      if (e->mask & IN_ISDIR) continue;
      std::string name = e->len ? std::string(e->name) : "";
      if (ignored_name(name)) continue;
      note_change(*f, name, action_of(e->mask));
    }
  }
}

// Under mu_. Every change pushes the source's sync back by the debounce: a file being written
// (many IN_MODIFY) starts one sync once it has settled.
void FolderWatcher::note_change(const Folder& f, const std::string& file,
                                const std::string& action) {
  int64_t now = now_ms();
  Pending& p = pending_[f.source];
  if (p.first_change_ms == 0) p.first_change_ms = now;
  p.due_ms = now + static_cast<int64_t>(settings_.debounce_seconds * 1000);
  if (!file.empty()) p.files.insert(file);
  // Repeated writes to one file make one entry: the last action is what the status shows.
  if (!recent_.empty() && recent_.back().source == f.source && recent_.back().file == file &&
      action == "modified") {
    recent_.back().timestamp = iso_utc_now();
    return;
  }
  recent_.push_back({iso_utc_now(), f.source, file, action});
  while (recent_.size() > kRecent) recent_.pop_front();
}

int64_t FolderWatcher::next_wakeup_ms() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t next = now_ms() + kRewatchMs;
  for (const auto& [source, p] : pending_) next = std::min(next, p.due_ms);
  return next;
}

void FolderWatcher::start_due_syncs() {
  std::vector<std::pair<std::string, Pending>> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t now = now_ms();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.due_ms <= now) {
        due.emplace_back(it->first, std::move(it->second));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& [source, p] : due) {
    const SourceConfig* s = find_source(sources_, source);
    if (!s) continue;
    std::string files;
    for (const auto& f : p.files) files += (files.empty() ? "" : ", ") + f;
    bool busy = false;
    try {
      auto run = engine_.start(*s, SyncOptions{}, "watcher");
      busy = !run;
      if (run) {
        engine_.log(source, "info", "watcher_sync",
                    "File change detected (" + (files.empty() ? std::string("folder") : files) +
                        "): sync started",
                    run->id);
      }
    } catch (const std::exception& e) {
      engine_.log(source, "error", "watcher_sync_failed",
                  std::string("File change detected but the sync could not start: ") + e.what());
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (busy) {
      // Coalesce: one more sync after the running one, carrying every change seen meanwhile.
      Pending& again = pending_[source];
      again.files.insert(p.files.begin(), p.files.end());
      again.first_change_ms = again.first_change_ms ? again.first_change_ms : p.first_change_ms;
      int64_t retry =
          std::max<int64_t>(kMinRetryMs, static_cast<int64_t>(settings_.debounce_seconds * 1000));
      again.due_ms = std::max(again.due_ms, now_ms() + retry);
      ++syncs_coalesced_;
    } else {
      ++syncs_started_;
      last_sync_at_ = iso_utc_now();
    }
  }
}

std::string FolderWatcher::status_json() {
  std::lock_guard<std::mutex> lock(mu_);
  Json j;
  j.begin()
      .key("enabled")
      .flag(settings_.enabled)
      .key("running")
      .flag(running_)
      .key("auto_sync")
      .flag(!folders_.empty())
      .key("debounce_seconds")
      .real(settings_.debounce_seconds)
      .key("started_at");
  if (started_at_.empty()) {
    j.null();
  } else {
    j.str(started_at_);
  }
  j.key("watched_sources").begin_array();
  for (const auto& f : folders_) j.str(f.source);
  j.end_array().key("watched_folders").begin_array();
  for (const auto& f : folders_) {
    j.begin()
        .key("source")
        .str(f.source)
        .key("folder")
        .str(f.path)
        .key("watching")
        .flag(running_ && f.wd >= 0)
        .key("error");
    if (f.error.empty()) {
      j.null();
    } else {
      j.str(f.error);
    }
    j.end();
  }
  j.end_array().key("pending").begin_array();
  int64_t now = now_ms();
  for (const auto& [source, p] : pending_) {
    j.begin().key("source").str(source).key("files").begin_array();
    for (const auto& f : p.files) j.str(f);
    j.end_array()
        .key("first_change_at")
        .str(iso_utc(p.first_change_ms / 1000))
        .key("sync_in_seconds")
        .real(static_cast<double>(std::max<int64_t>(0, p.due_ms - now)) / 1000.0)
        .end();
  }
  j.end_array().key("last_events").begin_array();
  for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
    j.begin()
        .key("timestamp")
        .str(it->timestamp)
        .key("source")
        .str(it->source)
        .key("file")
        .str(it->file)
        .key("action")
        .str(it->action)
        .end();
  }
  j.end_array()
      .key("syncs_triggered")
      .num(syncs_started_)
      .key("syncs_coalesced")
      .num(syncs_coalesced_)
      .key("last_sync_triggered_at");
  if (last_sync_at_.empty()) {
    j.null();
  } else {
    j.str(last_sync_at_);
  }
  j.end();
  return j.text();
}

}  // namespace dango
