#include "notifications.hpp"

#include <algorithm>
#include <chrono>
#include <plughost/http_client.hpp>
#include <stdexcept>
#include <thread>

#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace {

std::string str(const rapidjson::Value& v, const char* key, const std::string& fallback = "") {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : fallback;
}

std::vector<std::string> strings(const rapidjson::Value& v, const char* key,
                                 std::vector<std::string> fallback, const std::string& where) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd()) return fallback;
  if (!it->value.IsArray()) throw std::invalid_argument(where + "." + key + " must be a list");
  std::vector<std::string> out;
  for (const auto& s : it->value.GetArray()) {
    if (!s.IsString()) throw std::invalid_argument(where + "." + key + " must list strings");
    out.push_back(s.GetString());
  }
  return out;
}

WebhookTarget parse_target(const rapidjson::Value& v, size_t index) {
  std::string where = "notifications.webhooks[" + std::to_string(index) + "]";
  if (!v.IsObject()) throw std::invalid_argument(where + " must be an object");
  WebhookTarget t;
  t.url = str(v, "url");
  if (t.url.rfind("http://", 0) != 0 && t.url.rfind("https://", 0) != 0) {
    throw std::invalid_argument(where + ".url must be an http:// or https:// URL");
  }
  t.name = str(v, "name", "webhook_" + std::to_string(index + 1));
  t.format = str(v, "format", "json");
  if (t.format != "json" && t.format != "slack") {
    throw std::invalid_argument(where + ".format must be json or slack");
  }
  t.on = strings(v, "on", t.on, where);
  for (const auto& o : t.on) {
    if (o != "failure" && o != "success") {
      throw std::invalid_argument(where + ".on: '" + o + "' is neither failure nor success");
    }
  }
  t.sources = strings(v, "sources", {}, where);
  auto headers = v.FindMember("headers");
  if (headers != v.MemberEnd() && headers->value.IsObject()) {
    for (const auto& h : headers->value.GetObject()) {
      if (h.value.IsString()) t.headers.emplace_back(h.name.GetString(), h.value.GetString());
    }
  }
  auto timeout = v.FindMember("timeout_seconds");
  if (timeout != v.MemberEnd() && timeout->value.IsNumber()) {
    t.timeout_seconds = std::clamp(timeout->value.GetDouble(), 0.1, 60.0);
  }
  auto retries = v.FindMember("retries");
  if (retries != v.MemberEnd() && retries->value.IsInt()) {
    t.retries = std::clamp(retries->value.GetInt(), 0, 10);
  }
  return t;
}

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string short_text(const std::string& s) {
  return s.size() > 200 ? s.substr(0, 200) : s;
}

}  // namespace

NotificationSettings parse_notification_settings(const rapidjson::Value& config) {
  NotificationSettings n;
  auto it = config.FindMember("notifications");
  if (it == config.MemberEnd() || !it->value.IsObject()) return n;
  const auto& v = it->value;
  auto hooks = v.FindMember("webhooks");
  if (hooks != v.MemberEnd() && hooks->value.IsArray()) {
    size_t i = 0;
    for (const auto& h : hooks->value.GetArray()) {
      WebhookTarget t = parse_target(h, i++);
      for (const auto& other : n.webhooks) {
        if (other.name == t.name) {
          throw std::invalid_argument("notifications.webhooks: duplicate name " + t.name);
        }
      }
      n.webhooks.push_back(std::move(t));
    }
  }
  auto delay = v.FindMember("retry_delay_seconds");
  if (delay != v.MemberEnd() && delay->value.IsNumber()) {
    n.retry_delay_seconds = std::clamp(delay->value.GetDouble(), 0.0, 60.0);
  }
  return n;
}

std::string mask_url(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return "***";
  auto path = url.find_first_of("/?#", scheme + 3);
  std::string authority =
      url.substr(scheme + 3, path == std::string::npos ? path : path - scheme - 3);
  auto at = authority.rfind('@');  // user:password@host
  if (at != std::string::npos) authority = "***@" + authority.substr(at + 1);
  std::string base = url.substr(0, scheme + 3) + authority;
  bool has_path = path != std::string::npos && url.substr(path) != "/";
  return has_path ? base + "/***" : base;
}

