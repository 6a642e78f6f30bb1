// websocket.hpp — WS /ws: the plugin's live events (sync_*, csv_uploaded, freshness_update, dbt_*)
// pushed to signed-in clients as JSON text frames. Pistache cannot hand over an upgraded
// connection, so this is a websocketpp (Boost.Asio) server of its own on `websocket.host:port`.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <memory>
#include <plughost/plugin.hpp>
#include <string>
#include <vector>

namespace dango {

namespace sdk = plughost::sdk;

struct WebSocketSettings {
  bool enabled = false;
  std::string host = "127.0.0.1";
  int port = 8801;                          // 0: any free port (tests); the bound one is logged
  size_t max_buffered_bytes = 1024 * 1024;  // a client with more unsent data is dropped
  int max_clients = 100;
  double ping_interval_seconds = 30;  // the server pings; no pong in time closes
};

// `websocket: {…}` of the plugin config. Throws std::invalid_argument naming a bad value.
WebSocketSettings parse_websocket_settings(const rapidjson::Value& config);

// Who may open /ws, read from the host once: auth on/off, the credential order and authenticators
// (auth.order, auth.authenticators) and this plugin's allowed_origins.
struct SocketAccess {
  bool auth_enabled = true;
  std::vector<std::string> order = {"session", "bearer", "api_key"};
  std::vector<std::string> authenticators;  // empty: every registered authenticator connector
  bool origins_listed = false;              // the plugin entry has allowed_origins
  std::vector<std::string> allowed_origins;
};
// From describe_host("settings"); `plugin` names this plugin's entry.
SocketAccess read_socket_access(const sdk::Services& host, const std::string& plugin);

// Thread-safe. One I/O thread; stop() (also the destructor) closes every client and joins it.
class EventSocket {
 public:
  EventSocket(WebSocketSettings settings, SocketAccess access, sdk::Services host);
  ~EventSocket();
  EventSocket(const EventSocket&) = delete;
  EventSocket& operator=(const EventSocket&) = delete;

  // Binds and starts serving; throws std::runtime_error when the address cannot be bound.
  void start();
  void stop();
  int port() const;  // the bound port; 0 before start()
  // Queues `frame` (a JSON text) to every open client. Never blocks: a client whose unsent data
  // exceeds max_buffered_bytes is closed instead (1008, "client too slow").
  void broadcast(std::string frame);
  size_t client_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dango
