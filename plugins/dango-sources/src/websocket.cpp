#include "websocket.hpp"

#include <strings.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace {

using Server = websocketpp::server<websocketpp::config::asio>;
using Handle = websocketpp::connection_hdl;
using Clients = std::set<Handle, std::owner_less<Handle>>;
namespace status = websocketpp::http::status_code;

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string_view::npos ? "" : std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> strings_of(const rapidjson::Value& v) {
  std::vector<std::string> out;
  if (!v.IsArray()) return out;
  for (const auto& s : v.GetArray()) {
    if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
  }
  return out;
}

// The host's rule (server.cpp origin_allowed): exact match or "*"; "null" only passes "*".
bool origin_allowed(const std::vector<std::string>& allowed, const std::string& origin) {
  for (const auto& a : allowed) {
    if (a == "*" || (a == origin && origin != "null")) return true;
  }
  return false;
}

}  // namespace

WebSocketSettings parse_websocket_settings(const rapidjson::Value& config) {
  WebSocketSettings w;
  auto block = config.FindMember("websocket");
  if (block == config.MemberEnd() || !block->value.IsObject()) return w;
  const auto& b = block->value;
  auto it = b.FindMember("enabled");
  if (it != b.MemberEnd() && it->value.IsBool()) w.enabled = it->value.GetBool();
  it = b.FindMember("host");
  if (it != b.MemberEnd() && it->value.IsString()) w.host = it->value.GetString();
  it = b.FindMember("port");
  if (it != b.MemberEnd()) {
    if (!it->value.IsInt() || it->value.GetInt() < 0 || it->value.GetInt() > 65535) {
      throw std::invalid_argument("websocket.port must be an integer within 0..65535");
    }
    w.port = it->value.GetInt();
  }
  it = b.FindMember("max_buffered_bytes");
  if (it != b.MemberEnd()) {
    if (!it->value.IsInt64() || it->value.GetInt64() < 1024) {
      throw std::invalid_argument("websocket.max_buffered_bytes must be an integer >= 1024");
    }
    w.max_buffered_bytes = static_cast<size_t>(it->value.GetInt64());
  }
  it = b.FindMember("max_clients");
  if (it != b.MemberEnd()) {
    if (!it->value.IsInt() || it->value.GetInt() < 1) {
      throw std::invalid_argument("websocket.max_clients must be an integer >= 1");
    }
    w.max_clients = it->value.GetInt();
  }
  it = b.FindMember("ping_interval_seconds");
  if (it != b.MemberEnd()) {
    if (!it->value.IsNumber() || it->value.GetDouble() < 1 || it->value.GetDouble() > 3600) {
      throw std::invalid_argument("websocket.ping_interval_seconds must be within 1..3600");
    }
    w.ping_interval_seconds = it->value.GetDouble();
  }
  return w;
}

SocketAccess read_socket_access(const sdk::Services& host, const std::string& plugin) {
  SocketAccess a;
  rapidjson::Document d;
  std::string error;
  if (!sdk::parse_json(host.describe_host("settings"), d, error) || !d.IsObject()) {
    throw std::runtime_error("the host's settings are unreadable: " + error);
  }
  auto auth = d.FindMember("auth");
  if (auth != d.MemberEnd() && auth->value.IsObject()) {
    auto enabled = auth->value.FindMember("enabled");
    if (enabled != auth->value.MemberEnd() && enabled->value.IsBool()) {
      a.auth_enabled = enabled->value.GetBool();
    }
    auto order = auth->value.FindMember("order");
    if (order != auth->value.MemberEnd()) a.order = strings_of(order->value);
    auto names = auth->value.FindMember("authenticators");
    if (names != auth->value.MemberEnd()) a.authenticators = strings_of(names->value);
  }
  auto plugins = d.FindMember("plugins");
  if (plugins != d.MemberEnd() && plugins->value.IsObject()) {
    auto entry = plugins->value.FindMember(plugin.c_str());
    if (entry != plugins->value.MemberEnd() && entry->value.IsObject()) {
      auto origins = entry->value.FindMember("allowed_origins");
      if (origins != entry->value.MemberEnd()) {
        a.origins_listed = true;
        a.allowed_origins = strings_of(origins->value);
      }
    }
  }
  return a;
}

struct EventSocket::Impl {
  WebSocketSettings settings;
  SocketAccess access;
  sdk::Services host;
  Server server;
  std::thread thread;
  std::atomic<int> port{0};
  std::atomic<bool> started{false};
  mutable std::mutex mu;
  Clients clients;  // open connections; written on the I/O thread
  std::unique_ptr<boost::asio::steady_timer> ping_timer;

