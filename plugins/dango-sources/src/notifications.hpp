// notifications.hpp — webhook notifications of sync outcomes (seed: Notifications): targets in
// config, generic JSON or Slack-compatible bodies, rules per outcome and source. Each delivery is
// a row in host storage (the delivery log) and a host task that posts it with a timeout and
// retries, so neither the event thread nor a request thread waits on a webhook.
#pragma once

#include <cstdint>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dango {

namespace sdk = plughost::sdk;

constexpr const char* kDeliverTask = "dango-sources/deliver_notification";

struct WebhookTarget {
  std::string name;
  std::string url;
  std::string format = "json";             // json or slack
  std::vector<std::string> on{"failure"};  // failure, success
  std::vector<std::string> sources;        // empty: every source
  std::vector<std::pair<std::string, std::string>> headers;
  double timeout_seconds = 5;
  int retries = 2;  // attempts after the first
};

struct NotificationSettings {
  std::vector<WebhookTarget> webhooks;
  double retry_delay_seconds = 1;  // before retry n: delay * 2^(n-1)
};

// The `notifications` object of the plugin config; throws std::invalid_argument naming the key.
NotificationSettings parse_notification_settings(const rapidjson::Value& config);

struct Delivery {
  int64_t id = 0;
  std::string target;
  std::string event;  // sync_completed, sync_failed, test
  std::optional<std::string> source;
  std::string status;  // queued, delivered, failed
  int64_t attempts = 0;
  std::optional<int64_t> response_status;
  std::optional<std::string> error;
  std::string created_at;
  std::optional<std::string> finished_at;
};

// scheme://host[:port] plus "/***" when the URL has a path: webhook paths are secrets.
std::string mask_url(const std::string& url);

// The body a target receives for an event (`payload_json` is the sync_* event's payload).
std::string render_notification(const WebhookTarget& target, const std::string& event,
                                const rapidjson::Value& payload, bool test);

class Notifier {
 public:
  Notifier(sdk::Services host, NotificationSettings settings)
      : host_(host), settings_(std::move(settings)) {}

  const NotificationSettings& settings() const { return settings_; }
  // A sync_completed / sync_failed event from the host bus: queues a delivery for every matching
  // target. Returns quickly (two statements per target); errors are logged, never thrown.
  void on_sync_event(std::string_view type, std::string_view payload_json);
  // Queues a test message to every target; (target, delivery id) pairs.
  std::vector<std::pair<std::string, int64_t>> send_test(const std::string& requested_by);
  // The delivery task's handler.
  void run_delivery(sdk::TaskContext& task);
  std::vector<Delivery> deliveries(int limit);

 private:
  std::optional<int64_t> queue(const WebhookTarget& target, const std::string& event,
                               const std::optional<std::string>& source, const std::string& body,
                               const std::string& dedupe_key);

  sdk::Services host_;
  NotificationSettings settings_;
};

}  // namespace dango
