// What the plugin's handlers and engine need of the host, handed to them by plugin.cpp (the SDK
// keeps these services protected inside sdk::Plugin).
#pragma once

#include <functional>
#include <plughost/plugin.hpp>
#include <set>
#include <string>
#include <string_view>

namespace automate {

struct Services {
  const ph_host_api* api = nullptr;
  ph_host* host = nullptr;
  std::function<std::set<std::string>()> step_types;  // names of the "step" connectors
  // Runs step connector `type` (operation "run"); throws sdk::Error when the step fails.
  std::function<std::string(const std::string& type, std::string_view input_json)> run_step;
  std::function<int64_t(const plughost::sdk::TaskRequest&)> enqueue;
  std::function<void(std::string_view)> log_info;

  // A statement outside any transaction (holds a pooled session until destroyed).
  plughost::sdk::Statement sql(std::string_view text) const {
    ph_stmt* stmt = nullptr;
    plughost::sdk::detail::ErrorBuffer eb;
    int rc = api->stmt_prepare(host, nullptr, text.data(), text.size(), &stmt, &eb.err);
    if (rc != PH_OK) throw plughost::sdk::Error(rc, std::string("SQL prepare failed: ") + eb.text);
    return plughost::sdk::Statement(api, stmt);
  }
  plughost::sdk::Transaction transaction() const { return plughost::sdk::Transaction(api, host); }
};

}  // namespace automate