std::string render_notification(const WebhookTarget& target, const std::string& event,
                                const rapidjson::Value& payload, bool test) {
  const bool failed = event == "sync_failed";
  std::string source = payload.IsObject() ? str(payload, "source") : "";
  std::string error = payload.IsObject() ? str(payload, "error") : "";
  std::optional<int64_t> rows;
  if (payload.IsObject() && payload.HasMember("rows") && payload["rows"].IsInt64()) {
    rows = payload["rows"].GetInt64();
  }
  std::string timestamp = payload.IsObject() ? str(payload, "timestamp", iso_utc_now()) : "";
  std::string message;
  if (test) {
    message =
        "Test notification from Dango" + (payload.IsObject() && payload.HasMember("requested_by")
                                              ? " (sent by " + str(payload, "requested_by") + ")"
                                              : std::string());
  } else if (failed) {
    message = "Sync failed for " + source + ": " + error;
  } else {
    message =
        "Sync completed for " + source + ": " + std::to_string(rows.value_or(0)) + " rows loaded";
  }
  Json j;
  if (target.format == "slack") {
    std::string icon = test ? ":bell:" : failed ? ":x:" : ":white_check_mark:";
    j.begin()
        .key("text")
        .str(message)
        .key("blocks")
        .begin_array()
        .begin()
        .key("type")
        .str("section")
        .key("text")
        .begin()
        .key("type")
        .str("mrkdwn")
        .key("text")
        .str(icon + " " + message)
        .end()
        .end()
        .end_array()
        .end();
    return j.text();
  }
  j.begin()
      .key("event")
      .str(test ? "test" : event)
      .key("status")
      .str(test     ? "test"
           : failed ? "failure"
                    : "success")
      .key("source")
      .str(source)
      .key("message")
      .str(message)
      .key("error")
      .opt(failed ? std::optional<std::string>(error) : std::nullopt)
      .key("rows_loaded")
      .opt(rows)
      .key("timestamp")
      .str(timestamp)
      .key("test")
      .flag(test)
      .key("platform")
      .str("dango")
      .end();
  return j.text();
}

std::optional<int64_t> Notifier::queue(const WebhookTarget& target, const std::string& event,
                                       const std::optional<std::string>& source,
                                       const std::string& body, const std::string& dedupe_key) {
  int64_t id = 0;
  try {
    auto st = host_.sql(
        "INSERT INTO dango_notification_deliveries (target, event, source, status, attempts,"
        " payload, created_at, dedupe_key) VALUES (:t, :e, :s, 'queued', 0, :p, :at, :k)"
        " RETURNING id");
    st.bind("t", target.name)
        .bind("e", event)
        .bind("s", source)
        .bind("p", body)
        .bind("at", iso_utc_now())
        .bind("k", dedupe_key);
    if (!st.step()) return std::nullopt;
    id = st.int64(0);
  } catch (const sdk::Error&) {
    return std::nullopt;  // another host (or a repeated event) queued this one already
  }
  sdk::TaskRequest rq;
  rq.kind = kDeliverTask;
  rq.payload_json = Json().begin().key("delivery_id").num(id).end().text();
  rq.idempotency_key = "dango-sources:delivery:" + std::to_string(id);
  rq.max_attempts = 1;  // retries happen inside the task, with their own delays
  rq.timeout_seconds =
      (target.timeout_seconds + settings_.retry_delay_seconds * 64) * (target.retries + 1) + 30;
  host_.enqueue(rq);
  return id;
}

void Notifier::on_sync_event(std::string_view type, std::string_view payload_json) {
  if (settings_.webhooks.empty()) return;
  rapidjson::Document payload;
  std::string error;
  if (!sdk::parse_json(payload_json, payload, error) || !payload.IsObject()) return;
  const std::string event(type);
  const std::string outcome = event == "sync_failed" ? "failure" : "success";
  const std::string source = str(payload, "source");
  for (const auto& t : settings_.webhooks) {
    if (!contains(t.on, outcome)) continue;
    if (!t.sources.empty() && !contains(t.sources, source)) continue;
    try {
      queue(t, event, source, render_notification(t, event, payload, false),
            t.name + ":" + event + ":" + source + ":" + str(payload, "timestamp"));
    } catch (const std::exception& e) {
      host_.warn("dango-sources: could not queue notification to " + t.name + ": " + e.what());
    }
  }
}

