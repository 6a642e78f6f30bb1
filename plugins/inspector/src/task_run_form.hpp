// task_run_form.hpp — POST /api/task-runs/ input: the body (form-encoded, multipart or JSON)
// read into fields, then validated as djdesk's TaskRunForm with Django's messages:
//   workspace, preset  "This field is required." / "Select a valid choice. That choice is not
//                      one of the available choices."
//   notes              at most 280 characters
//   confirm_safe       false only when absent, empty or "false" (any case); else true —
//                      "Confirmation is required to dispatch a task."
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "settings.hpp"

namespace inspector {

using FormFields = std::map<std::string, std::string>;  // an absent field is not in the map

// Reads the body by its Content-Type: JSON ("…json"), multipart/form-data, else
// application/x-www-form-urlencoded. nullopt for a body that is not valid JSON.
std::optional<FormFields> read_form(std::string_view body, std::string_view content_type);

// Django's form.errors: field name -> messages, in the form's field order ("__all__" last).
using FieldErrors = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct TaskRunRequest {
  const Workspace* workspace = nullptr;
  const Preset* preset = nullptr;
  std::string notes;
};

struct TaskRunValidation {
  std::optional<TaskRunRequest> request;
  FieldErrors errors;
};

TaskRunValidation validate_task_run(const FormFields& fields, const Settings& settings);

// {"errors": {"<field>": ["<msg>"], …}}
std::string errors_json(const FieldErrors& errors);

}  // namespace inspector
