// The Workflow API: CRUD on workflows scoped by tenant, unique slugs, graph validation on save,
// a version bump (and the prior version kept) on every update.
#pragma once

#include <plughost/plugin.hpp>
#include <set>
#include <string>
#include <vector>

#include "pagination.hpp"
#include "services.hpp"

namespace automate {

using plughost::sdk::Request;
using plughost::sdk::Response;

void list_workflows(const Services& p, const Request& rq, Response& rs);
// The list's SQL for an `ordering` value (default "-created_at"; 400 naming `ordering` when
// unknown) with or without the `enabled` and `search` filters.
ListSql workflow_list_sql(std::string_view ordering, bool by_enabled, bool by_search);
Reply create_workflow(const Services& p, const Request& rq);
void get_workflow(const Services& p, const Request& rq, Response& rs);
Reply update_workflow(const Services& p, const Request& rq);
Reply delete_workflow(const Services& p, const Request& rq);
// The prior versions of one workflow, newest first: [{workflow_version, created_at, snapshot}].
void list_workflow_versions(const Services& p, const Request& rq, Response& rs);

// Validates `body` (a create body) and stores it as a new workflow of `tenant`; returns its JSON.
// Throws HttpError 400 VALIDATION_ERROR.
std::string insert_workflow(const Services& p, const std::string& tenant, rapidjson::Document& body,
                            const std::set<std::string>& step_types);

// Creates each workflow of `seeds` (create bodies, plus an optional `tenant`, default
// "default") whose slug (given, or from the name) its tenant does not have yet; an existing one
// is left as it is. Invalid ones are logged and skipped.
void seed_workflows(const Services& p, const rapidjson::Value& seeds,
                    const std::set<std::string>& step_types);

// What the engine needs of a workflow to run it.
struct RunnableWorkflow {
  std::string id;
  std::string name;
  int64_t version = 0;
  std::string graph;  // JSON text
};

// Enabled workflows of `tenant` whose trigger matches an event: `webhook` ones by
// trigger_config.source (when set) and trigger_config.event_type (when set), `event` ones by
// trigger_config.event_type (when set).
std::vector<RunnableWorkflow> workflows_triggered_by(const Services& p, const std::string& tenant,
                                                     const std::string& source,
                                                     const std::string& type);

}  // namespace automate
