#include "events.hpp"

#include <optional>

#include "basics.hpp"
#include "engine.hpp"
#include "pagination.hpp"
#include "signature.hpp"
#include "workflows.hpp"

namespace automate {

using plughost::sdk::HttpError;
using plughost::sdk::Statement;

namespace {

HttpError invalid(const std::string& field, const std::string& message) {
  return HttpError(400, "VALIDATION_ERROR", "Invalid input", {{field, message}});
}

// The first string among `keys` in `body`; 400 naming keys[0] when one is present but not a
// non-empty string.
std::optional<std::string> string_member(const rapidjson::Value& body,
                                         std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (!body.HasMember(k) || body[k].IsNull()) continue;
    if (!body[k].IsString() || body[k].GetStringLength() == 0) {
      throw invalid(*keys.begin(), "Must be a non-empty string");
    }
    return std::string(body[k].GetString());
  }
  return std::nullopt;
}

std::string payload_text(const rapidjson::Value& body, const char* key) {
  if (!body.HasMember(key) || body[key].IsNull()) return "{}";
  if (!body[key].IsObject()) throw invalid(key, "Must be an object");
  return plughost::sdk::to_json(body[key]);
}

std::optional<std::string> event_with_dedupe_key(const Services& p, const std::string& tenant,
                                                 const std::string& key) {
  auto st = p.sql("SELECT id FROM automate_events WHERE tenant = :tenant AND dedupe_key = :key");
  st.bind(":tenant", tenant).bind(":key", key);
  if (st.step()) return st.text(0);
  return std::nullopt;
}

void insert_event(plughost::sdk::Transaction& txn, const StoredEvent& e,
                  const std::optional<std::string>& key) {
  txn.sql(
         "INSERT INTO automate_events (id, tenant, source, type, payload, dedupe_key, trace_id, "
         "created_at) VALUES (:id, :tenant, :source, :type, :payload, :key, :trace, :now)")
      .bind(":id", e.id)
      .bind(":tenant", e.tenant)
      .bind(":source", e.source)
      .bind(":type", e.type)
      .bind(":payload", e.payload)
      .bind(":key", key)
      .bind(":trace", e.trace_id)
      .bind(":now", now_iso())
      .exec();
}

rapidjson::Value event_json(const Statement& st, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("id", str(st.text(0), a), a);
  v.AddMember("source", str(st.text(1), a), a);
  v.AddMember("type", str(st.text(2), a), a);
  v.AddMember("payload", parse_into(st.text(3), a), a);
  rapidjson::Value key;
  if (!st.is_null(4)) key = str(st.text(4), a);
  v.AddMember("dedupe_key", key, a);
  v.AddMember("trace_id", str(st.text(5), a), a);
  v.AddMember("created_at", str(st.text(6), a), a);
  return v;
}

// Stores the event and its executions in one transaction, then queues their tasks. Throws
// sdk::Error when the event could not be stored (a taken dedupe key included).
void store_event(const Services& p, const StoredEvent& e, const std::optional<std::string>& key) {
  auto workflows = workflows_triggered_by(p, e.tenant, e.source, e.type);
  std::vector<std::string> executions;
  {
    auto txn = p.transaction();
    insert_event(txn, e, key);
    executions = insert_executions(txn, e, workflows);
    txn.commit();
  }
  enqueue_executions(p, executions);
}

rapidjson::Document body_object(const Request& rq) {
  rapidjson::Document body = rq.json();
  if (!body.IsObject()) throw HttpError(400, "VALIDATION_ERROR", "The body must be a JSON object");
  return body;
}

}  // namespace

std::map<std::string, std::string> read_webhook_secrets(const rapidjson::Value& config) {
  std::map<std::string, std::string> out;
  if (!config.IsObject() || !config.HasMember("webhooks") || !config["webhooks"].IsObject()) {
    return out;
  }
  for (const auto& m : config["webhooks"].GetObject()) {
    if (m.value.IsObject() && m.value.HasMember("secret") && m.value["secret"].IsString() &&
        m.value["secret"].GetStringLength() > 0) {
      out[m.name.GetString()] = m.value["secret"].GetString();
    }
  }
  return out;
}

Reply ingest_webhook(const Services& p, const EventSettings& s, const Request& rq) {
  std::string source(rq.param("source").value_or(""));
  auto secret = s.webhook_secrets.find(source);
  if (secret == s.webhook_secrets.end()) {
    throw HttpError(404, "NOT_FOUND", "Unknown webhook source '" + source + "'");
  }
  auto signature =
      signature_from_headers(rq.header("x-webhook-signature"), rq.header("x-signature"));
  if (!signature) throw HttpError(401, "UNAUTHORIZED", "Missing webhook signature");
  if (!verify_webhook_signature(secret->second, rq.body(), *signature)) {
    throw HttpError(401, "UNAUTHORIZED", "Invalid webhook signature");
  }
  auto body = body_object(rq);
  auto type = string_member(body, {"event_type", "type"});
  if (!type) throw invalid("event_type", "This field is required");
  StoredEvent e{new_uuid(), std::string(rq.tenant()),   source,
                *type,      payload_text(body, "data"), std::string(rq.trace_id())};
  store_event(p, e, std::nullopt);
  rapidjson::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("event_id", str(e.id, a), a);
  out.AddMember("trace_id", str(e.trace_id, a), a);
  out.AddMember("message", "Event accepted for processing", a);
  return {202, plughost::sdk::to_json(out)};
}

Reply emit_event(const Services& p, const Request& rq) {
  auto body = body_object(rq);
  auto type = string_member(body, {"type", "event_type"});
  if (!type) throw invalid("type", "This field is required");
  auto key = string_member(body, {"dedupe_key", "idempotency_key"});
  StoredEvent e{new_uuid(), std::string(rq.tenant()),      "",
                *type,      payload_text(body, "payload"), std::string(rq.trace_id())};
  std::optional<std::string> first;
  if (key) first = event_with_dedupe_key(p, e.tenant, *key);
  if (!first) {
    try {
      store_event(p, e, key);
    } catch (const plughost::sdk::Error&) {
      if (key) first = event_with_dedupe_key(p, e.tenant, *key);  // lost a race on the key
      if (!first) throw;
    }
  }
  rapidjson::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("event_id", str(first ? *first : e.id, a), a);
  out.AddMember("trace_id", str(e.trace_id, a), a);
  return {first ? 200 : 201, plughost::sdk::to_json(out)};
}

ListSql event_list_sql(bool by_source, bool by_type) {
  ListSql q{"SELECT id, source, type, payload, dedupe_key, trace_id, created_at",
            "FROM automate_events WHERE tenant = :tenant", "created_at DESC, id DESC"};
  if (by_source) q.from_where += " AND source = :source";
  if (by_type) q.from_where += " AND type = :type";
  return q;
}

void list_events(const Services& p, const Request& rq, Response& rs) {
  Page page = read_page(rq);
  auto source = rq.query("source");
  auto type = rq.query("type");
  auto bind = [&](Statement& st) {
    st.bind(":tenant", rq.tenant());
    if (source) st.bind(":source", *source);
    if (type) st.bind(":type", *type);
  };
  answer_page(p, rq, rs, page, event_list_sql(source.has_value(), type.has_value()), bind,
              event_json);
}

}  // namespace automate
