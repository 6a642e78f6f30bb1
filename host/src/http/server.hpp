// server.hpp — the HTTP front door: Pistache endpoint, built-in routes, the host middleware
// (trace id, body limit, keep-alive fix) and dispatch into plugin handlers through the C ABI.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

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
