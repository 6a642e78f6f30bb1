// openapi.hpp — the OpenAPI 3.0 document of the whole host, built from the route table: every
// plugin route (path parameters, schemas, permission, rate class) and the host's own routes.
#pragma once

#include <string>

namespace plughost {

class PluginSet;
struct Config;

// What the host serves besides the plugins' routes; documented only when present.
struct OpenApiHostRoutes {
  bool docs_ui = false;  // /api/docs (Swagger UI) and /api/redoc (ReDoc) are served
};

// The document as pretty-printed JSON text (OpenAPI 3.0.3). Deterministic for a given route
// table and config, so it can be committed and compared. Route schemas declared by plugins
// (JSON Schema, any draft) are rewritten to OpenAPI 3.0 Schema Objects: `type` lists with "null"
// become `nullable`, `const` an `enum`, `$defs`/`definitions` move to components.schemas, and
// keywords 3.0 does not know are dropped. A schema that is not a JSON object is left out.
// `config` supplies auth and rate limits (a reloaded config may differ from the plugins' own).
std::string openapi_document(const PluginSet& plugins, const Config& config,
                             const OpenApiHostRoutes& host_routes);

// ":id" segments become "{id}", a final "*" becomes "{rest}".
std::string openapi_path(const std::string& pattern);

}  // namespace plughost