std::vector<std::pair<std::string, int64_t>> Notifier::send_test(const std::string& by) {
  rapidjson::Document payload;
  payload.SetObject();
  payload.AddMember("requested_by", rapidjson::Value(by.c_str(), payload.GetAllocator()),
                    payload.GetAllocator());
  payload.AddMember("timestamp", rapidjson::Value(iso_utc_now().c_str(), payload.GetAllocator()),
                    payload.GetAllocator());
  std::vector<std::pair<std::string, int64_t>> out;
  const std::string stamp = std::to_string(now_ms());
  for (const auto& t : settings_.webhooks) {
    auto id = queue(t, "test", std::nullopt, render_notification(t, "test", payload, true),
                    t.name + ":test:" + stamp);
    if (id) out.emplace_back(t.name, *id);
  }
  return out;
}

void Notifier::run_delivery(sdk::TaskContext& task) {
  rapidjson::Document p = task.payload();
  if (!p.HasMember("delivery_id") || !p["delivery_id"].IsInt64()) {
    throw std::runtime_error("delivery task without delivery_id");
  }
  const int64_t id = p["delivery_id"].GetInt64();
  std::string target_name, body;
  {
    auto st = host_.sql(
        "SELECT target, payload, status FROM dango_notification_deliveries WHERE id = :id");
    st.bind("id", id);
    if (!st.step()) return;
    if (st.text(2) != "queued") return;  // already delivered or given up
    target_name = st.text(0);
    body = st.text(1);
  }
  const WebhookTarget* target = nullptr;
  for (const auto& t : settings_.webhooks) {
    if (t.name == target_name) target = &t;
  }
  auto close = [&](const std::string& status, int64_t attempts, std::optional<int64_t> code,
                   std::optional<std::string> error) {
    host_
        .sql(
            "UPDATE dango_notification_deliveries SET status = :s, attempts = :a,"
            " response_status = :c, error = :e, finished_at = :f WHERE id = :id")
        .bind("s", status)
        .bind("a", attempts)
        .bind("c", code)
        .bind("e", error)
        .bind("f", iso_utc_now())
        .bind("id", id)
        .exec();
  };
  if (!target) return close("failed", 0, std::nullopt, "target no longer configured");

  plughost::http::Request rq;
  rq.method = "POST";
  rq.url = target->url;
  rq.headers = {{"Content-Type", "application/json"}, {"User-Agent", "dango-sources/0.1"}};
  for (const auto& h : target->headers) rq.headers.push_back(h);
  rq.body = body;
  rq.timeout_seconds = target->timeout_seconds;
  rq.connect_timeout_seconds = std::min(target->timeout_seconds, 10.0);
  rq.max_response_bytes = 64 * 1024;
  std::optional<int64_t> code;
  std::string error;
  int attempt = 0;
  for (; attempt <= target->retries; ++attempt) {
    if (attempt > 0) {
      // Back off, waking up to see a cancel or shutdown.
      auto until = std::chrono::steady_clock::now() +
                   std::chrono::duration<double>(settings_.retry_delay_seconds *
                                                 static_cast<double>(1 << (attempt - 1)));
      while (std::chrono::steady_clock::now() < until && !task.cancelled()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (task.cancelled()) {
      close("failed", attempt, code, "cancelled: " + error);
      throw std::runtime_error("delivery cancelled");
    }
    auto r = plughost::http::perform(rq);
    code = r.status ? std::optional<int64_t>(static_cast<int64_t>(r.status)) : std::nullopt;
    if (r.ok()) {
      close("delivered", attempt + 1, code, std::nullopt);
      return;
    }
    error = r.status ? "HTTP " + std::to_string(r.status) + ": " + short_text(r.body) : r.error;
    task.log("attempt " + std::to_string(attempt + 1) + " failed: " + error);
  }
  host_.warn("dango-sources: notification " + std::to_string(id) + " to " + target->name +
             " failed after " + std::to_string(attempt) + " attempt(s): " + error);
  close("failed", attempt, code, error);
}

std::vector<Delivery> Notifier::deliveries(int limit) {
  std::vector<Delivery> out;
  auto st = host_.sql(
      "SELECT id, target, event, source, status, attempts, response_status, error, created_at,"
      " finished_at FROM dango_notification_deliveries ORDER BY id DESC LIMIT :n");
  st.bind("n", static_cast<int64_t>(limit));
  while (st.step()) {
    Delivery d;
    d.id = st.int64(0);
    d.target = st.text(1);
    d.event = st.text(2);
    d.source = st.maybe_text(3);
    d.status = st.text(4);
    d.attempts = st.int64(5);
    if (!st.is_null(6)) d.response_status = st.int64(6);
    d.error = st.maybe_text(7);
    d.created_at = st.text(8);
    d.finished_at = st.maybe_text(9);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace dango
