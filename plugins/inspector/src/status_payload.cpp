#include "status_payload.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "clock.hpp"
#include "introspection.hpp"
#include "preset_run.hpp"

namespace inspector {
namespace {

using Alloc = rapidjson::Document::AllocatorType;
constexpr int kScans = 4;
constexpr int kTasks = 5;
constexpr size_t kLogExcerptLines = 12;
constexpr size_t kActivityItems = 8;

rapidjson::Value text(const std::string& s, Alloc& a) {
  return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

rapidjson::Value time_or_null(const std::optional<double>& t, Alloc& a) {
  return t ? text(iso_timestamp(*t), a) : rapidjson::Value();
}

std::optional<rapidjson::Document> result_of(const ScanRecord& scan) {
  if (!scan.result_json) return std::nullopt;
  rapidjson::Document d;
  d.Parse(scan.result_json->c_str());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  return d;
}

std::optional<ProjectInfo> project_of(const ScanRecord& scan) {
  auto d = result_of(scan);
  if (!d || !d->HasMember("project")) return std::nullopt;
  return read_project((*d)["project"]);
}

// "+1 vs last sync", "-2 vs last sync", "no change vs last sync", "first sync".
std::string delta_text(std::optional<long> current, std::optional<long> previous) {
  if (!current || !previous) return "first sync";
  long d = *current - *previous;
  if (d == 0) return "no change vs last sync";
  return (d > 0 ? "+" : "") + std::to_string(d) + " vs last sync";
}

struct ScanFacts {
  std::optional<ProjectInfo> project;  // latest schema scan (else latest migration scan)
  std::optional<long> models, previous_models, apps, previous_apps;
  std::optional<long> pending, previous_pending;
  std::map<std::string, long> pending_by_label;  // Django app label -> pending count
};

ScanFacts collect_facts(const ScanStore& scans, const std::string& slug) {
  ScanFacts f;
  auto schema = scans.completed(slug, "schema", 2);
  auto migrations = scans.completed(slug, "migrations", 2);
  auto count = [](const ProjectInfo& p, bool models) {
    long n = 0;
    for (const auto& app : p.apps) n += models ? static_cast<long>(app.models.size()) : 1;
    return n;
  };
  for (size_t i = 0; i < schema.size(); ++i) {
    auto p = project_of(schema[i]);
    if (!p) continue;
    (i == 0 ? f.models : f.previous_models) = count(*p, true);
    (i == 0 ? f.apps : f.previous_apps) = count(*p, false);
    if (i == 0) f.project = std::move(p);
  }
  for (size_t i = 0; i < migrations.size(); ++i) {
    auto d = result_of(migrations[i]);
    if (!d || !d->HasMember("pending_total")) continue;
    (i == 0 ? f.pending : f.previous_pending) = (*d)["pending_total"].GetInt64();
    if (i != 0) continue;
    if (!f.project && d->HasMember("project")) f.project = read_project((*d)["project"]);
    if (d->HasMember("migrations") && (*d)["migrations"].IsArray()) {
      for (const auto& app : (*d)["migrations"].GetArray()) {
        f.pending_by_label[app["label"].GetString()] = app["pending"].Size();
      }
    }
  }
  return f;
}

rapidjson::Value insight(const std::string& title, const std::string& value,
                         const std::string& delta, const std::string& severity,
                         const std::string& caption, const std::string& icon, Alloc& a) {
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("title", text(title, a), a);
  v.AddMember("value", text(value, a), a);
  v.AddMember("delta", text(delta, a), a);
  v.AddMember("severity", text(severity, a), a);
  v.AddMember("caption", text(caption, a), a);
  v.AddMember("icon", text(icon, a), a);
  return v;
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : separator) + s;
  return out;
}

rapidjson::Value insights(const ScanFacts& f, const Settings& settings, Alloc& a) {
  rapidjson::Value list(rapidjson::kArrayType);
  std::vector<std::string> pending_apps, app_names;
  if (f.project) {
    for (const auto& app : f.project->apps) {
      app_names.push_back(app.name);
      auto it = f.pending_by_label.find(app.label);
      if (it != f.pending_by_label.end() && it->second > 0) pending_apps.push_back(app.name);
    }
  }
  if (f.pending) {
    list.PushBack(
        insight("Pending migrations", std::to_string(*f.pending),
                delta_text(f.pending, f.previous_pending), *f.pending > 0 ? "warning" : "success",
                joined(pending_apps, " · "), "git-branch", a),
        a);
  }
  if (f.apps) {
    list.PushBack(
        insight("Apps discovered", std::to_string(*f.apps), delta_text(f.apps, f.previous_apps),
                "info", joined(app_names, ", "), "layers", a),
        a);
    list.PushBack(
        insight("Models", std::to_string(*f.models), delta_text(f.models, f.previous_models),
                "info", "across " + std::to_string(*f.apps) + " apps", "database", a),
        a);
  }
  std::vector<std::string> labels;
  for (const auto& p : settings.presets) labels.push_back(p.label);
  list.PushBack(insight("Automation presets", std::to_string(settings.presets.size()),
                        "ready to run", "success", joined(labels, ", "), "sparkles", a),
                a);
  return list;
}

rapidjson::Value apps(const ScanFacts& f, Alloc& a) {
  rapidjson::Value list(rapidjson::kArrayType);
  if (!f.project) return list;
  for (const auto& app : f.project->apps) {
    auto it = f.pending_by_label.find(app.label);
    long pending = it == f.pending_by_label.end() ? 0 : it->second;
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("label", text(app.name, a), a);
    v.AddMember("pending_migrations", static_cast<int64_t>(pending), a);
    v.AddMember("models", static_cast<uint64_t>(app.models.size()), a);
    v.AddMember("status", rapidjson::StringRef(pending > 0 ? "warning" : "success"), a);
    list.PushBack(v, a);
  }
  return list;
}

rapidjson::Value schema(const ScanFacts& f, Alloc& a) {
  rapidjson::Value nodes(rapidjson::kArrayType), connections(rapidjson::kArrayType);
  std::vector<std::pair<std::string, std::string>> seen;
  if (f.project) {
    for (const auto& app : f.project->apps) {
      for (const auto& m : app.models) {
        rapidjson::Value node(rapidjson::kObjectType);
        node.AddMember("name", text(m.name, a), a);
        rapidjson::Value fields(rapidjson::kArrayType), relations(rapidjson::kArrayType);
        for (const auto& field : m.fields) fields.PushBack(text(field, a), a);
        for (const auto& r : m.relations) {
          relations.PushBack(text(r, a), a);
          std::pair<std::string, std::string> pair(std::min(m.name, r), std::max(m.name, r));
          if (std::find(seen.begin(), seen.end(), pair) != seen.end()) continue;
          seen.push_back(pair);
          rapidjson::Value c(rapidjson::kObjectType);
          c.AddMember("source", text(m.name, a), a);
          c.AddMember("target", text(r, a), a);
          connections.PushBack(c, a);
        }
        node.AddMember("fields", fields, a);
        node.AddMember("relations", relations, a);
        node.AddMember("badge", text(app.label, a), a);
        nodes.PushBack(node, a);
      }
    }
  }
  rapidjson::Value out(rapidjson::kObjectType);
  out.AddMember("nodes", nodes, a);
  out.AddMember("connections", connections, a);
  return out;
}

std::string level_of(const std::string& message) {
  if (message == "Command finished with exit code 0.") return "success";
  if (message.rfind("Command finished with exit code", 0) == 0 ||
      message.rfind("Command timed out", 0) == 0 || message.rfind("Unable to", 0) == 0 ||
      message.rfind("Command is not part", 0) == 0 || message.rfind("Workspace path", 0) == 0 ||
      message.rfind("Permission denied", 0) == 0 || message.rfind("manage.py not found", 0) == 0 ||
      message.rfind("Task ended", 0) == 0 || message.rfind("Introspection", 0) == 0) {
    return "error";
  }
  if (message.rfind("Timeout reached", 0) == 0 || message.rfind("Output limit", 0) == 0 ||
      message.rfind("Cancellation", 0) == 0 || message.rfind("Command cancelled", 0) == 0) {
    return "warning";
  }
  return "info";
}

void add_log_lines(const std::string& log, std::vector<rapidjson::Value>& out, Alloc& a) {
  size_t start = 0;
  while (start < log.size()) {
    size_t nl = log.find('\n', start);
    if (nl == std::string::npos) nl = log.size();
    std::string line = log.substr(start, nl - start);
    start = nl + 1;
    std::string stamp, message = line;
    if (line.size() > 11 && line[0] == '[' && line[9] == ']') {
      stamp = line.substr(1, 8);
      message = line.substr(11);
    }
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("timestamp", text(stamp, a), a);
    v.AddMember("level", text(level_of(message), a), a);
    v.AddMember("message", text(message, a), a);
    out.push_back(std::move(v));
  }
}

// The newest lines of the recent runs' logs (the scans' logs when nothing ran yet), oldest first.
rapidjson::Value log_excerpt(const std::vector<RunRecord>& runs,
                             const std::vector<ScanRecord>& scans, Alloc& a) {
  std::vector<rapidjson::Value> lines;
  if (!runs.empty()) {
    for (auto it = runs.rbegin(); it != runs.rend(); ++it) add_log_lines(it->log, lines, a);
  } else {
    for (auto it = scans.rbegin(); it != scans.rend(); ++it) add_log_lines(it->log, lines, a);
  }
  rapidjson::Value list(rapidjson::kArrayType);
  size_t from = lines.size() > kLogExcerptLines ? lines.size() - kLogExcerptLines : 0;
  for (size_t i = from; i < lines.size(); ++i) list.PushBack(lines[i], a);
  return list;
}

struct ActivityItem {
  double at;
  std::string kind, message, status;
};

rapidjson::Value activity(const std::vector<RunRecord>& runs, const std::vector<ScanRecord>& scans,
                          Alloc& a) {
  std::vector<ActivityItem> items;
  for (const auto& s : scans) {
    double at = s.completed_at.value_or(s.started_at.value_or(s.created_at));
    std::string status = s.status == "completed" ? "success"
                         : s.status == "failed"  ? "error"
                                                 : "info";
    items.push_back(
        {at, "scan", scan_kind_label(s.kind) + " " + s.status + ": " + s.summary, status});
  }
  for (const auto& r : runs) {
    double at = r.completed_at.value_or(r.started_at.value_or(r.requested_at));
    std::string status = r.status == "succeeded"   ? "success"
                         : r.status == "failed"    ? "error"
                         : r.status == "cancelled" ? "warning"
                                                   : "info";
    items.push_back({at, "task", r.label + " " + r.status, status});
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const ActivityItem& x, const ActivityItem& y) { return x.at > y.at; });
  rapidjson::Value list(rapidjson::kArrayType);
  for (size_t i = 0; i < items.size() && i < kActivityItems; ++i) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("timestamp", text(iso_timestamp(items[i].at), a), a);
    v.AddMember("kind", text(items[i].kind, a), a);
    v.AddMember("message", text(items[i].message, a), a);
    v.AddMember("status", text(items[i].status, a), a);
    list.PushBack(v, a);
  }
  return list;
}

