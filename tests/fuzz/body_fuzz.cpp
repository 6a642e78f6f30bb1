// Fuzzes JSON body handling across the plugin ABI, in-process and without sockets: the host's
// loader loads the fuzz_body plugin, the host's router picks its route, and the input is the
// request body handed to the handler through the host API table (request_body, path params,
// the SDK's JSON parsing and error envelope). Every answer must be 201 or a 4xx envelope, and
// valid JSON either way.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "http/exchange.hpp"
#include "plugin/loader.hpp"

namespace {

struct Loaded {
  Loaded() : log(plughost::LogLevel::kError, plughost::LogFormat::kJson, stderr) {
    config.plugins_dir = FUZZ_PLUGIN_DIR;
    plughost::PluginConfig pc;
    pc.name = "fuzz_body";
    pc.required = true;
    pc.config_json = "{}";
    config.plugins.push_back(pc);
    set = std::make_unique<plughost::PluginSet>(log, config);
    std::vector<plughost::Diagnostic> diagnostics;
    if (!set->start(diagnostics)) {
      std::fprintf(stderr, "body_fuzz: cannot load fuzz_body from %s\n", FUZZ_PLUGIN_DIR);
      __builtin_trap();
    }
  }
  plughost::Logger log;
  plughost::Config config;
  std::unique_ptr<plughost::PluginSet> set;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Loaded loaded;
  const plughost::Registry& registry = loaded.set->registry();
  ph_request rq;
  rq.method = "POST";
  rq.path = "/api/fuzz/items/42";
  plughost::RouteMatch match = registry.router().match("POST", rq.path);
  if (match.kind != plughost::RouteMatch::Kind::kFound) __builtin_trap();
  rq.params = match.params;  // views into rq.path
  rq.body = std::string_view(reinterpret_cast<const char*>(data), size);
  rq.trace_id = "fuzz";
  rq.headers.emplace();  // no Pistache request behind this one: headers, cookies, query are empty
  rq.cookies.emplace();
  rq.query.emplace();
  const plughost::RouteTarget& target = registry.target(match.route->target);
  ph_response rs;
  char message[256] = {0};
  ph_error err{sizeof(ph_error), message, sizeof(message)};
  int rc = target.handler(target.user_data, &rq, &rs, &err);
  if (rc != PH_OK) __builtin_trap();  // an exception escaped the SDK's HttpError handling
  if (rs.status != 201 && rs.status != 400) __builtin_trap();
  rapidjson::Document answer;
  answer.Parse(rs.body.c_str(), rs.body.size());
  if (answer.HasParseError() || !answer.IsObject()) __builtin_trap();
  if (rs.status == 400 && !answer.HasMember("error")) __builtin_trap();
  return 0;
}
