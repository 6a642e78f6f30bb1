// watcher.hpp — the file watcher on the upload folders of `auto_sync` sources (Linux inotify, one
// thread): a change starts one sync once the folder has been quiet for `debounce_seconds`.
#pragma once

#include <rapidjson/document.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "settings.hpp"
#include "sync.hpp"

namespace dango {

struct WatcherSettings {
  bool enabled = true;
  double debounce_seconds = 10;
  std::vector<std::string> sources;  // names of enabled sources with `auto_sync: true`
};

// Reads `watcher: {enabled, debounce_seconds}` and each source's `auto_sync` from the plugin
// config. Throws std::invalid_argument naming a bad value.
WatcherSettings parse_watcher_settings(const rapidjson::Value& config, const Settings& settings);

// Thread-safe. start() watches the folders and runs the thread; stop() (also the destructor) ends
// it and returns once the thread has exited, so nothing of the watcher runs afterwards.
class FolderWatcher {
 public:
  FolderWatcher(WatcherSettings settings, const Settings& sources, SyncEngine& engine);
  ~FolderWatcher();
  FolderWatcher(const FolderWatcher&) = delete;
  FolderWatcher& operator=(const FolderWatcher&) = delete;

  void start();
  void stop();
  // GET /api/watcher/status's body.
  std::string status_json();

 private:
  struct Folder {
    std::string source;
    std::string path;
    int wd = -1;  // inotify watch, -1 while the folder cannot be watched
    std::string error;
  };
  struct Pending {
    int64_t due_ms = 0;           // the sync starts at this time unless another change comes
    std::set<std::string> files;  // names changed since the last sync started
    int64_t first_change_ms = 0;
  };
  struct Change {
    std::string timestamp;
    std::string source;
    std::string file;
    std::string action;  // created, modified, deleted, moved_in, moved_out
  };

  void run();
  void watch_missing_folders();  // (re)adds the watch of folders without one; under mu_
  void read_events();
  void note_change(const Folder& f, const std::string& file, const std::string& action);
  void start_due_syncs();
  int64_t next_wakeup_ms();

  WatcherSettings settings_;
  const Settings& sources_;
  SyncEngine& engine_;
  int inotify_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: stop() wakes the thread's poll
  std::thread thread_;

  std::mutex mu_;
  bool running_ = false;
  std::vector<Folder> folders_;
  std::map<std::string, Pending> pending_;  // by source
  std::deque<Change> recent_;               // newest last, at most kRecent
  int64_t syncs_started_ = 0;
  int64_t syncs_coalesced_ = 0;  // a due sync found its source already syncing and waited
  std::string last_sync_at_;
  std::string started_at_;
};

}  // namespace dango
