// introspection.hpp — what a workspace's Django project declares: its own apps, their models
// (fields, relations in both directions), migration directories and database settings.
// Obtained by running a fixed, read-only script shipped with the plugin (src/introspect.py)
// through `python manage.py shell -c`, so Django itself resolves settings and models; no
// user-supplied code or allow-listed preset is involved.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "settings.hpp"

namespace inspector {

struct ModelInfo {
  std::string name;
  std::vector<std::string> fields;
  std::vector<std::string> relations;
};

struct AppInfo {
  std::string name;   // dotted, as installed: "studio.catalog"
  std::string label;  // Django's app label: "catalog"
  std::string path;
  std::optional<std::string> migrations_dir;
  std::vector<ModelInfo> models;
};

struct ProjectInfo {
  std::string django_version;
  std::string db_engine;  // "django.db.backends.sqlite3"
  std::string db_name;    // for SQLite, the database file
  std::vector<AppInfo> apps;
};

struct Introspection {
  std::optional<ProjectInfo> project;
  std::string error;                // why there is no project
  std::vector<std::string> output;  // what the command printed (capped)
};

// The script's text (generated from src/introspect.py).
const char* introspection_script();

// Runs the script in `workspace`; `cancelled` is polled while it runs.
Introspection introspect(const Workspace& workspace, double timeout_seconds,
                         const std::function<bool()>& cancelled);

void write_project(const ProjectInfo& project, rapidjson::Value& out,
                   rapidjson::Document::AllocatorType& alloc);
ProjectInfo read_project(const rapidjson::Value& in);

// The environment every command in `workspace` gets: its `env`, plus PYTHONUNBUFFERED=1 unless
// already set (djdesk's env.setdefault).
std::vector<std::pair<std::string, std::string>> command_environment(const Workspace& workspace);

}  // namespace inspector
