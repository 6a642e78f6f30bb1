// The Event API: signed webhooks from configured sources and events emitted through the API,
// each stored before it is acknowledged; a repeated dedupe key returns the first event.
#pragma once

#include <functional>
#include <map>
#include <plughost/plugin.hpp>
#include <string>

#include "pagination.hpp"
#include "services.hpp"

namespace automate {

using plughost::sdk::Request;
using plughost::sdk::Response;

// A stored event, as the engine sees it.
struct StoredEvent {
  std::string id;
  std::string tenant;
  std::string source;  // "" for an emitted event
  std::string type;
  std::string payload;  // JSON text
  std::string trace_id;
};

struct EventSettings {
  std::map<std::string, std::string> webhook_secrets;  // source -> secret
};

// Reads `webhooks` from the plugin config.
std::map<std::string, std::string> read_webhook_secrets(const rapidjson::Value& config);

// A new event is stored in one transaction with a QUEUED execution of every enabled workflow it
// triggers, before the answer; their tasks are queued after the commit (and re-queued at start
// if the host died in between), so an acknowledged event is never lost and always runs.

// POST /api/automate/webhooks/:source/ — 404 unknown source, 401 missing or bad signature
// (nothing stored), 400 no `event_type`, else the event stored and 202.
Reply ingest_webhook(const Services& p, const EventSettings& s, const Request& rq);
// POST /api/automate/events/ — 201 {event_id, trace_id}; a repeated dedupe_key 200 with the first.
Reply emit_event(const Services& p, const Request& rq);
// GET /api/automate/events/ — paginated, newest first; `source` and `type` filters.
void list_events(const Services& p, const Request& rq, Response& rs);
// The events list's SQL with or without the `source` and `type` filters.
ListSql event_list_sql(bool by_source, bool by_type);

}  // namespace automate
