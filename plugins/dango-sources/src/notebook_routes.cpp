// The notebook routes (seed: Notebooks): list with lock status, create from a template, delete,
// copy; editing locks (acquire, heartbeat, release, admin force-release).
#include "ops.hpp"
#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace {

// NOTES: 400 NB001 name, NB002 template, NB003 duplicate; 404 NB004; 403 NB005; 409 NB006.
std::string valid_name(std::string_view raw) {
  std::string name(raw);
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".py") == 0) name.resize(name.size() - 3);
  bool ok = !name.empty() && name.size() <= 128;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-');
  }
  if (!ok) {
    throw error_reply(400, "DANGO-NB001",
                      "Invalid notebook name: use letters, digits, '_' and '-' (1-128)");
  }
  return name;
}

Caller caller(const sdk::Request& rq) {
  auto p = rq.principal();
  auto id = p.FindMember("id");
  Caller c;
  c.id = id != p.MemberEnd() && id->value.IsString() ? id->value.GetString() : "";
  c.name = caller_name(rq);
  if (c.id.empty()) c.id = "anonymous";
  return c;
}

NotebookInfo existing(Ops& ops, const sdk::Request& rq) {
  std::string name = valid_name(rq.param("name").value_or(""));
  auto info = ops.notebooks.find(name);
  if (!info) throw error_reply(404, "DANGO-NB004", "Notebook '" + name + "' not found");
  return *info;
}

void write_lock(Json& j, const std::optional<NotebookLock>& lock) {
  if (!lock) {
    j.null();
    return;
  }
  j.begin()
      .key("locked_by")
      .str(lock->owner_name)
      .key("owner_id")
      .str(lock->owner_id)
      .key("acquired_at")
      .str(lock->acquired_at)
      .key("expires_at")
      .str(iso_utc(lock->expires_at))
      .end();
}

Reply held_by(const std::string& name, const NotebookLock& lock) {
  return Reply(409, Json()
                        .begin()
                        .key("error_code")
                        .str("DANGO-NB006")
                        .key("message")
                        .str("Notebook '" + name + "' is being edited by " + lock.owner_name)
                        .key("locked_by")
                        .str(lock.owner_name)
                        .key("expires_at")
                        .str(iso_utc(lock.expires_at))
                        .end()
                        .text());
}

void answer_lock(Ops& ops, const std::string& name, const NotebookLock& lock, sdk::Response& rs) {
  std::string url = ops.notebooks.editor_url(name);
  Json j;
  j.begin().key("success").flag(true).key("name").str(name).key("locked").flag(true).key("lock");
  write_lock(j, lock);
  j.key("lock_minutes").num(ops.notebooks.settings().lock_minutes);
  j.key("editor")
      .begin()
      .key("configured")
      .flag(!url.empty())
      .key("url")
      .opt(url.empty() ? std::nullopt : std::optional<std::string>(url))
      .key("file")
      .str(ops.notebooks.path_of(name))
      .key("message")
      .str(url.empty() ? "No notebook editor is configured (notebooks.editor_url); this host "
                         "does not start Marimo"
                       : "Open the editor at url")
      .end()
      .end();
  rs.json_text(j.text());
}

std::string body_string(const rapidjson::Document& d, const char* key) {
  auto it = d.FindMember(key);
  if (it == d.MemberEnd() || it->value.IsNull()) return "";
  if (!it->value.IsString()) {
    throw error_reply(400, key == std::string("template") ? "DANGO-NB002" : "DANGO-NB001",
                      std::string(key) + " must be a string");
  }
  return it->value.GetString();
}

rapidjson::Document object_body(const sdk::Request& rq) {
  rapidjson::Document d;
  std::string error;
  if (rq.body().empty()) {
    d.SetObject();
    return d;
  }
  if (!sdk::parse_json(rq.body(), d, error) || !d.IsObject()) {
    throw detail_reply(422, "Request body must be a JSON object");
  }
  return d;
}

}  // namespace

void list_notebooks(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  Caller me = caller(rq);
  auto list = ops.notebooks.list();
  Json j;
  j.begin().key("notebooks").begin_array();
  for (const auto& n : list) {
    j.begin()
        .key("name")
        .str(n.name)
        .key("file")
        .str(n.file)
        .key("size_bytes")
        .num(n.size_bytes)
        .key("modified_at")
        .str(n.modified_at)
        .key("created_by")
        .opt(n.creator_name)
        .key("created_at")
        .opt(n.created_at)
        .key("locked")
        .flag(n.lock.has_value())
        .key("locked_by")
        .opt(n.lock ? std::optional<std::string>(n.lock->owner_name) : std::nullopt)
        .key("locked_by_me")
        .flag(n.lock && n.lock->owner_id == me.id)
        .key("lock");
    write_lock(j, n.lock);
    j.end();
  }
  j.end_array().key("count").num(static_cast<int64_t>(list.size())).key("templates").begin_array();
  for (const auto& t : NotebookStore::templates()) j.str(t);
  j.end_array().key("directory").str(ops.notebooks.settings().dir).end();
  rs.json_text(j.text());
}

