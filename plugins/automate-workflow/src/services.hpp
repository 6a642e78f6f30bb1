// What the plugin's handlers and engine need of the host (sdk::Services: storage, tasks,
// connectors, log) plus the plugin's own settings from its config, handed out by plugin.cpp.
#pragma once

#include <plughost/plugin.hpp>
#include <string>

namespace automate {

using Services = plughost::sdk::Services;

// A mutation's answer, kept so that a repeated X-Request-ID can be answered with it again.
struct Reply {
  int status = 200;
  std::string body;  // JSON text; empty for 204
};

}  // namespace automate
