#include "notebooks.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "time_text.hpp"

namespace dango {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHeader =
    "import marimo\n\n__generated_with = \"0.9.0\"\napp = marimo.App(width=\"medium\")\n\n\n"
    "@app.cell\ndef __():\n    import marimo as mo\n    return (mo,)\n\n\n";
constexpr const char* kFooter = "if __name__ == \"__main__\":\n    app.run()\n";

std::string template_text(const std::string& name) {
  std::string body;
  if (name == "explore") {
    body =
        "@app.cell\ndef __(mo):\n    mo.md(\"# Explore the warehouse\")\n    return\n\n\n"
        "@app.cell\ndef __(mo):\n    tables = mo.sql(\"SELECT table_schema, table_name FROM "
        "information_schema.tables ORDER BY 1, 2\")\n    return (tables,)\n\n\n";
  } else if (name == "quality") {
    body =
        "@app.cell\ndef __(mo):\n    mo.md(\"# Data quality checks\")\n    return\n\n\n"
        "@app.cell\ndef __(mo):\n    table = mo.ui.text(label=\"Table\", "
        "value=\"raw_source.table\")\n"
        "    table\n    return (table,)\n\n\n"
        "@app.cell\ndef __(mo, table):\n    nulls = mo.sql(f\"SELECT COUNT(*) AS row_count FROM "
        "{table.value}\")\n    return (nulls,)\n\n\n";
  }
  return kHeader + body + kFooter;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso_mtime(const fs::path& p) {
  std::error_code ec;
  auto t = fs::last_write_time(p, ec);
  if (ec) return "";
  auto sys = std::chrono::system_clock::now() +
             std::chrono::duration_cast<std::chrono::system_clock::duration>(
                 t - fs::file_time_type::clock::now());
  return iso_utc(std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count());
}

}  // namespace

NotebookStore::NotebookStore(sdk::Services host, NotebookSettings settings)
    : host_(host), settings_(std::move(settings)) {}

const std::vector<std::string>& NotebookStore::templates() {
  static const std::vector<std::string> list = {"blank", "explore", "quality"};
  return list;
}

std::string NotebookStore::path_of(const std::string& name) const {
  return (fs::path(settings_.dir) / (name + ".py")).string();
}

std::string NotebookStore::editor_url(const std::string& name) const {
  std::string url = settings_.editor_url;
  for (auto at = url.find("{name}"); at != std::string::npos; at = url.find("{name}")) {
    url.replace(at, 6, name);
  }
  return url;
}

std::optional<NotebookInfo> NotebookStore::find(const std::string& name) {
  fs::path p = path_of(name);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec) || fs::is_symlink(p, ec)) return std::nullopt;
  NotebookInfo n;
  n.name = name;
  n.file = p.string();
  n.size_bytes = static_cast<int64_t>(fs::file_size(p, ec));
  n.modified_at = iso_mtime(p);
  auto st =
      host_.sql("SELECT creator_id, creator_name, created_at FROM dango_notebooks WHERE name = :n");
  st.bind("n", name);
  if (st.step()) {
    n.creator_id = st.text(0);
    n.creator_name = st.text(1);
    n.created_at = st.text(2);
  }
  n.lock = lock_of(name);
  return n;
}

