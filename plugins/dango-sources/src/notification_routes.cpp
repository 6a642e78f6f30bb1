// The notification routes (seed: Schedules → notifications): config, test, delivery log.
#include <algorithm>

#include "ops.hpp"
#include "replies.hpp"

namespace dango {

void notification_config(Ops& ops, const sdk::Request&, sdk::Response& rs) {
  const auto& n = ops.notifier.settings();
  Json j;
  j.begin()
      .key("enabled")
      .flag(!n.webhooks.empty())
      .key("retry_delay_seconds")
      .real(n.retry_delay_seconds)
      .key("webhooks")
      .begin_array();
  for (const auto& t : n.webhooks) {
    j.begin()
        .key("name")
        .str(t.name)
        .key("url")
        .str(mask_url(t.url))
        .key("format")
        .str(t.format)
        .key("on")
        .begin_array();
    for (const auto& o : t.on) j.str(o);
    j.end_array().key("sources").begin_array();
    for (const auto& s : t.sources) j.str(s);
    j.end_array().key("headers").begin_array();
    for (const auto& h : t.headers) j.str(h.first);  // names only: values are often secrets
    j.end_array()
        .key("timeout_seconds")
        .real(t.timeout_seconds)
        .key("retries")
        .num(t.retries)
        .end();
  }
  j.end_array().end();
  rs.json_text(j.text());
}

void test_notification(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  if (ops.notifier.settings().webhooks.empty()) {
    throw error_reply(400, "DANGO-NOTIF-001", "No notification webhooks are configured");
  }
  auto queued = ops.notifier.send_test(caller_name(rq));
  Json j;
  j.begin()
      .key("success")
      .flag(true)
      .key("message")
      .str("Test notification queued for " + std::to_string(queued.size()) + " webhook(s)")
      .key("deliveries")
      .begin_array();
  for (const auto& [target, id] : queued) {
    j.begin().key("webhook").str(target).key("delivery_id").num(id).end();
  }
  j.end_array().end();
  rs.json_text(j.text());
}

void notification_deliveries(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  int limit = 50;
  if (auto text = rq.query("limit"); text && !text->empty()) {
    std::string s(*text);
    if (s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) {
      throw error_reply(400, "DANGO-V001", "limit must be an integer");
    }
    limit = std::clamp(std::stoi(s), 1, 10000);
  }
  Json j;
  j.begin().key("deliveries").begin_array();
  for (const auto& d : ops.notifier.deliveries(limit)) {
    j.begin()
        .key("id")
        .num(d.id)
        .key("webhook")
        .str(d.target)
        .key("event")
        .str(d.event)
        .key("source")
        .opt(d.source)
        .key("status")
        .str(d.status)
        .key("attempts")
        .num(d.attempts)
        .key("response_status")
        .opt(d.response_status)
        .key("error")
        .opt(d.error)
        .key("created_at")
        .str(d.created_at)
        .key("finished_at")
        .opt(d.finished_at)
        .end();
  }
  j.end_array().end();
  rs.json_text(j.text());
}

}  // namespace dango
