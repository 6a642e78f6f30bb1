#include "introspection.hpp"

#include <cstdlib>
#include <plughost/json.hpp>

#include "process_runner.hpp"
#include "text.hpp"

namespace inspector {
namespace {

constexpr const char* kMarker = "INSPECTOR-INTROSPECTION-JSON:";
constexpr size_t kKeptLines = 200;

std::string str(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
}

std::vector<std::string> strings(const rapidjson::Value& v, const char* name) {
  std::vector<std::string> out;
  if (!v.IsObject()) return out;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& s : it->value.GetArray()) {
    if (s.IsString()) out.emplace_back(s.GetString());
  }
  return out;
}

rapidjson::Value string_array(const std::vector<std::string>& items,
                              rapidjson::Document::AllocatorType& alloc) {
  rapidjson::Value a(rapidjson::kArrayType);
  for (const auto& s : items) a.PushBack(rapidjson::Value(s.c_str(), alloc), alloc);
  return a;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> command_environment(const Workspace& workspace) {
  auto env = workspace.env;
  bool set = std::getenv("PYTHONUNBUFFERED") != nullptr;
  for (const auto& [name, value] : env) set = set || name == "PYTHONUNBUFFERED";
  if (!set) env.emplace_back("PYTHONUNBUFFERED", "1");
  return env;
}

Introspection introspect(const Workspace& workspace, double timeout_seconds,
                         const std::function<bool()>& cancelled) {
  Introspection out;
  ProcessSpec spec;
  spec.argv = {workspace.python, "manage.py", "shell", "-c", introspection_script()};
  spec.cwd = workspace.path;
  spec.env = command_environment(workspace);
  spec.timeout_seconds = timeout_seconds;
  spec.max_output_bytes = 64 << 20;  // the report is one line; projects can be large
  spec.max_output_lines = 100000;
  std::string report;
  ProcessEvents events;
  events.line = [&](std::string_view line) {
    if (line.rfind(kMarker, 0) == 0) {
      report = std::string(line.substr(std::char_traits<char>::length(kMarker)));
      return;
    }
    out.output.emplace_back(line);
    if (out.output.size() > kKeptLines) out.output.erase(out.output.begin());
  };
  events.notice = [&](std::string_view notice) { out.output.emplace_back(notice); };
  events.cancelled = cancelled;
  ProcessResult r = run_process(spec, events);
  if (!r.started) {
    out.error = "Unable to start command: " + r.start_error;
  } else if (r.timed_out) {
    out.error = "Introspection timed out after " + python_number(timeout_seconds) + "s.";
  } else if (r.cancelled) {
    out.error = "Introspection cancelled.";
  } else if (r.exit_code != 0) {
    out.error = "Introspection failed with exit code " + std::to_string(r.exit_code) + ".";
  } else if (report.empty()) {
    out.error = "Introspection printed no report.";
  }
  if (!out.error.empty()) return out;
  rapidjson::Document d;
  std::string parse_error;
  if (!plughost::sdk::parse_json(report, d, parse_error) || !d.IsObject()) {
    out.error = "Introspection report is not valid JSON: " + parse_error;
    return out;
  }
  out.project = read_project(d);
  return out;
}

void write_project(const ProjectInfo& p, rapidjson::Value& out,
                   rapidjson::Document::AllocatorType& alloc) {
  out.SetObject();
  out.AddMember("django", rapidjson::Value(p.django_version.c_str(), alloc), alloc);
  rapidjson::Value db(rapidjson::kObjectType);
  db.AddMember("engine", rapidjson::Value(p.db_engine.c_str(), alloc), alloc);
  db.AddMember("name", rapidjson::Value(p.db_name.c_str(), alloc), alloc);
  out.AddMember("database", db, alloc);
  rapidjson::Value apps(rapidjson::kArrayType);
  for (const auto& a : p.apps) {
    rapidjson::Value app(rapidjson::kObjectType);
    app.AddMember("name", rapidjson::Value(a.name.c_str(), alloc), alloc);
    app.AddMember("label", rapidjson::Value(a.label.c_str(), alloc), alloc);
    app.AddMember("path", rapidjson::Value(a.path.c_str(), alloc), alloc);
    rapidjson::Value dir;
    if (a.migrations_dir) dir.SetString(a.migrations_dir->c_str(), alloc);
    app.AddMember("migrations_dir", dir, alloc);
    rapidjson::Value models(rapidjson::kArrayType);
    for (const auto& m : a.models) {
      rapidjson::Value model(rapidjson::kObjectType);
      model.AddMember("name", rapidjson::Value(m.name.c_str(), alloc), alloc);
      model.AddMember("fields", string_array(m.fields, alloc), alloc);
      model.AddMember("relations", string_array(m.relations, alloc), alloc);
      models.PushBack(model, alloc);
    }
    app.AddMember("models", models, alloc);
    apps.PushBack(app, alloc);
  }
  out.AddMember("apps", apps, alloc);
}

ProjectInfo read_project(const rapidjson::Value& in) {
  ProjectInfo p;
  p.django_version = str(in, "django");
  if (in.HasMember("database")) {
    p.db_engine = str(in["database"], "engine");
    p.db_name = str(in["database"], "name");
  }
  if (!in.HasMember("apps") || !in["apps"].IsArray()) return p;
  for (const auto& a : in["apps"].GetArray()) {
    AppInfo app;
    app.name = str(a, "name");
    app.label = str(a, "label");
    app.path = str(a, "path");
    if (a.IsObject() && a.HasMember("migrations_dir") && a["migrations_dir"].IsString()) {
      app.migrations_dir = a["migrations_dir"].GetString();
    }
    if (a.IsObject() && a.HasMember("models") && a["models"].IsArray()) {
      for (const auto& m : a["models"].GetArray()) {
        app.models.push_back({str(m, "name"), strings(m, "fields"), strings(m, "relations")});
      }
    }
    p.apps.push_back(std::move(app));
  }
  return p;
}

}  // namespace inspector