std::vector<NotebookInfo> NotebookStore::list() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(settings_.dir, ec)) {
    if (e.path().extension() == ".py" && e.is_regular_file() && !e.is_symlink()) {
      names.push_back(e.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  std::vector<NotebookInfo> out;
  for (const auto& n : names) {
    if (auto info = find(n)) out.push_back(std::move(*info));
  }
  return out;
}

void NotebookStore::record_creator(const std::string& name, const Caller& by) {
  host_.sql("DELETE FROM dango_notebooks WHERE name = :n").bind("n", name).exec();
  host_
      .sql(
          "INSERT INTO dango_notebooks (name, creator_id, creator_name, created_at) VALUES (:n,"
          " :id, :who, :at)")
      .bind("n", name)
      .bind("id", by.id)
      .bind("who", by.name)
      .bind("at", iso_utc_now())
      .exec();
}

namespace {

// Writes `text` to `path` only if nothing is there (O_EXCL semantics via a temp + link).
bool write_new(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::string temp = path + ".tmp-" + std::to_string(unix_now()) + "-" +
                     std::to_string(reinterpret_cast<uintptr_t>(&text));
  {
    std::ofstream out(temp, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + temp);
  }
  std::error_code ec;
  fs::create_hard_link(temp, path, ec);  // fails if `path` exists: no overwrite race
  fs::remove(temp);
  return !ec;
}

}  // namespace

bool NotebookStore::create(const std::string& name, const std::string& template_name,
                           const Caller& by) {
  if (!write_new(path_of(name), template_text(template_name))) return false;
  record_creator(name, by);
  return true;
}

bool NotebookStore::copy(const std::string& from, const std::string& to, const Caller& by) {
  std::ifstream in(path_of(from), std::ios::binary);
  if (!in) return false;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!write_new(path_of(to), text)) return false;
  record_creator(to, by);
  return true;
}

void NotebookStore::remove(const std::string& name) {
  fs::remove(path_of(name));
  host_.sql("DELETE FROM dango_notebooks WHERE name = :n").bind("n", name).exec();
  host_.sql("DELETE FROM dango_notebook_locks WHERE notebook = :n").bind("n", name).exec();
}

std::optional<NotebookLock> NotebookStore::lock_of(const std::string& name) {
  auto st = host_.sql(
      "SELECT owner_id, owner_name, acquired_at, expires_at FROM dango_notebook_locks WHERE"
      " notebook = :n AND expires_at > :now");
  st.bind("n", name).bind("now", unix_now());
  if (!st.step()) return std::nullopt;
  return NotebookLock{st.text(0), st.text(1), st.text(2), st.int64(3)};
}

LockOutcome NotebookStore::acquire(const std::string& name, const Caller& by) {
  const int64_t now = unix_now();
  const int64_t expires = now + settings_.lock_minutes * 60;
  host_.sql("DELETE FROM dango_notebook_locks WHERE notebook = :n AND expires_at <= :now")
      .bind("n", name)
      .bind("now", now)
      .exec();
  int64_t inserted = host_
                         .sql(
                             "INSERT INTO dango_notebook_locks (notebook, owner_id, owner_name,"
                             " acquired_at, expires_at) VALUES (:n, :id, :who, :at, :exp)"
                             " ON CONFLICT (notebook) DO NOTHING")
                         .bind("n", name)
                         .bind("id", by.id)
                         .bind("who", by.name)
                         .bind("at", iso_utc_now())
                         .bind("exp", expires)
                         .exec();
  if (inserted == 0) {
    // Held already: by the caller (acquiring again refreshes it) or by someone else.
    host_
        .sql(
            "UPDATE dango_notebook_locks SET expires_at = :exp WHERE notebook = :n AND"
            " owner_id = :id")
        .bind("exp", expires)
        .bind("n", name)
        .bind("id", by.id)
        .exec();
  }
  auto lock = lock_of(name);
  return LockOutcome{lock && lock->owner_id == by.id, lock};
}

LockOutcome NotebookStore::heartbeat(const std::string& name, const Caller& by) {
  const int64_t now = unix_now();
  int64_t changed = host_
                        .sql(
                            "UPDATE dango_notebook_locks SET expires_at = :exp WHERE notebook = :n"
                            " AND owner_id = :id AND expires_at > :now")
                        .bind("exp", now + settings_.lock_minutes * 60)
                        .bind("n", name)
                        .bind("id", by.id)
                        .bind("now", now)
                        .exec();
  auto lock = lock_of(name);
  return LockOutcome{changed > 0 && lock && lock->owner_id == by.id, lock};
}

LockOutcome NotebookStore::release(const std::string& name, const Caller& by) {
  int64_t removed = host_
                        .sql(
                            "DELETE FROM dango_notebook_locks WHERE notebook = :n AND"
                            " owner_id = :id")
                        .bind("n", name)
                        .bind("id", by.id)
                        .exec();
  if (removed > 0) return LockOutcome{true, std::nullopt};
  auto lock = lock_of(name);
  return LockOutcome{!lock, lock};  // nothing held: releasing is a no-op
}

std::optional<NotebookLock> NotebookStore::force_release(const std::string& name) {
  auto lock = lock_of(name);
  host_.sql("DELETE FROM dango_notebook_locks WHERE notebook = :n").bind("n", name).exec();
  return lock;
}

}  // namespace dango