rapidjson::Value scan_list(const std::vector<ScanRecord>& scans, Alloc& a) {
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& s : scans) {
    std::string excerpt;
    if (size_t nl = s.log.rfind('\n'); !s.log.empty()) {
      excerpt = nl == std::string::npos ? s.log : s.log.substr(nl + 1);
      if (excerpt.size() > 11 && excerpt[0] == '[') excerpt = excerpt.substr(11);
    }
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("id", s.id, a);
    v.AddMember("kind", text(s.kind, a), a);
    v.AddMember("kind_label", text(scan_kind_label(s.kind), a), a);
    v.AddMember("status", text(s.status, a), a);
    v.AddMember("progress", s.progress, a);
    v.AddMember("summary", text(s.summary, a), a);
    v.AddMember("log_excerpt", text(excerpt, a), a);
    v.AddMember("started_at", time_or_null(s.started_at, a), a);
    v.AddMember("completed_at", time_or_null(s.completed_at, a), a);
    list.PushBack(v, a);
  }
  return list;
}

rapidjson::Value doc_links(const Settings& settings, const Workspace& workspace, Alloc& a) {
  rapidjson::Value list(rapidjson::kArrayType);
  auto add = [&](const DocLink& l) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("title", text(l.title, a), a);
    v.AddMember("url", text(l.url, a), a);
    v.AddMember("icon", text(l.icon, a), a);
    v.AddMember("pane_target", text(l.pane_target, a), a);
    v.AddMember("description", text(l.description, a), a);
    list.PushBack(v, a);
  };
  for (const auto& l : settings.doc_links) add(l);
  for (const auto& l : workspace.doc_links) add(l);
  return list;
}

