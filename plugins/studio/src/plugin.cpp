// The studio plugin: Aksara Studio's handshake, summary, health, migrations and schema endpoints,
// describing this host (its plugins, storage, routes, migrations and connectors). Every answer is
// read from the host at request time; nothing is cached.
#include <atomic>
#include <memory>
#include <plughost/plugin.hpp>

#include "access.hpp"
#include "documents.hpp"
#include "handshake_schema.hpp"
#include "host_snapshot.hpp"
#include "settings.hpp"
#include "sha256.hpp"
#include "timestamp.hpp"

namespace studio {

using plughost::sdk::Request;
using plughost::sdk::Response;

class StudioPlugin : public plughost::sdk::Plugin {
  void init() override {
    init_crypto();
    const Settings settings = read_settings(config());
    permission_ = settings.permission;
    std::atomic_store(&live_, std::make_shared<const Live>(
                                  Live{settings, read_access_policy(settings.auth_token)}));
    // Live config (ABI 1.4): project fields and the bearer token change without a restart (a
    // rotated token takes effect at once); the permission belongs to the routes, fixed at start.
    reconfigurable([this](const rapidjson::Value& next) {
      Settings s = read_settings(next);
      if (s.permission != permission_) {
        throw plughost::sdk::Error(PH_ERR_INVALID_ARGUMENT,
                                   "permission is fixed when the routes are registered; "
                                   "restart the host to change it");
      }
      auto current = std::atomic_load(&live_);
      AccessPolicy access = current->access;
      access.bearer_token = s.auth_token;
      std::atomic_store(&live_, std::make_shared<const Live>(Live{std::move(s), access}));
    });
    error_formatter(
        [](int status, std::string_view code, std::string_view message, std::string_view detail,
           std::string_view) { return format_host_error(status, code, message, detail); });

    serve("/studio/handshake", "Studio handshake: project, database, capabilities, checksums",
          [this] {
            return handshake_json(snapshot(), std::atomic_load(&live_)->settings, now_timestamp());
          });
    serve("/studio/context/summary", "Studio context summary: counts, models, migration status",
          [this] { return context_summary_json(snapshot()); });
    serve("/studio/health", "Studio health: healthy after a storage round trip, else degraded",
          [this] { return health_json(health_snapshot(), now_timestamp()); });
    serve("/studio/migrations/summary", "Per-plugin migration totals, heads and conflicts",
          [this] { return migrations_summary_json(migrations_snapshot()); });
    serve("/studio/schema/handshake", "JSON Schema (draft 2020-12) of the handshake",
          [] { return std::string(handshake_schema_json()); });
  }

  // A GET route answering the JSON `build` returns, behind the access checks.
  template <typename Build>
  void serve(const std::string& path, const std::string& summary, Build build) {
    route({"GET", path, summary, permission_, {}, {}, {}, 0},
          [this, build](const Request& rq, Response& rs) {
            if (admit(rq, rs)) rs.json_text(build());
          });
  }

  // The origin check (when the host enforces no list for studio) and the bearer token; false
  // when the response already holds the refusal.
  bool admit(const Request& rq, Response& rs) const {
    const auto live = std::atomic_load(&live_);
    const AccessPolicy& access = live->access;
    auto origin = rq.header("origin");
    auto refusal = check_access(access, origin, rq.header("authorization"));
    if (refusal && refusal->status == 403) {
      rs.json_text(refusal->body, 403);
      return false;
    }
    if (access.self_checked_origins && origin) {  // else the host adds the CORS headers
      rs.header("Access-Control-Allow-Origin", *origin).header("Vary", "Origin");
    }
    if (refusal) {
      rs.header("WWW-Authenticate", "Bearer");
      rs.json_text(refusal->body, refusal->status);
      return false;
    }
    return true;
  }

  AccessPolicy read_access_policy(const std::string& auth_token) const {
    rapidjson::Document host_settings;
    std::string error;
    if (!plughost::sdk::parse_json(describe_host("settings"), host_settings, error)) {
      host_settings.SetObject();
    }
    return {self_checked_origins(host_settings, "studio"), auth_token};
  }

  HostAccess host_access() const {
    HostAccess a;
    a.describe = [this](const std::string& what) { return describe_host(what); };
    a.connectors = [this] {
      std::vector<ConnectorEntry> out;
      for (const auto& c : connectors()) out.push_back({c.kind, c.name, c.plugin});
      return out;
    };
    a.query = [this](const std::string& text) {
      Rows rows;
      auto st = sql(text);
      while (st.step()) {
        std::vector<std::string> row;
        for (int i = 0; i < st.columns(); ++i) row.push_back(st.maybe_text(i).value_or(""));
        rows.push_back(std::move(row));
      }
      return rows;
    };
    return a;
  }

  HostSnapshot snapshot() const { return read_snapshot(host_access()); }

  HostSnapshot health_snapshot() const {
    HostSnapshot s;
    s.host = parse_host_info(describe_host("host"));
    s.storage = parse_storage(describe_host("storage"));
    return s;
  }

  HostSnapshot migrations_snapshot() const {
    HostSnapshot s;
    s.migrations = parse_migrations(describe_host("migrations"));
    return s;
  }

  // What a SIGHUP may replace, swapped whole; read once per request.
  struct Live {
    Settings settings;
    AccessPolicy access;
  };
  std::shared_ptr<const Live> live_;
  std::string permission_;  // of every route, fixed at init
};

}  // namespace studio

PLUGHOST_PLUGIN(studio::StudioPlugin, "studio", "1.0.0",
                "Aksara Studio API: handshake, context summary, health, migrations, schema", "beta")