void create_notebook(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  auto body = object_body(rq);
  std::string name = valid_name(body_string(body, "name"));
  std::string tmpl = body_string(body, "template");
  if (tmpl.empty()) tmpl = "blank";
  const auto& known = NotebookStore::templates();
  if (std::find(known.begin(), known.end(), tmpl) == known.end()) {
    throw error_reply(400, "DANGO-NB002",
                      "Unknown template '" + tmpl + "': use blank, explore or quality");
  }
  if (!ops.notebooks.create(name, tmpl, caller(rq))) {
    throw error_reply(400, "DANGO-NB003", "Notebook '" + name + "' already exists");
  }
  rs.json_text(Json()
                   .begin()
                   .key("success")
                   .flag(true)
                   .key("name")
                   .str(name)
                   .key("template")
                   .str(tmpl)
                   .key("file")
                   .str(ops.notebooks.path_of(name))
                   .end()
                   .text(),
               201);
}

void delete_notebook(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  NotebookInfo n = existing(ops, rq);
  Caller me = caller(rq);
  // The creator deletes; others need notebooks.manage (a notebook without a recorded creator,
  // dropped into the folder by hand, too).
  if ((!n.creator_id || *n.creator_id != me.id) && !rq.has_permission("notebooks.manage")) {
    throw error_reply(403, "DANGO-NB005", "Only the notebook's creator can delete it");
  }
  if (n.lock && n.lock->owner_id != me.id) throw held_by(n.name, *n.lock);
  ops.notebooks.remove(n.name);
  rs.json_text(Json()
                   .begin()
                   .key("success")
                   .flag(true)
                   .key("message")
                   .str("Notebook '" + n.name + "' deleted")
                   .end()
                   .text());
}

void lock_notebook(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  NotebookInfo n = existing(ops, rq);
  auto outcome = ops.notebooks.acquire(n.name, caller(rq));
  if (!outcome.ok) throw held_by(n.name, *outcome.lock);
  answer_lock(ops, n.name, *outcome.lock, rs);
}

void heartbeat_notebook(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  NotebookInfo n = existing(ops, rq);
  auto outcome = ops.notebooks.heartbeat(n.name, caller(rq));
  if (!outcome.ok) {
    if (outcome.lock) throw held_by(n.name, *outcome.lock);
    throw error_reply(409, "DANGO-NB006", "You do not hold the lock on notebook '" + n.name + "'");
  }
  Json j;
  j.begin().key("success").flag(true).key("name").str(n.name).key("lock");
  write_lock(j, outcome.lock);
  j.end();
  rs.json_text(j.text());
}

void release_notebook(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  NotebookInfo n = existing(ops, rq);
  auto outcome = ops.notebooks.release(n.name, caller(rq));
  if (!outcome.ok) throw held_by(n.name, *outcome.lock);
  rs.json_text(Json()
                   .begin()
                   .key("success")
                   .flag(true)
                   .key("name")
                   .str(n.name)
                   .key("locked")
                   .flag(false)
                   .end()
                   .text());
}

void force_release_notebook(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  NotebookInfo n = existing(ops, rq);
  auto removed = ops.notebooks.force_release(n.name);
  if (removed) {
    ops.core.host.log(PH_LOG_WARN,
                      "dango-sources: notebook " + n.name + " lock of " + removed->owner_name +
                          " force-released by " + caller_name(rq),
                      &rq);
  }
  rs.json_text(Json()
                   .begin()
                   .key("success")
                   .flag(true)
                   .key("name")
                   .str(n.name)
                   .key("released")
                   .flag(removed.has_value())
                   .key("released_from")
                   .opt(removed ? std::optional<std::string>(removed->owner_name) : std::nullopt)
                   .end()
                   .text());
}

void copy_notebook(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  NotebookInfo n = existing(ops, rq);
  auto body = object_body(rq);
  std::string target = body_string(body, "new_name");
  if (target.empty()) target = body_string(body, "name");
  if (target.empty()) {
    // "<name>_copy", then "<name>_copy_2", … up to the first free name.
    target = n.name + "_copy";
    for (int i = 2; ops.notebooks.find(target) && i < 1000; ++i) {
      target = n.name + "_copy_" + std::to_string(i);
    }
  }
  target = valid_name(target);
  if (!ops.notebooks.copy(n.name, target, caller(rq))) {
    throw error_reply(400, "DANGO-NB003", "Notebook '" + target + "' already exists");
  }
  rs.json_text(Json()
                   .begin()
                   .key("success")
                   .flag(true)
                   .key("name")
                   .str(target)
                   .key("copied_from")
                   .str(n.name)
                   .key("file")
                   .str(ops.notebooks.path_of(target))
                   .end()
                   .text(),
               201);
}

}  // namespace dango