// djdesk's Data Lab: its two notebook templates; this plugin exports no notebooks.
rapidjson::Value data_lab(const Settings& settings, Alloc& a) {
  struct Template {
    const char *slug, *title, *description, *tag1, *tag2;
  };
  static const Template kTemplates[] = {
      {"schema-audit", "Schema audit starter",
       "Summarise discovered models and pending migrations.", "schema", "inspector"},
      {"log-study", "Log study scratchpad",
       "Explore tail logs exported from the inspector without mutating the project.", "logs",
       nullptr},
  };
  rapidjson::Value templates(rapidjson::kArrayType);
  for (const auto& t : kTemplates) {
    rapidjson::Value v(rapidjson::kObjectType), tags(rapidjson::kArrayType);
    v.AddMember("slug", rapidjson::StringRef(t.slug), a);
    v.AddMember("title", rapidjson::StringRef(t.title), a);
    v.AddMember("description", rapidjson::StringRef(t.description), a);
    tags.PushBack(rapidjson::StringRef(t.tag1), a);
    if (t.tag2) tags.PushBack(rapidjson::StringRef(t.tag2), a);
    v.AddMember("tags", tags, a);
    templates.PushBack(v, a);
  }
  rapidjson::Value out(rapidjson::kObjectType);
  out.AddMember("templates", templates, a);
  out.AddMember("notebooks", rapidjson::Value(rapidjson::kArrayType), a);
  out.AddMember("live_enabled", settings.data_lab_live, a);
  return out;
}

}  // namespace

