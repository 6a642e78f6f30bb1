// host_services.hpp — the host services the inspector's components use (storage, tasks, log),
// as an interface: the plugin class implements it by forwarding to the SDK, so the components
// need neither the Plugin base class nor its protected members.
#pragma once

#include <cstdint>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <string_view>

namespace inspector {

// Safe to call from any thread between init and shutdown.
class HostServices {
 public:
  virtual ~HostServices() = default;
  virtual plughost::sdk::Statement query(std::string_view sql) const = 0;
  // Throws plughost::sdk::Error when the host refuses the task.
  virtual int64_t enqueue_task(const plughost::sdk::TaskRequest& request) const = 0;
  // The host's task JSON, nullopt when the task does not exist.
  virtual std::optional<std::string> host_task(int64_t id) const = 0;
  virtual void warn_log(std::string_view message) const = 0;
};

}  // namespace inspector
