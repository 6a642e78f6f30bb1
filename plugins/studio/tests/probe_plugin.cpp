// Test probe for the studio plugin: a plugin whose registrations a test controls. Release 1
// (PROBE_RELEASE=1) ships one migration, release 2 a second one with a foreign key, so swapping
// the library between restarts applies a migration and changes nothing else. Its config adds
// routes, connectors and migrations.
#include <plughost/plugin.hpp>
#include <string>

#ifndef PROBE_RELEASE
#define PROBE_RELEASE 1
#endif

namespace probe {

using plughost::sdk::Request;
using plughost::sdk::Response;

std::string member(const rapidjson::Value& v, const char* key) {
  return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "";
}

class Probe : public plughost::sdk::Plugin {
  const rapidjson::Value& list(const char* key) const {
    static const rapidjson::Value kEmpty(rapidjson::kArrayType);
    return config().HasMember(key) && config()[key].IsArray() ? config()[key] : kEmpty;
  }

  void init() override {
    migration("0001_widgets",
              "CREATE TABLE probe_widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
              " weight REAL)");
#if PROBE_RELEASE >= 2
    migration("0002_widget_tags",
              "CREATE TABLE probe_widget_tags (id INTEGER PRIMARY KEY,"
              " widget_id INTEGER NOT NULL REFERENCES probe_widgets (id), tag TEXT)");
#endif
    for (const auto& m : list("extra_migrations").GetArray()) {
      migration(member(m, "name"), member(m, "sql"));
    }
    route({"GET", "/probe/ping", "Probe liveness", "public", {}, {}, {}, 0},
          [](const Request&, Response& rs) { rs.json_text("{\"pong\":true}"); });
    for (const auto& r : list("routes").GetArray()) {
      route({member(r, "method"),
             member(r, "path"),
             "Probe route",
             member(r, "permission"),
             {},
             {},
             {},
             0},
            [](const Request&, Response& rs) { rs.status(204); });
    }
    for (const auto& c : list("connectors").GetArray()) {
      connector({member(c, "kind"), member(c, "name"), "Probe connector", {}},
                [](std::string_view, std::string_view) { return std::string("{}"); });
    }
  }
};

}  // namespace probe

PLUGHOST_PLUGIN(probe::Probe, "studio_probe", PROBE_RELEASE == 1 ? "1.0.0" : "1.1.0",
                "Test probe for the studio plugin", "experimental")