void write_task_run_summary(const RunRecord& run, rapidjson::Value& out, Alloc& a) {
  out.SetObject();
  out.AddMember("id", run.id, a);
  out.AddMember("preset", text(run.preset, a), a);
  out.AddMember("label", text(run.label, a), a);
  out.AddMember("status", text(run.status, a), a);
  out.AddMember("progress", run.progress, a);
  out.AddMember("log", text(run.log, a), a);
  out.AddMember("requested_at", text(iso_timestamp(run.requested_at), a), a);
  out.AddMember("completed_at", time_or_null(run.completed_at, a), a);
}

void build_status_payload(const StatusSources& src, const Workspace& workspace,
                          rapidjson::Document& out) {
  auto& a = out.GetAllocator();
  out.SetObject();
  std::vector<RunRecord> runs = src.runs.newest(workspace.slug, kTasks);
  for (auto& r : runs) settle_orphaned_run(r, src.runs, src.host);
  std::vector<ScanRecord> scans = src.scans.newest(workspace.slug, kScans);
  ScanFacts facts = collect_facts(src.scans, workspace.slug);

  out.AddMember("workspace", text(workspace.slug, a), a);
  out.AddMember("insights", insights(facts, src.settings, a), a);
  out.AddMember("apps", apps(facts, a), a);
  out.AddMember("activity", activity(runs, scans, a), a);
  out.AddMember("schema", schema(facts, a), a);
  out.AddMember("log_excerpt", log_excerpt(runs, scans, a), a);
  out.AddMember("scans", scan_list(scans, a), a);
  rapidjson::Value tasks(rapidjson::kArrayType);
  for (const auto& r : runs) {
    rapidjson::Value v;
    write_task_run_summary(r, v, a);
    tasks.PushBack(v, a);
  }
  out.AddMember("tasks", tasks, a);
  rapidjson::Value links = doc_links(src.settings, workspace, a);
  rapidjson::Value docs;
  docs.CopyFrom(links, a);
  out.AddMember("doc_links", links, a);
  out.AddMember("docs", docs, a);
  out.AddMember("data_lab", data_lab(src.settings, a), a);
}

}  // namespace inspector
