// Fuzzes the config loader: any bytes as plughost.yaml must give a result with diagnostics,
// never a crash, hang or sanitizer report. Variables resolve to a fixed value or unset.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SET") return std::string("value");
    return std::nullopt;
  };
  plughost::ConfigResult r = plughost::load_config_text(text, "fuzz.yaml", env);
  for (const auto& d : r.diagnostics) (void)d.to_string();
  if (r.ok()) {
    for (const auto& p : r.config.plugins) {
      (void)plughost::check_plugin_config(r.config, p,
                                          R"({"type":"object","additionalProperties":false,)"
                                          R"("properties":{"a":{"type":"integer","minimum":1}},)"
                                          R"("required":["a"]})");
    }
  }
  return 0;
}
