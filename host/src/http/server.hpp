// server.hpp — the HTTP front door: Pistache endpoint, built-in routes, the host middleware
// (trace id, body limit, keep-alive fix) and dispatch into plugin handlers through the C ABI.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "log/log.hpp"
#include "plugin/loader.hpp"

namespace Pistache::Http {
class Endpoint;
}

namespace plughost {

class EventBus;
class Database;
struct ServerState;

// What the last SIGHUP reloads did, for /readyz.
struct ReloadReport {
  std::vector<std::string> restart_required;  // changed settings that wait for a restart
  std::string last_error;                     // the last rejected file's first problem
  uint64_t reloads = 0;                       // reloads applied
};

class HttpServer {
 public:
  // `events` may be null: then GET /api/events/stream answers 503.
  HttpServer(Logger& log, const Config& config, const PluginSet& plugins,
             EventBus* events = nullptr, Database* db = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on background threads; returns the bound port. Throws
  // std::runtime_error when the address cannot be bound.
  uint16_t start();
  // A reloaded config: swaps in its rate limits (counts restart) and rebuilds the OpenAPI
  // document; `restart_required` is reported by /readyz. Thread-safe against serving.
  void apply_reload(const Config& next, std::vector<std::string> restart_required);
  // Records a rejected reload (the running config stays) for /readyz.
  void reject_reload(const std::string& error);
  // From now on /readyz answers 503 while requests are still served (the drain period).
  void begin_drain();
  // Stops accepting, lets in-flight requests finish and joins the server threads.
  void stop();

 private:
  std::shared_ptr<ServerState> state_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
  std::thread heartbeat_;
  bool running_ = false;
};

}  // namespace plughost