  void refuse(Server::connection_ptr con, websocketpp::http::status_code::value code,
              const std::string& body) {
    con->set_status(code);
    con->append_header("Content-Type", "application/json");
    con->set_body(body);
  }

  // The credentials of the upgrade request, offered to the authenticators as the host does for
  // HTTP requests (identity.cpp): auth.order decides which credential is tried first, and the
  // first authenticator that knows it decides. A half-finished 2FA login is not signed in.
  bool signed_in(Server::connection_ptr con) {
    std::map<std::string, std::string> cookies;
    std::string_view header = con->get_request_header("Cookie");
    while (!header.empty()) {
      size_t semi = header.find(';');
      std::string_view pair = header.substr(0, semi);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos)
        cookies[trim(pair.substr(0, eq))] = trim(pair.substr(eq + 1));
      header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    }
    std::string bearer;
    const std::string& authorization = con->get_request_header("Authorization");
    if (authorization.size() > 7 && strncasecmp(authorization.c_str(), "Bearer ", 7) == 0) {
      bearer = authorization.substr(7);
    }
    const std::string& api_key = con->get_request_header("X-API-Key");
    std::vector<std::string> names = access.authenticators;
    if (names.empty()) {
      for (const auto& c : host.connectors("authenticator")) names.push_back(c.name);
    }
    for (const auto& scheme : access.order) {
      const std::string& credential = scheme == "bearer" ? bearer : api_key;
      bool offered = scheme == "session" ? !cookies.empty() : !credential.empty();
      if (!offered) continue;
      Json in;
      in.begin().key("scheme").str(scheme);
      if (scheme == "session") {
        in.key("cookies").begin();
        for (const auto& [k, v] : cookies) in.key(k).str(v);
        in.end();
      } else {
        in.key("credential").str(credential);
      }
      in.key("remote_address")
          .str(con->get_remote_endpoint())
          .key("user_agent")
          .str(con->get_request_header("User-Agent"))
          .key("method")
          .str("GET")
          .key("path")
          .str("/ws")
          .end();
      for (const auto& name : names) {
        try {
          rapidjson::Document out;
          std::string error;
          std::string answer =
              host.invoke_connector("authenticator", name, "authenticate", in.text());
          if (!sdk::parse_json(answer, out, error) || !out.IsObject()) continue;
          auto p = out.FindMember("principal");
          if (p == out.MemberEnd() || !p->value.IsObject()) continue;
          auto partial = p->value.FindMember("partial");
          return partial == p->value.MemberEnd() || !partial->value.IsBool() ||
                 !partial->value.GetBool();
        } catch (const std::exception& e) {
          host.warn(std::string("dango-sources: /ws authenticator ") + name +
                    " failed: " + e.what());
        }
      }
    }
    return false;
  }

  bool validate(Handle h) {
    Server::connection_ptr con = server.get_con_from_hdl(h);
    std::string resource = con->get_resource();
    if (resource.substr(0, resource.find('?')) != "/ws") {
      refuse(con, status::not_found, R"({"detail":"Not Found"})");
      return false;
    }
    const std::string& origin = con->get_request_header("Origin");
    if (!origin.empty() && access.origins_listed &&
        !origin_allowed(access.allowed_origins, origin)) {
      refuse(con, status::forbidden, dango_error_body(403, "ORIGIN_NOT_ALLOWED", origin));
      return false;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      if (clients.size() >= static_cast<size_t>(settings.max_clients)) {
        refuse(con, status::service_unavailable, R"({"detail":"Too many WebSocket clients"})");
        return false;
      }
    }
    if (access.auth_enabled && !signed_in(con)) {
      refuse(con, status::unauthorized, dango_error_body(401, "UNAUTHORIZED", ""));
      return false;
    }
    return true;
  }

  void opened(Handle h) {
    {
      std::lock_guard<std::mutex> lock(mu);
      clients.insert(h);
    }
    // Tells the client it is registered: every event published from now on reaches it.
    websocketpp::lib::error_code ec;
    server.send(h,
                Json()
                    .begin()
                    .key("type")
                    .str("connected")
                    .key("event")
                    .str("connected")
                    .key("timestamp")
                    .str(iso_utc_now())
                    .end()
                    .text(),
                websocketpp::frame::opcode::text, ec);
  }

  void closed(Handle h) {
    std::lock_guard<std::mutex> lock(mu);
    clients.erase(h);
  }

  // On the I/O thread.
  void deliver(const std::string& frame) {
    Clients targets;
    {
      std::lock_guard<std::mutex> lock(mu);
      targets = clients;
    }
    for (const auto& h : targets) {
      websocketpp::lib::error_code ec;
      Server::connection_ptr con = server.get_con_from_hdl(h, ec);
      if (ec || con->get_state() != websocketpp::session::state::open) continue;
      if (con->get_buffered_amount() + frame.size() > settings.max_buffered_bytes) {
        // Not reading fast enough: dropped rather than buffered without bound or waited for.
        con->close(websocketpp::close::status::policy_violation, "client too slow", ec);
        closed(h);
        host.warn("dango-sources: a /ws client was too slow and was disconnected");
        continue;
      }
      con->send(frame, websocketpp::frame::opcode::text);
    }
  }

  void schedule_ping() {
    ping_timer->expires_after(
        std::chrono::milliseconds(static_cast<int64_t>(settings.ping_interval_seconds * 1000)));
    ping_timer->async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled by stop()
      Clients targets;
      {
        std::lock_guard<std::mutex> lock(mu);
        targets = clients;
      }
      for (const auto& h : targets) {
        websocketpp::lib::error_code e;
        server.ping(h, "", e);
      }
      schedule_ping();
    });
  }
};

