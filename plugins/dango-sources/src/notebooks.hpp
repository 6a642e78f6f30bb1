// notebooks.hpp — Dango's notebooks (seed: Notebooks): Marimo notebook files (`<name>.py`) in a
// folder, created from templates, copied and deleted, with editing locks in host storage (one
// holder, an expiry that heartbeats extend, release, force-release). Starting Marimo is not this
// plugin's job: a lock answers where an editor would attach (config `notebooks.editor_url`).
#pragma once

#include <cstdint>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <vector>

namespace dango {

namespace sdk = plughost::sdk;

struct NotebookSettings {
  std::string dir;         // default <data_dir>/notebooks
  int lock_minutes = 15;   // NOTES: locks 15 min
  std::string editor_url;  // "{name}" replaced; empty: no editor configured
};

struct NotebookLock {
  std::string owner_id;
  std::string owner_name;
  std::string acquired_at;
  int64_t expires_at = 0;  // Unix seconds
};

struct NotebookInfo {
  std::string name;
  std::string file;
  int64_t size_bytes = 0;
  std::string modified_at;
  std::optional<std::string> creator_id, creator_name, created_at;
  std::optional<NotebookLock> lock;  // live locks only
};

// Who is calling: the principal's id and display name.
struct Caller {
  std::string id;
  std::string name;
};

// The result of a lock operation: ok, or the holder that refused it.
struct LockOutcome {
  bool ok = false;
  std::optional<NotebookLock> lock;  // the caller's lock when ok, else the holder's (if any)
};

class NotebookStore {
 public:
  NotebookStore(sdk::Services host, NotebookSettings settings);

  const NotebookSettings& settings() const { return settings_; }
  static const std::vector<std::string>& templates();  // blank, explore, quality

  std::vector<NotebookInfo> list();
  std::optional<NotebookInfo> find(const std::string& name);
  // False when the name exists. The template must be one of templates().
  bool create(const std::string& name, const std::string& template_name, const Caller& by);
  bool copy(const std::string& from, const std::string& to, const Caller& by);
  void remove(const std::string& name);

  LockOutcome acquire(const std::string& name, const Caller& by);
  LockOutcome heartbeat(const std::string& name, const Caller& by);
  LockOutcome release(const std::string& name, const Caller& by);
  // The lock that was removed, if any.
  std::optional<NotebookLock> force_release(const std::string& name);
  std::optional<NotebookLock> lock_of(const std::string& name);

  std::string path_of(const std::string& name) const;
  std::string editor_url(const std::string& name) const;

 private:
  void record_creator(const std::string& name, const Caller& by);

  sdk::Services host_;
  NotebookSettings settings_;
};

}  // namespace dango
