// services.hpp — what every part of the plugin is handed: its settings, the host's storage
// (statements and transactions through the ABI), logging, and the clock. One instance per loaded
// plugin, shared read-only by all server threads.
#pragma once

#include <cstdint>
#include <optional>
#include <plughost/plugin.hpp>
#include <set>
#include <string>
#include <string_view>

#include "settings.hpp"

namespace accounts {

namespace sdk = plughost::sdk;

// The host's database as this plugin sees it. Statements outside a transaction hold a pooled
// session until destroyed: keep them in the narrowest scope and never call another host service
// (logging included) while one is open.
class Db {
 public:
  Db(const ph_host_api* api, ph_host* host) : api_(api), host_(host) {}
  sdk::Statement sql(std::string_view text) const;
  sdk::Transaction transaction() const { return sdk::Transaction(api_, host_); }

 private:
  const ph_host_api* api_;
  ph_host* host_;
};

struct Services {
  Services(const ph_host_api* api, ph_host* host, Settings s, std::set<std::string> role_names)
      : settings(std::move(s)),
        db(api, host),
        roles(std::move(role_names)),
        api_(api),
        host_(host) {}

  Settings settings;
  Db db;
  std::set<std::string> roles;  // role names the host's auth config defines
  // A real Argon2id hash of a random password, checked when an e-mail is unknown so that its
  // answer takes as long as a wrong password's.
  std::string dummy_password_hash;

  // One log line attributed to the plugin. Never pass a password, token or secret value.
  void log(ph_log_level level, std::string_view message, const sdk::Request* rq = nullptr) const;

 private:
  const ph_host_api* api_;
  ph_host* host_;
};

// Unix seconds, from the system clock.
int64_t now_seconds();
// "2026-01-31T12:00:00Z".
std::string iso8601(int64_t unix_seconds);
// Unix seconds of "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00|±HH:MM]"; nullopt when
// the text is neither.
std::optional<int64_t> parse_iso8601(std::string_view text);

}  // namespace accounts