EventSocket::EventSocket(WebSocketSettings settings, SocketAccess access, sdk::Services host)
    : impl_(std::make_unique<Impl>()) {
  impl_->settings = std::move(settings);
  impl_->access = std::move(access);
  impl_->host = host;
}

EventSocket::~EventSocket() {
  stop();
}

void EventSocket::start() {
  Impl& m = *impl_;
  if (m.started) return;
  m.server.clear_access_channels(websocketpp::log::alevel::all);
  m.server.clear_error_channels(websocketpp::log::elevel::all);
  m.server.init_asio();
  m.server.set_reuse_addr(true);
  m.server.set_open_handshake_timeout(5000);
  m.server.set_close_handshake_timeout(1000);
  // A client that does not answer a ping within half the interval is gone.
  m.server.set_pong_timeout(static_cast<long>(m.settings.ping_interval_seconds * 500));
  m.server.set_max_message_size(64 * 1024);  // clients only send control frames here
  m.server.set_validate_handler([&m](Handle h) { return m.validate(h); });
  m.server.set_open_handler([&m](Handle h) { m.opened(h); });
  m.server.set_close_handler([&m](Handle h) { m.closed(h); });
  m.server.set_fail_handler([&m](Handle h) { m.closed(h); });
  m.server.set_pong_timeout_handler([&m](Handle h, std::string) {
    websocketpp::lib::error_code ec;
    m.server.close(h, websocketpp::close::status::going_away, "ping timeout", ec);
    m.closed(h);
  });
  m.server.set_message_handler([](Handle, Server::message_ptr) {
    // Clients have nothing to say; pings are answered by websocketpp itself.
  });
  websocketpp::lib::error_code ec;
  m.server.listen(m.settings.host, std::to_string(m.settings.port), ec);
  if (ec) {
    throw std::runtime_error("websocket: cannot listen on " + m.settings.host + ":" +
                             std::to_string(m.settings.port) + ": " + ec.message());
  }
  boost::system::error_code local_ec;
  m.port = m.server.get_local_endpoint(local_ec).port();
  m.server.start_accept(ec);
  if (ec) throw std::runtime_error("websocket: cannot accept: " + ec.message());
  m.ping_timer = std::make_unique<boost::asio::steady_timer>(m.server.get_io_service());
  m.schedule_ping();
  m.started = true;
  m.thread = std::thread([&m] {
    while (true) {
      try {
        m.server.run();
        return;
      } catch (const std::exception& e) {
        m.host.warn(std::string("dango-sources: websocket: ") + e.what());
      }
    }
  });
}

void EventSocket::stop() {
  Impl& m = *impl_;
  if (!m.started.exchange(false)) return;
  // Stop accepting, say goodbye to every client, let the close handshakes finish (bounded by the
  // close timeout), then the I/O loop runs out of work and the thread ends.
  boost::asio::post(m.server.get_io_service(), [&m] {
    websocketpp::lib::error_code ec;
    m.server.stop_listening(ec);
    m.ping_timer->cancel();
    Clients all;
    {
      std::lock_guard<std::mutex> lock(m.mu);
      all.swap(m.clients);
    }
    for (const auto& h : all) {
      m.server.close(h, websocketpp::close::status::going_away, "server shutting down", ec);
    }
  });
  if (m.thread.joinable()) m.thread.join();
}

int EventSocket::port() const {
  return impl_->port;
}

void EventSocket::broadcast(std::string frame) {
  Impl& m = *impl_;
  if (!m.started) return;
  boost::asio::post(m.server.get_io_service(),
                    [&m, frame = std::move(frame)] { m.deliver(frame); });
}

size_t EventSocket::client_count() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->clients.size();
}

}  // namespace dango
