#include "http/server.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <plughost/json.hpp>
#include <random>

#include "config/reload.hpp"
#include "events/event_bus.hpp"
#include "http/docs_ui.hpp"
#include "http/exchange.hpp"
#include "http/front_door.hpp"
#include "http/handler_pool.hpp"
#include "identity/identity.hpp"
#include "identity/rate_limiter.hpp"
#include "metrics/metrics.hpp"
#include "openapi/openapi.hpp"
#include "plugin/host_api.hpp"
#include "plugin/services.hpp"
#include "scheduler/scheduler.hpp"
#include "storage/statement.hpp"

namespace plughost {

namespace Http = Pistache::Http;
namespace Header = Pistache::Http::Header;

// One Server-Sent Events client. Pistache 0.0.5 aborts the process when a response stream is
// written from a thread other than the connection's reactor ("could not find write data", fixed
// upstream in 2025), and events arrive on the event thread. So the stream bypasses Pistache: it
// owns a dup() of the connection's socket and writes HTTP/1.1 chunks to it itself. Pistache
// closing its own descriptor never affects ours; a gone client shows as EPIPE on our next write.
struct SseClient {
  std::mutex mu;
  int fd = -1;
  std::vector<uint64_t> subscriptions;
  bool dead = false;

  ~SseClient() { close_stream(); }

  // Writes all of `bytes` without blocking; a client that cannot take them is dropped.
  bool send_all(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Sends one chunk; returns false once the peer is gone or too slow.
  bool write(const std::string& data) {
    std::lock_guard<std::mutex> lock(mu);
    if (dead) return false;
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    if (!send_all(size + data + "\r\n")) dead = true;
    return !dead;
  }

  void close_stream() {
    std::lock_guard<std::mutex> lock(mu);
    if (fd < 0) return;
    if (!dead) send_all("0\r\n\r\n");  // end of the chunked body
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    fd = -1;
    dead = true;
  }
};

// The rate limits in force: swapped whole on a SIGHUP reload (counts restart with the new
// limits). The limiter keeps a reference to `config`, so both live in one object.
struct LiveLimits {
  explicit LiveLimits(const RateLimitConfig& c) : config(c), limiter(config) {}
  RateLimitConfig config;
  RateLimiter limiter;
};

// One plugin handler call, shared by the reactor thread that waits for it and the handler thread
// that runs it: whichever finishes last frees it, so a handler that outlives its request's
// timeout still writes into memory that is alive.
struct HandlerCall {
  ph_request rq;
  ph_response rs;
  int rc = PH_OK;
  char message[1024] = {0};
  const char* storage_fault = nullptr;  // see take_storage_fault(): why the storage refused
  std::mutex mu;
  std::condition_variable finished;
  bool done = false;       // under mu
  bool abandoned = false;  // under mu: the request was answered 504; the result goes nowhere
};

// Handler threads a request timeout lets pile up beyond one per reactor: past it, requests on
// plugin routes answer 503 until the overdue handlers return.
constexpr size_t kMaxOverdueHandlers = 64;

struct ServerState {
  ServerState(Logger& l, const Config& c, const PluginSet& p, EventBus* e, Database* d)
      : log(l),
        config(c),
        plugins(p),
        events(e),
        db(d),
        identity(c.auth, p.registry(), l),
        limits(std::make_shared<LiveLimits>(c.rate_limits)) {
    for (const auto& pc : c.plugins) {
      if (pc.allowed_origins) allowed_origins[pc.name] = &*pc.allowed_origins;
    }
    for (const auto& route : p.registry().routes()) {
      metrics.add_route(route.plugin, route.pattern);  // slot == route.target
    }
    host_slot_base = p.registry().routes().size();
    for (const char* route : {"/healthz", "/readyz", "/metrics", "/api/events/stream", "",
                              "/openapi.json", "/api/docs", "/api/redoc"}) {
      metrics.add_route("", route);  // "": requests no route matched
    }
    std::string ui_error;
    docs_ui = DocsUi::load(DocsUi::default_dir(), ui_error);
    if (!docs_ui) {
      l.warn("http", "Swagger UI and ReDoc are not installed; /api/docs and /api/redoc answer 404",
             {{"error", ui_error}});
    }
    openapi = std::make_shared<const std::string>(
        openapi_document(p, c, OpenApiHostRoutes{docs_ui.has_value()}));
    if (c.server.request_timeout_seconds > 0) {
      handlers = std::make_unique<HandlerPool>(static_cast<size_t>(c.server.threads) +
                                               kMaxOverdueHandlers);
    }
    for (const auto& route : p.registry().routes()) {
      const std::string& cls = route.rate_class;
      if (!cls.empty() && cls != "none" && !c.rate_limits.classes.count(cls)) {
        l.warn("http", "route declares a rate class the config does not define; using the default",
               {{"plugin", route.plugin}, {"route", route.pattern}, {"rate_class", cls}});
      }
    }
  }
  Logger& log;
  const Config& config;
  const PluginSet& plugins;
  EventBus* events;
  Database* db;
  Identity identity;
  std::shared_ptr<LiveLimits> limits;  // std::atomic_load/store: replaced on reload
  Metrics metrics;
  size_t host_slot_base = 0;  // metrics slots: one per plugin route (by target), then the host's
  std::optional<DocsUi> docs_ui;
  std::shared_ptr<const std::string> openapi;  // std::atomic_load/store: rebuilt on reload
  std::mutex reload_mu;
  ReloadReport reload;  // under reload_mu
  uint64_t task_subscription = 0;
  std::map<std::string, const std::vector<std::string>*> allowed_origins;  // by plugin
  std::atomic<bool> draining{false};
  std::atomic<bool> stopping{false};
  std::mutex sse_mu;
  std::condition_variable sse_cv;
  std::vector<std::shared_ptr<SseClient>> sse_clients;
  // Runs plugin handlers when server.request_timeout_seconds > 0; null otherwise.
  std::unique_ptr<HandlerPool> handlers;
  std::atomic<int64_t> connections{0};           // open client connections
  std::atomic<uint64_t> refused_connections{0};  // closed at once: over server.max_connections

  void drop_client(const std::shared_ptr<SseClient>& c) {
    std::vector<uint64_t> ids;
    {
      std::lock_guard<std::mutex> lock(c->mu);
      ids.swap(c->subscriptions);
    }
    for (uint64_t id : ids) events->unsubscribe(id);
    c->close_stream();
    std::lock_guard<std::mutex> lock(sse_mu);
    sse_clients.erase(std::remove(sse_clients.begin(), sse_clients.end(), c), sse_clients.end());
  }
};

namespace {

constexpr size_t kHeaderAllowance = 64 * 1024;  // request line + headers on top of the body limit

// After a refusal whose body will not be read: nothing more goes out, and the client, seeing the
// response end with the connection, stops sending. What it still sends is discarded.
void half_close(const std::weak_ptr<Pistache::Tcp::Peer>& weak) {
  if (auto peer = weak.lock()) ::shutdown(peer->fd(), SHUT_WR);
}

// Half-closes once `sent` is on the wire (or failed).
void half_close_after(Pistache::Async::Promise<ssize_t> sent,
                      std::weak_ptr<Pistache::Tcp::Peer> peer) {
  sent.then([peer](ssize_t) { half_close(peer); },
            [peer](std::exception_ptr) { half_close(peer); });
}

std::string spool_directory(const ServerConfig& sc) {
  if (!sc.spool_dir.empty()) return sc.spool_dir;
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string new_trace_id() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   std::hash<std::thread::id>{}(std::this_thread::get_id()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng();
    for (int i = 0; i < 16; ++i) id[half * 16 + i] = kHex[(v >> (i * 4)) & 0xF];
  }
  return id;
}

// A client-supplied id is echoed only when it is short and printable, so it cannot smuggle
// newlines into logs or headers.
bool acceptable_trace_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string trace_id_of(const Http::Request& request) {
  for (const char* name : {"X-Trace-ID", "X-Request-ID"}) {
    auto raw = request.headers().tryGetRaw(name);
    if (raw && acceptable_trace_id(raw->value())) return raw->value();
  }
  return new_trace_id();
}

// Pistache 0.0.5 answers "Connection: Close" to an HTTP/1.1 request that has no Connection
// header, which makes clients reconnect for every request. HTTP/1.1 means keep-alive.
void fix_connection_header(const Http::Request& request, Http::ResponseWriter& response) {
  if (request.version() == Http::Version::Http11 && !request.headers().has<Header::Connection>()) {
    response.headers().remove<Header::Connection>();
  }
}

// Pistache 0.0.5 never serialises headers added with addRaw(); a typed header whose name is
// chosen at run time is written like any other.
class NamedHeader : public Header::Header {
 public:
  NamedHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
  // Only used by Pistache's typed get<H>() casts, which never target this class.
  uint64_t hash() const override { return 0; }

 private:
  std::string name_;
  std::string value_;
};

void add_header(Http::ResponseWriter& response, std::string name, std::string value) {
  if (strcasecmp(name.c_str(), "set-cookie") == 0) {
    // Several Set-Cookie headers may be sent; Pistache keeps one header per name, but writes
    // every cookie of the jar.
    try {
      response.cookies().add(Http::Cookie::fromString(value));
    } catch (const std::exception&) {
      // An unparsable cookie is dropped rather than sent malformed.
    }
    return;
  }
  response.headers().add(std::make_shared<NamedHeader>(std::move(name), std::move(value)));
}

void set_content_type(Http::ResponseWriter& response, const std::string& type) {
  if (type.empty()) return;
  static const Http::Mime::MediaType kJson = Http::Mime::MediaType::fromString("application/json");
  if (type == "application/json") return response.setMime(kJson);  // most answers: parsed once
  try {
    response.setMime(Http::Mime::MediaType::fromString(type));
  } catch (const std::exception&) {
    add_header(response, "Content-Type", type);
  }
}

bool reserved_header(const std::string& name) {
  for (const char* h : {"content-length", "connection", "transfer-encoding", "content-type"}) {
    if (strcasecmp(name.c_str(), h) == 0) return true;
  }
  return false;
}

// "." and ".." segments are refused rather than resolved: a path means what it says, so no
// spelling of it can reach a route other than the one it names.
bool has_dot_segment(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = std::min(path.find('/', start), path.size());
    std::string_view seg = path.substr(start, slash - start);
    if (seg == "." || seg == "..") return true;
    start = slash + 1;
  }
  return false;
}

bool is_safe_method(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS";
}

// Exact match, or "*" for any origin. The opaque origin "null" (sandboxed frames, file: pages)
// only passes "*", never an explicit list.
bool origin_allowed(const std::vector<std::string>& allowed, const std::string& origin) {
  for (const auto& a : allowed) {
    if (a == "*" || (a == origin && origin != "null")) return true;
  }
  return false;
}

// Whether the origin is listed by name (then responses may carry credentials) rather than only
// admitted by "*" (then browsers get `Access-Control-Allow-Origin: *` and no credentials, so a
// page from anywhere can read public answers but never a signed-in user's).
bool origin_listed(const std::vector<std::string>& allowed, const std::string& origin) {
  return origin != "null" && std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

void add_cors_origin(Http::ResponseWriter& response, const std::vector<std::string>& allowed,
                     const std::string& origin) {
  if (origin_listed(allowed, origin)) {
    add_header(response, "Access-Control-Allow-Origin", origin);
    add_header(response, "Access-Control-Allow-Credentials", "true");
    add_header(response, "Vary", "Origin");
  } else {
    add_header(response, "Access-Control-Allow-Origin", "*");
  }
}

std::string random_hex(size_t bytes) {
  std::random_device rd;  // the kernel's CSPRNG on Linux
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (size_t i = 0; i < bytes; i += 4) {
    uint32_t v = rd();
    for (size_t j = 0; j < 4 && i + j < bytes; ++j) {
      out += kHex[(v >> (j * 8 + 4)) & 0xF];
      out += kHex[(v >> (j * 8)) & 0xF];
    }
  }
  return out;
}

constexpr const char* kExposedHeaders =
    "X-Trace-ID, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After";
constexpr const char* kDefaultAllowedHeaders =
    "Content-Type, Authorization, X-API-Key, X-CSRFToken, X-Requested-With, X-CSRF-Protection, "
    "X-Tenant-ID, X-Trace-ID, X-Request-ID";

class RequestHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(RequestHandler)

  explicit RequestHandler(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}

  // Bounds open connections: one over server.max_connections is answered 503 and closed before
  // it can hold a parser (slow clients opening thousands of sockets). Runs on the reactor thread
  // that owns the connection; the count is shared by all of them.
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    // What Http::Handler::onConnection does in 0.0.5 (it is private there, so it cannot be
    // called): give the connection its request parser.
    peer->putData(ParserData, std::make_shared<Http::RequestParser>(getMaxRequestSize()));
    peer->putData(kDoorData, std::make_shared<Door>());
    if (state_->connections.fetch_add(1) + 1 <= state_->config.server.max_connections) return;
    state_->refused_connections.fetch_add(1);
    static const std::string kRefusal = [] {
      std::string body = sdk::error_envelope("UNAVAILABLE", "too many open connections", "");
      return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
             "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    // Best effort, never blocking the reactor: a client that cannot take it just sees the close.
    (void)!::send(peer->fd(), kRefusal.data(), kRefusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(peer->fd(), SHUT_RDWR);  // the reactor sees the hang-up and disconnects it
  }

  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    state_->connections.fetch_sub(1);
    Pistache::Tcp::Handler::onDisconnection(peer);
  }

  // The front door (front_door.hpp). Replaces Pistache's own onInput, which buffers every body
  // whole and hands its parser raw bytes: here each request's head is framed and checked first,
  // Pistache's parser gets exactly one checked request at a time (so pipelined requests are all
  // answered), and a large body is checked for before it is read and written to disk as it comes.
  void onInput(const char* buffer, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    auto door = std::static_pointer_cast<Door>(peer->getData(kDoorData));
    auto parser = getParser(peer);
    std::string_view in(buffer, len);
    std::string carry;  // a later request's bytes, when they came with an earlier one's
    try {
      while (!in.empty()) {
        switch (door->phase) {
          case Door::Phase::kHead: in = read_head(*door, *parser, peer, in, carry); break;
          case Door::Phase::kBody: in = read_body(*door, *parser, peer, in); break;
          case Door::Phase::kChunked: in = read_chunked(*door, *parser, peer, in); break;
          case Door::Phase::kSpool: in = read_spool(*door, *parser, peer, in); break;
          case Door::Phase::kRefused: return;  // answered; the rest is discarded
        }
      }
    } catch (const Http::HttpError& e) {  // Pistache's parser refused what the door let through
      refuse(*door, *parser, peer, e.code(), e.reason());
    } catch (const std::exception& e) {
      state_->log.error("http", "request failed in the host", {{"error", e.what()}});
      refuse(*door, *parser, peer, 500, "internal error");
    }
  }

 private:
  static constexpr const char* kDoorData = "plughost.door";

  // Where a connection is in its current request.
  struct Door {
    enum class Phase { kHead, kBody, kChunked, kSpool, kRefused };
    Phase phase = Phase::kHead;
    std::string head;        // kHead: the head so far, when it came in pieces
    uint64_t body_left = 0;  // kBody, kSpool: bytes of the body still to come
    std::string spool_head;  // kSpool: the head Pistache's parser holds (its body timeout)
    std::chrono::steady_clock::time_point spool_progress;
    std::unique_ptr<Http::RequestParser> checked;  // kSpool: the request as prechecked
    std::shared_ptr<SpooledBody> spool;
    bool rate_counted = false;  // the precheck counted it
    ChunkedFraming chunked;     // kChunked: where the body ends
  };

  std::string_view read_head(Door& door, Http::RequestParser& parser,
                             const std::shared_ptr<Pistache::Tcp::Peer>& peer, std::string_view in,
                             std::string& carry) {
    std::string_view buf = in;
    size_t scan_from = 0;
    if (!door.head.empty()) {
      scan_from = door.head.size();
      door.head.append(in.data(), in.size());
      buf = door.head;
    }
    RequestHead head;
    HeadError error;
    switch (parse_request_head(buf, kHeaderAllowance, scan_from, head, error)) {
      case HeadStatus::kIncomplete:
        if (door.head.empty()) door.head.assign(in.data(), in.size());
        return {};
      case HeadStatus::kBad: refuse(door, parser, peer, error.status, error.message); return {};
      case HeadStatus::kComplete: break;
    }
    std::string_view rest = buf.substr(head.size);
    if (!door.head.empty()) {
      carry.assign(rest.data(), rest.size());  // `in` (perhaps in `carry`) was copied to the head
      std::string bytes = std::move(door.head);
      door.head.clear();
      begin(door, parser, peer, std::string_view(bytes).substr(0, head.size), head);
      return carry;
    }
    begin(door, parser, peer, buf.substr(0, head.size), head);
    return rest;
  }

  // A checked head: decides where its body goes, or answers it when it has none.
  void begin(Door& door, Http::RequestParser& parser,
             const std::shared_ptr<Pistache::Tcp::Peer>& peer, std::string_view bytes,
             const RequestHead& head) {
    const ServerConfig& sc = state_->config.server;
    std::string_view from_line = bytes.substr(head.start);  // without the empty lines before
    uint64_t length = head.content_length.value_or(0);
    door.rate_counted = false;
    if (length > std::min(sc.spool_threshold_bytes, sc.max_body_bytes)) {
      // Too much to take on trust: the route, the limit and the caller are checked first.
      auto checked = std::make_unique<Http::RequestParser>(bytes.size() + 64);
      std::string bare = head_without_body(bytes, head);
      checked->feed(bare.data(), bare.size());
      if (checked->parse() != Http::Private::State::Done) {
        return refuse(door, parser, peer, 400, "malformed request head");
      }
      checked->request.copyAddress(peer->address());
      Http::ResponseWriter response(checked->request.version(), transport(), this, peer);
      Admission admission;
      admission.precheck = true;
      admission.declared_length = length;
      admission.peer = peer;
      if (serve(checked->request, response, admission)) {
        door.phase = Door::Phase::kRefused;
        return;
      }
      door.rate_counted = admission.rate_counted;
      if (admission.spool) {
        std::string error;
        std::unique_ptr<SpooledBody> spool =
            SpooledBody::create(spool_directory(sc), length, error);
        if (!spool) {
          state_->log.error("http", "cannot spool a request body", {{"error", error}});
          return refuse(door, parser, peer, 503, "the server cannot store the request body");
        }
        door.spool = std::move(spool);
        door.checked = std::move(checked);
        door.body_left = length;
        door.spool_head.assign(from_line.data(), from_line.size());
        restart_body_clock(door, parser);
        door.phase = Door::Phase::kSpool;
        if (head.expect_continue) send_continue(peer);
        return;
      }
    }
    if (!parser.feed(from_line.data(), from_line.size())) {
      return refuse(door, parser, peer, 431, "request headers too large");
    }
    if (!head.has_body()) {
      if (parser.parse() == Http::Private::State::Done) deliver(door, parser, parser.request, peer);
      return;
    }
    (void)parser.parse();  // through the headers: Pistache now times the body
    if (head.expect_continue) send_continue(peer);
    if (head.chunked) {
      door.chunked = ChunkedFraming();
      door.phase = Door::Phase::kChunked;
    } else {
      door.body_left = length;
      door.phase = Door::Phase::kBody;
    }
  }

  std::string_view read_body(Door& door, Http::RequestParser& parser,
                             const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                             std::string_view in) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(in.size(), door.body_left));
    if (!parser.feed(in.data(), n)) {
      refuse(door, parser, peer, 413, "request body too large");
      return {};
    }
    door.body_left -= n;
    if (door.body_left == 0) {
      if (parser.parse() != Http::Private::State::Done) {
        refuse(door, parser, peer, 400, "malformed request body");
        return {};
      }
      deliver(door, parser, parser.request, peer);
    }
    return in.substr(n);
  }

  // A chunked body goes to Pistache's parser, which decodes it; the door finds where it ends,
  // so that bytes after it in the same read are the next request's.
  std::string_view read_chunked(Door& door, Http::RequestParser& parser,
                                const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                                std::string_view in) {
    size_t used = 0;
    std::string plain;
    HeadError error;
    ChunkedFraming::Status framing = door.chunked.scan(in, used, plain, error);
    if (framing == ChunkedFraming::Status::kBad) {
      refuse(door, parser, peer, error.status, error.message);
      return {};
    }
    if (!parser.feed(plain.data(), plain.size())) {
      refuse(door, parser, peer, 413, "request body too large");
      return {};
    }
    if (framing == ChunkedFraming::Status::kMore) return {};
    if (parser.parse() != Http::Private::State::Done) {
      refuse(door, parser, peer, 400, "malformed chunked body");
      return {};
    }
    deliver(door, parser, parser.request, peer);
    return in.substr(used);
  }

  std::string_view read_spool(Door& door, Http::RequestParser& parser,
                              const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                              std::string_view in) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(in.size(), door.body_left));
    std::string error;
    if (!door.spool->append(in.data(), n, error)) {
      state_->log.error("http", "cannot spool a request body", {{"error", error}});
      refuse(door, parser, peer, 503, "the server cannot store the request body");
      return {};
    }
    door.body_left -= n;
    if (door.body_left > 0) {
      // The body timeout bounds a pause, not the whole upload of a large file.
      if (std::chrono::steady_clock::now() - door.spool_progress > std::chrono::seconds(1)) {
        restart_body_clock(door, parser);
      }
      return in.substr(n);
    }
    if (!door.spool->finish(error)) {
      state_->log.error("http", "cannot spool a request body", {{"error", error}});
      refuse(door, parser, peer, 503, "the server cannot store the request body");
      return {};
    }
    std::unique_ptr<Http::RequestParser> checked = std::move(door.checked);
    deliver(door, parser, checked->request, peer);
    return in.substr(n);
  }

  // Pistache's parser times each request from its reset: handing it the head again restarts that
  // clock, with the request in its body step (server.body_timeout_seconds).
  void restart_body_clock(Door& door, Http::RequestParser& parser) {
    parser.reset();
    parser.feed(door.spool_head.data(), door.spool_head.size());
    (void)parser.parse();
    door.spool_progress = std::chrono::steady_clock::now();
  }

  // What Pistache's own onInput does with a complete request, then the connection is ready for
  // the next one.
  void deliver(Door& door, Http::RequestParser& parser, Http::Request& request,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    Http::ResponseWriter response(request.version(), transport(), this, peer);
    request.copyAddress(peer->address());
    auto connection = request.headers().tryGet<Header::Connection>();
    response.headers().add<Header::Connection>(connection ? connection->control()
                                                          : Http::ConnectionControl::Close);
    peer->setIdle(false);
    Admission admission;
    admission.rate_counted = door.rate_counted;
    admission.spooled = std::move(door.spool);
    serve(request, response, admission);
    door.spool.reset();
    door.rate_counted = false;
    door.phase = Door::Phase::kHead;
    parser.reset();
  }

  // Answers a request the door cannot take (a malformed head, a failed spool) in the host's
  // envelope, and half-closes: whatever else the client sends is discarded.
  void refuse(Door& door, Http::RequestParser& parser,
              const std::shared_ptr<Pistache::Tcp::Peer>& peer, int status,
              const std::string& message) {
    state_->log.warn("http", "refused a request at the front door",
                     {{"status", status}, {"error", message}, {"remote", peer->address().host()}});
    door.phase = Door::Phase::kRefused;
    door.head.clear();
    door.spool.reset();
    door.checked.reset();
    parser.reset();
    Http::ResponseWriter response(Http::Version::Http11, transport(), this, peer);
    response.headers().add<Header::Connection>(Http::ConnectionControl::Close);
    set_content_type(response, "application/json");
    const char* code = "BAD_REQUEST";
    switch (status) {
      case 413: code = "PAYLOAD_TOO_LARGE"; break;
      case 417: code = "EXPECTATION_FAILED"; break;
      case 431: code = "HEADERS_TOO_LARGE"; break;
      case 500: code = "INTERNAL_ERROR"; break;
      case 501: code = "NOT_IMPLEMENTED"; break;
      case 503: code = "UNAVAILABLE"; break;
      case 505: code = "HTTP_VERSION_NOT_SUPPORTED"; break;
      default: break;
    }
    half_close_after(
        response.send(static_cast<Http::Code>(status), sdk::error_envelope(code, message, "")),
        peer);
  }

  // `Expect: 100-continue`: the client waits for this before it sends the body. It goes through
  // Pistache's write queue like every response, so that it follows the answers to requests
  // pipelined before this one, which are still queued when this head is read.
  void send_continue(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    transport()->asyncWrite(peer->fd(), Pistache::RawBuffer(kContinue, sizeof(kContinue) - 1));
  }

 public:
  // Requests reach serve() through onInput below; Pistache calls this only if it is bypassed.
  void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
    Admission admission;
    serve(request, response, admission);
  }

 private:
  // How far a request has come when dispatch() sees it.
  struct Admission {
    // Only the head has arrived (its body is large): run every check that needs no body and
    // stop before the handler. `declared_length` is the Content-Length.
    bool precheck = false;
    uint64_t declared_length = 0;
    std::weak_ptr<Pistache::Tcp::Peer> peer;  // precheck: half-closed after a refusal
    bool spool = false;                       // out of a precheck: write the body to disk
    bool rate_counted = false;                // the precheck counted it against the rate limit
    std::shared_ptr<SpooledBody> spooled;     // the body, when it went to disk
  };

  // Answers one request (or, for a precheck, refuses it or lets it through). Returns whether a
  // response was sent.
  bool serve(const Http::Request& request, Http::ResponseWriter& response, Admission& admission) {
    auto started = std::chrono::steady_clock::now();
    state_->metrics.in_flight(1);
    fix_connection_header(request, response);
    Outcome out;
    out.trace_id = trace_id_of(request);
    if (admission.precheck) {
      out.close_after = admission.peer;
      response.headers().add<Header::Connection>(Http::ConnectionControl::Close);
    }
    try {
      dispatch(request, response, out, admission);
    } catch (const std::exception& e) {
      state_->log.error("http", "request failed in the host",
                        {{"request_id", out.trace_id}, {"error", e.what()}});
      respond_error(response, out, 500, "INTERNAL_ERROR", "internal error");
    }
    if (out.status == 0) {  // a precheck that passed: the request is served when its body is in
      state_->metrics.in_flight(-1);
      return false;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    state_->metrics.in_flight(-1);
    size_t unmatched = state_->host_slot_base + 4;
    state_->metrics.observe(out.slot == SIZE_MAX ? unmatched : out.slot,
                            Http::methodString(request.method()), out.status, seconds);
    if (state_->config.log.access && state_->log.enabled(LogLevel::kInfo)) {
      state_->log.info("access", "request",
                       {{"request_id", out.trace_id},
                        {"method", Http::methodString(request.method())},
                        {"path", request.resource()},
                        {"plugin", out.plugin},
                        {"route", out.route},
                        {"principal", out.principal},
                        {"status", out.status},
                        {"bytes", static_cast<int64_t>(out.bytes)},
                        {"duration_s", seconds}});
    }
    return true;
  }

  struct Outcome {
    std::string trace_id;
    std::string plugin;
    std::string route;
    std::string principal;   // "kind:id", "" when anonymous
    size_t slot = SIZE_MAX;  // metrics slot; SIZE_MAX: unmatched
    int status = 0;
    size_t bytes = 0;
    // Set when the request's body will not be read: the response says `Connection: close` and
    // the connection is half-closed once it is written.
    std::weak_ptr<Pistache::Tcp::Peer> close_after;
  };

  void send(Http::ResponseWriter& response, Outcome& out, int status, const std::string& body) {
    add_header(response, "X-Trace-ID", out.trace_id);
    out.status = status;
    out.bytes = body.size();
    auto sent = response.send(static_cast<Http::Code>(status), body);
    if (!out.close_after.expired()) half_close_after(std::move(sent), out.close_after);
  }

  void respond_error(Http::ResponseWriter& response, Outcome& out, int status, const char* code,
                     const std::string& message) {
    set_content_type(response, "application/json");
    send(response, out, status, sdk::error_envelope(code, message, out.trace_id));
  }

  void respond_json(Http::ResponseWriter& response, Outcome& out, int status,
                    const std::string& json) {
    set_content_type(response, "application/json");
    send(response, out, status, json);
  }

  // The caller's address: the peer, or — when the peer is a trusted proxy — the last
  // X-Forwarded-For entry that is not itself a trusted proxy.
  std::string client_address(const std::string& peer, const Http::Request& request) const {
    const auto& proxies = state_->config.server.trusted_proxies;
    auto trusted = [&](const std::string& a) {
      return std::find(proxies.begin(), proxies.end(), a) != proxies.end();
    };
    if (proxies.empty() || !trusted(peer)) return peer;
    auto header = request.headers().tryGetRaw("X-Forwarded-For");
    if (!header) return peer;
    std::string list = header->value();
    size_t end = list.size();
    while (end > 0) {
      size_t comma = list.rfind(',', end - 1);
      size_t start = comma == std::string::npos ? 0 : comma + 1;
      std::string hop = list.substr(start, end - start);
      hop.erase(0, hop.find_first_not_of(" \t"));
      hop.erase(hop.find_last_not_of(" \t") + 1);
      bool printable =
          !hop.empty() && hop.size() <= 64 && std::all_of(hop.begin(), hop.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':';
          });
      if (!printable) return peer;  // not an address: believe nothing further left
      if (!trusted(hop)) return hop;
      if (comma == std::string::npos) break;
      end = comma;
    }
    return peer;
  }

  // An error the host answers on a plugin's route, in that plugin's envelope when it registered
  // an error formatter.
  void respond_route_error(Http::ResponseWriter& response, Outcome& out, const RouteEntry* route,
                           int status, const char* code, const std::string& message,
                           const std::string& detail = {}) {
    if (route) {
      const ph_host* host = plugin_host(*route);
      if (host && host->error_formatter) {
        ph_buffer body;
        int rc = host->error_formatter(host->error_formatter_data, status, code,
                                       ph_str{message.data(), message.size()},
                                       ph_str{detail.data(), detail.size()},
                                       ph_str{out.trace_id.data(), out.trace_id.size()}, &body);
        if (rc == PH_OK && !body.data.empty())
          return respond_json(response, out, status, body.data);
      }
    }
    respond_error(response, out, status, code, message);
  }

  const ph_host* plugin_host(const RouteEntry& route) const {
    const RouteTarget& target = state_->plugins.registry().target(route.target);
    return state_->plugins.plugin(target.plugin_index).host.get();
  }

  const std::vector<std::string>* origins_of(const std::string& plugin) const {
    auto it = state_->allowed_origins.find(plugin);
    return it == state_->allowed_origins.end() ? nullptr : it->second;
  }

  Credentials credentials_of(const ph_request& rq) const {
    Credentials c;
    c.cookies = request_cookies(rq);
    if (const std::string* auth = find_header(rq, "authorization")) {
      if (auth->size() > 7 && strncasecmp(auth->c_str(), "Bearer ", 7) == 0) {
        c.bearer = auth->substr(7);
      }
    }
    if (const std::string* key = find_header(rq, "x-api-key")) c.api_key = *key;
    if (const std::string* ua = find_header(rq, "user-agent")) c.user_agent = *ua;
    c.remote_address = rq.remote;
    c.method = std::string(rq.method);
    c.path = rq.path;
    c.tenant = rq.tenant;
    return c;
  }

  // CSRF: a cookie client's unsafe request must prove it came from the site's own pages, by the
  // double-submit token (csrftoken cookie == X-CSRFToken header) or by a custom header that a
  // cross-site form cannot send without a CORS preflight.
  bool csrf_ok(const ph_request& rq, const Principal& principal, const RouteEntry& route) const {
    if (is_safe_method(rq.method) || (route.flags & PH_ROUTE_CSRF_EXEMPT)) return true;
    const AuthConfig& auth = state_->config.auth;
    bool token = principal.scheme == "bearer" || principal.scheme == "api_key";
    // A browser marks a request another site made it send. Without a token (which a cross-site
    // form cannot attach) and without that site on the plugin's list, it is refused: this also
    // covers callers with no cookie at all (auth disabled, sign-in forms).
    const std::string* fetch_site = find_header(rq, "sec-fetch-site");
    if (!token && fetch_site && *fetch_site == "cross-site") {
      const std::string* origin = find_header(rq, "origin");
      const std::vector<std::string>* origins = origins_of(route.plugin);
      if (!origin || !origins || !origin_listed(*origins, *origin)) return false;
    }
    const std::string* cookie = find_cookie(rq, auth.csrf_cookie);
    if (principal.scheme != "session" && !cookie) return true;  // not a cookie client
    for (const auto& h : auth.csrf_trusted_headers) {
      if (find_header(rq, h)) return true;
    }
    const std::string* header = find_header(rq, auth.csrf_header);
    return cookie && header && !cookie->empty() && constant_time_equals(*cookie, *header);
  }

  // The host's own routes (/healthz, /readyz, /metrics, /openapi.json, the API docs). Returns
  // whether `rq.path` was one of them (and answered).
  bool host_route(const Http::Request& request, Http::ResponseWriter& response, Outcome& out,
                  const ph_request& rq) {
    if (rq.path == "/healthz") {
      out.route = "/healthz";
      out.slot = state_->host_slot_base;
      respond_json(response, out, 200, "{\"status\":\"ok\"}");
      return true;
    }
    if (rq.path == "/readyz") {
      out.route = "/readyz";
      out.slot = state_->host_slot_base + 1;
      readiness(response, out);
      return true;
    }
    if (rq.path == "/metrics") {
      out.route = "/metrics";
      out.slot = state_->host_slot_base + 2;
      set_content_type(response, "text/plain; version=0.0.4; charset=utf-8");
      send(response, out, 200, state_->metrics.render(gauges()));
      return true;
    }
    if (rq.path == "/openapi.json") {
      out.route = "/openapi.json";
      out.slot = state_->host_slot_base + 5;
      respond_json(response, out, 200, *std::atomic_load(&state_->openapi));
      return true;
    }
    if (state_->docs_ui &&
        (rq.path.rfind("/api/docs", 0) == 0 || rq.path.rfind("/api/redoc", 0) == 0)) {
      if (const StaticAsset* asset = state_->docs_ui->find(rq.path)) {
        bool redoc = rq.path.rfind("/api/redoc", 0) == 0;
        out.route = redoc ? "/api/redoc" : "/api/docs";
        out.slot = state_->host_slot_base + (redoc ? 7 : 6);
        if (request.method() != Http::Method::Get && request.method() != Http::Method::Head) {
          add_header(response, "Allow", "GET, HEAD");
          respond_error(response, out, 405, "METHOD_NOT_ALLOWED",
                        "method " + std::string(rq.method) + " is not allowed on " + rq.path);
          return true;
        }
        add_header(response, "Content-Security-Policy", DocsUi::content_security_policy());
        add_header(response, "X-Content-Type-Options", "nosniff");
        add_header(response, "Referrer-Policy", "no-referrer");
        add_header(response, "Cache-Control", "public, max-age=3600");
        set_content_type(response, asset->content_type);
        send(response, out, 200,
             request.method() == Http::Method::Head ? std::string() : asset->body);
        return true;
      }
    }
    return false;
  }

  void dispatch(const Http::Request& request, Http::ResponseWriter& response, Outcome& out,
                Admission& admission) {
    auto call = std::make_shared<HandlerCall>();
    ph_request& rq = call->rq;  // stays put: params are views into rq.path
    rq.http = &request;
    if (admission.spooled) {
      rq.body = admission.spooled->view();
      rq.body_owner = admission.spooled;
    } else {
      rq.body = request.body();
    }
    rq.method = Http::methodString(request.method());
    rq.path = percent_decode(request.resource(), false);
    rq.trace_id = out.trace_id;
    // The host's own routes take no large bodies: a precheck goes on to the plugin routes.
    if (!admission.precheck && host_route(request, response, out, rq)) return;
    if (has_dot_segment(rq.path) || rq.path.find('\0') != std::string::npos) {
      return respond_error(response, out, 400, "BAD_REQUEST",
                           "the path must not contain \".\" or \"..\" segments or NUL bytes");
    }
    rq.remote = client_address(request.address().host(), request);
    if (const std::string* tenant = find_header(rq, "x-tenant-id")) {
      if (!valid_tenant_id(*tenant)) {
        return respond_error(response, out, 400, "VALIDATION_ERROR",
                             "X-Tenant-ID must match [A-Za-z0-9_.:-]{1,64}");
      }
      rq.tenant = *tenant;
    }
    if (!admission.precheck && rq.path == "/api/events/stream" &&
        request.method() == Http::Method::Get) {
      out.route = "/api/events/stream";
      out.slot = state_->host_slot_base + 3;
      Principal principal = state_->identity.resolve(credentials_of(rq));
      if (state_->identity.authorize(principal, PH_PERMISSION_AUTHENTICATED) !=
          Identity::Verdict::kAllowed) {
        return respond_error(response, out, 401, "UNAUTHORIZED", "authentication required");
      }
      return event_stream(request, response, out);
    }
    const Registry& registry = state_->plugins.registry();
    if (request.method() == Http::Method::Options && preflight(rq, response, out)) return;
    RouteMatch match = registry.router().match(rq.method, rq.path);
    if (match.kind == RouteMatch::Kind::kNotFound) {
      return respond_error(response, out, 404, "NOT_FOUND", "no route for " + rq.path);
    }
    if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
      std::string allow;
      for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
      add_header(response, "Allow", allow);
      RouteMatch any = registry.router().match(match.allowed.front(), rq.path);
      return respond_route_error(
          response, out, any.route, 405, "METHOD_NOT_ALLOWED",
          "method " + std::string(rq.method) + " is not allowed on " + rq.path);
    }
    const RouteEntry& route = *match.route;
    out.plugin = route.plugin;
    out.route = route.pattern;
    out.slot = route.target;
    const ServerConfig& sc = state_->config.server;
    bool uploads = route.flags & PH_ROUTE_LARGE_BODY;
    uint64_t limit = uploads ? sc.max_upload_bytes : sc.max_body_bytes;
    uint64_t size = admission.precheck ? admission.declared_length : rq.body.size();
    if (size > limit) {
      return respond_route_error(response, out, &route, 413, "PAYLOAD_TOO_LARGE",
                                 "request body exceeds " + std::to_string(limit) + " bytes");
    }
    const std::string* origin = find_header(rq, "origin");
    const std::vector<std::string>* origins = origins_of(route.plugin);
    if (origin && origins) {
      if (!origin_allowed(*origins, *origin)) {
        return respond_route_error(response, out, &route, 403, "ORIGIN_NOT_ALLOWED",
                                   "origin " + *origin + " is not allowed", *origin);
      }
      add_cors_origin(response, *origins, *origin);
      add_header(response, "Access-Control-Expose-Headers", kExposedHeaders);
    }
    Principal principal = state_->identity.resolve(credentials_of(rq));
    if (principal.signed_in()) out.principal = principal.kind + ":" + principal.id;
    if (!admission.rate_counted && !check_rate(rq, principal, route, response, out)) return;
    switch (state_->identity.authorize(principal, route.permission)) {
      case Identity::Verdict::kAllowed: break;
      case Identity::Verdict::kUnauthenticated:
        return respond_route_error(response, out, &route, 401, "UNAUTHORIZED",
                                   "authentication required");
      case Identity::Verdict::kForbidden:
        return respond_route_error(response, out, &route, 403, "FORBIDDEN",
                                   "permission " + route.permission + " is required",
                                   route.permission);
    }
    if (!csrf_ok(rq, principal, route)) {
      state_->log.warn("http", "CSRF check failed",
                       {{"request_id", out.trace_id}, {"route", route.pattern}});
      return respond_route_error(response, out, &route, 403, "CSRF_FAILED",
                                 "CSRF validation failed");
    }
    if (!admission.precheck && (route.flags & PH_ROUTE_ISSUE_CSRF_COOKIE) &&
        !find_cookie(rq, state_->config.auth.csrf_cookie)) {  // (a precheck's answer is not sent)
      add_header(response, "Set-Cookie",
                 state_->config.auth.csrf_cookie + "=" + random_hex(32) + "; Path=/; SameSite=Lax");
    }
    if (admission.precheck) {  // admitted: the body may come
      // Whatever the door prechecked on an upload route is spooled: Pistache's parser takes no
      // more than max_body_bytes.
      admission.spool = uploads && size > std::min(sc.spool_threshold_bytes, sc.max_body_bytes);
      admission.rate_counted = true;
      return;
    }
    rq.principal_json = std::move(principal.json);
    rq.permissions = std::move(principal.permissions);
    rq.params = std::move(match.params);  // views into rq.path, which stays put from here on
    invoke_plugin(request, response, out, route, call);
  }

  // Counts the request against its route's class; answers 429 and returns false when over.
  bool check_rate(const ph_request& rq, const Principal& principal, const RouteEntry& route,
                  Http::ResponseWriter& response, Outcome& out) {
    std::shared_ptr<LiveLimits> limits = std::atomic_load(&state_->limits);
    const RateLimitConfig& rl = limits->config;
    if (rl.exempt_loopback && (rq.remote.rfind("127.", 0) == 0 || rq.remote == "::1")) {
      return true;
    }
    double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    RateLimiter::Decision d =
        limits->limiter.hit(route.rate_class, principal.rate_key(rq.remote), now);
    if (!d.limited) return true;
    add_header(response, "X-RateLimit-Limit", std::to_string(d.limit));
    add_header(response, "X-RateLimit-Remaining", std::to_string(d.remaining));
    add_header(response, "X-RateLimit-Reset", std::to_string(d.reset_epoch));
    if (d.allowed) return true;
    add_header(response, "Retry-After", std::to_string(d.retry_after));
    state_->log.info("http", "rate limited",
                     {{"request_id", out.trace_id}, {"route", route.pattern}});
    respond_route_error(response, out, &route, 429, "RATE_LIMITED",
                        "too many requests; retry in " + std::to_string(d.retry_after) + " s");
    return false;
  }

  // A CORS preflight for a route of a plugin with an origin allow-list. Returns false when the
  // request is not one (then it is routed like any OPTIONS request).
  bool preflight(const ph_request& rq, Http::ResponseWriter& response, Outcome& out) {
    const std::string* origin = find_header(rq, "origin");
    const std::string* wanted = find_header(rq, "access-control-request-method");
    if (!origin || !wanted) return false;
    const Router& router = state_->plugins.registry().router();
    RouteMatch options = router.match("OPTIONS", rq.path);
    if (options.kind != RouteMatch::Kind::kMethodNotAllowed) return false;  // plugin answers it
    RouteMatch target = router.match(*wanted, rq.path);
    if (target.kind != RouteMatch::Kind::kFound) return false;
    const std::vector<std::string>* origins = origins_of(target.route->plugin);
    if (!origins) return false;
    out.plugin = target.route->plugin;
    out.route = target.route->pattern;
    if (!origin_allowed(*origins, *origin)) {
      respond_route_error(response, out, target.route, 403, "ORIGIN_NOT_ALLOWED",
                          "origin " + *origin + " is not allowed", *origin);
      return true;
    }
    std::string methods;
    for (const auto& m : options.allowed) methods += (methods.empty() ? "" : ", ") + m;
    const std::string* asked = find_header(rq, "access-control-request-headers");
    bool printable = asked && std::all_of(asked->begin(), asked->end(),
                                          [](char c) { return c >= 0x20 && c < 0x7f; });
    add_cors_origin(response, *origins, *origin);
    add_header(response, "Access-Control-Allow-Methods", methods);
    add_header(response, "Access-Control-Allow-Headers",
               printable ? *asked : std::string(kDefaultAllowedHeaders));
    add_header(response, "Access-Control-Max-Age", "86400");
    send(response, out, 204, "");
    return true;
  }

  void invoke_plugin(const Http::Request& request, Http::ResponseWriter& response, Outcome& out,
                     const RouteEntry& route, const std::shared_ptr<HandlerCall>& call) {
    const RouteTarget& target = state_->plugins.registry().target(route.target);
    if (!state_->handlers) {
      ph_error err{sizeof(ph_error), call->message, sizeof(call->message)};
      take_storage_fault();
      call->rc = target.handler(target.user_data, &call->rq, &call->rs, &err);
      call->storage_fault = take_storage_fault();
      return answer_plugin_result(request, response, out, route, *call);
    }
    detach_from_pistache(request, call->rq);
    Logger* log = &state_->log;
    bool queued = state_->handlers->submit([call, target, log, plugin = route.plugin] {
      ph_error err{sizeof(ph_error), call->message, sizeof(call->message)};
      take_storage_fault();
      int rc = target.handler(target.user_data, &call->rq, &call->rs, &err);
      const char* storage_fault = take_storage_fault();
      {
        std::lock_guard<std::mutex> lock(call->mu);
        call->rc = rc;
        call->storage_fault = storage_fault;
        call->done = true;
        if (call->abandoned) {
          log->warn("http", "dropped the late result of a handler that timed out",
                    {{"request_id", call->rq.trace_id}, {"plugin", plugin}});
        }
      }
      call->finished.notify_one();
    });
    if (!queued) {
      state_->log.error("http", "too many plugin handlers still running past the request timeout",
                        {{"request_id", out.trace_id}, {"plugin", route.plugin}});
      return respond_route_error(response, out, &route, 503, "UNAVAILABLE",
                                 "the server is overloaded; retry later");
    }
    auto timeout = std::chrono::duration<double>(state_->config.server.request_timeout_seconds);
    std::unique_lock<std::mutex> lock(call->mu);
    if (!call->finished.wait_for(lock, timeout, [&] { return call->done; })) {
      call->abandoned = true;  // from here the handler thread alone owns rq/rs
      lock.unlock();
      state_->log.error("http", "plugin handler exceeded server.request_timeout_seconds",
                        {{"request_id", out.trace_id},
                         {"plugin", route.plugin},
                         {"route", route.pattern},
                         {"timeout_s", state_->config.server.request_timeout_seconds}});
      return respond_route_error(response, out, &route, 504, "TIMEOUT",
                                 "the request timed out in plugin " + route.plugin);
    }
    lock.unlock();
    answer_plugin_result(request, response, out, route, *call);
  }

  // Before a handler runs on another thread, which may outlive this request: everything it can
  // read is copied or moved into `rq`, and the Pistache request is cut off. The body is moved,
  // not copied: Pistache discards the request once onRequest returns and never reads it again.
  static void detach_from_pistache(const Http::Request& request, ph_request& rq) {
    request_headers(rq);
    request_cookies(rq);
    request_query(rq);
    if (!rq.body_owner) {  // a spooled body is mapped and stays so while rq lives
      rq.owned_body = std::move(const_cast<std::string&>(request.body()));
      rq.body = rq.owned_body;
    }
    rq.http = nullptr;
  }

  void answer_plugin_result(const Http::Request& request, Http::ResponseWriter& response,
                            Outcome& out, const RouteEntry& route, HandlerCall& call) {
    ph_response& rs = call.rs;
    if (call.storage_fault && (call.rc != PH_OK || rs.status == 500)) {
      // The handler failed because the database could not take the work: say so, and that a
      // retry may succeed, rather than report a bug.
      state_->log.warn("http", "plugin handler failed: storage unavailable",
                       {{"request_id", out.trace_id},
                        {"plugin", route.plugin},
                        {"route", route.pattern},
                        {"reason", call.storage_fault},
                        {"error", call.rc != PH_OK ? call.message : ""}});
      add_header(response, "Retry-After", "5");
      return respond_route_error(
          response, out, &route, 503, "UNAVAILABLE",
          std::string("storage is unavailable (") + call.storage_fault + "); try again later",
          call.storage_fault);
    }
    if (call.rc != PH_OK) {
      state_->log.error("http", "plugin handler failed",
                        {{"request_id", out.trace_id},
                         {"plugin", route.plugin},
                         {"route", route.pattern},
                         {"code", call.rc},
                         {"error", call.message}});
      return respond_route_error(response, out, &route, 500, "INTERNAL_ERROR",
                                 "internal error in plugin " + route.plugin);
    }
    for (const auto& [name, value] : rs.headers) {
      if (strcasecmp(name.c_str(), "content-type") == 0 && rs.content_type.empty()) {
        rs.content_type = value;
      } else if (!reserved_header(name)) {
        add_header(response, name, value);
      }
    }
    set_content_type(response, rs.content_type);
    send(response, out, rs.status,
         request.method() == Http::Method::Head ? std::string() : rs.body);
  }

  // GET /api/events/stream?types=a,b_* : one SSE message per matching event until the client
  // goes away. Each message: "id: <stored id or 0>", "event: <type>", "data: <payload JSON>".
  void event_stream(const Http::Request& request, Http::ResponseWriter& response, Outcome& out) {
    if (!state_->events || state_->stopping) {
      return respond_error(response, out, 503, "UNAVAILABLE", "event stream is not available");
    }
    std::vector<std::string> patterns;
    std::string types = percent_decode(request.query().get("types").value_or("*"), true);
    for (size_t start = 0; start <= types.size();) {
      size_t comma = std::min(types.find(',', start), types.size());
      std::string p = types.substr(start, comma - start);
      if (!p.empty()) patterns.push_back(p);
      start = comma + 1;
    }
    if (patterns.empty()) patterns.push_back("*");
    auto client = std::make_shared<SseClient>();
    client->fd = ::dup(response.peer()->fd());
    if (client->fd < 0) {
      return respond_error(response, out, 503, "UNAVAILABLE", "cannot open the event stream");
    }
    out.status = 200;
    if (!client->send_all("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                          "Cache-Control: no-cache\r\nX-Trace-ID: " +
                          out.trace_id + "\r\nTransfer-Encoding: chunked\r\n\r\n")) {
      return;  // the client left already
    }
    std::weak_ptr<SseClient> weak = client;
    auto state = state_;
    std::vector<uint64_t> ids;
    for (const auto& pattern : patterns) {
      ids.push_back(state_->events->subscribe(pattern, [weak, state](const Event& e) {
        auto c = weak.lock();
        if (!c) return;
        std::string data = e.payload_json;
        std::replace(data.begin(), data.end(), '\n', ' ');  // JSON whitespace only
        if (!c->write("id: " + std::to_string(e.id) + "\nevent: " + e.type + "\ndata: " + data +
                      "\n\n")) {
          state->drop_client(c);
        }
      }));
    }
    bool dead;
    {
      std::lock_guard<std::mutex> lock(client->mu);
      client->subscriptions = ids;
      dead = client->dead;
    }
    if (dead) {
      // It went away while subscribing: drop_client may have run before the ids were stored.
      for (uint64_t id : ids) state_->events->unsubscribe(id);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(state_->sse_mu);
      state_->sse_clients.push_back(client);
    }
    // Only now, subscribed: a client that waits for this line misses no event it causes after.
    if (!client->write(": connected\n\n")) state_->drop_client(client);
  }

  // Gauges read at scrape time, and the plugins' own metrics, as exposition lines.
  std::string gauges() {
    std::string g = state_->plugins.metrics().render();
    g += "# HELP plughost_build_info The host's version and ABI.\n"
         "# TYPE plughost_build_info gauge\n"
         "plughost_build_info{version=\"" PLUGHOST_VERSION "\",abi=\"" +
         std::to_string(PH_ABI_MAJOR) + "." + std::to_string(PH_ABI_MINOR) + "\"} 1\n";
    g += "# HELP plughost_plugin_up 1 when the enabled plugin is running.\n"
         "# TYPE plughost_plugin_up gauge\n";
    for (const auto& record : state_->plugins.plugins()) {
      if (record->status == PluginStatus::kFound || record->status == PluginStatus::kDisabled) {
        continue;
      }
      g += "plughost_plugin_up{plugin=\"" + prometheus_label(record->name) + "\"} " +
           (record->status == PluginStatus::kRunning ? "1" : "0") + "\n";
    }
    g += "# HELP plughost_http_connections_open Open client connections.\n"
         "# TYPE plughost_http_connections_open gauge\n"
         "plughost_http_connections_open " +
         std::to_string(state_->connections.load()) + "\n";
    g += "# HELP plughost_http_connections_refused_total Connections closed at once because "
         "server.max_connections were open.\n"
         "# TYPE plughost_http_connections_refused_total counter\n"
         "plughost_http_connections_refused_total " +
         std::to_string(state_->refused_connections.load()) + "\n";
    Services* services = state_->plugins.services();
    if (services && services->scheduler) {
      g += "# HELP plughost_scheduler_lag_seconds Delay between a schedule's due time and its "
           "last enqueue on this host.\n"
           "# TYPE plughost_scheduler_lag_seconds gauge\n";
      for (const auto& [name, lag] : services->scheduler->lags()) {
        char value[64];
        std::snprintf(value, sizeof(value), "%.6f", lag);
        g += "plughost_scheduler_lag_seconds{schedule=\"" + prometheus_label(name) + "\"} " +
             value + "\n";
      }
    }
    if (!state_->db) return g;
    g += "# HELP plughost_storage_pool_sessions Pooled database sessions, by state.\n"
         "# TYPE plughost_storage_pool_sessions gauge\n";
    size_t available = state_->db->pool_available();
    g += "plughost_storage_pool_sessions{state=\"idle\"} " + std::to_string(available) + "\n";
    g += "plughost_storage_pool_sessions{state=\"leased\"} " +
         std::to_string(state_->db->pool_size() - available) + "\n";
    g += "# HELP plughost_task_queue_depth Tasks queued and not yet running, by plugin.\n"
         "# TYPE plughost_task_queue_depth gauge\n";
    try {
      std::map<std::string, int64_t> depth;
      for (const auto& record : state_->plugins.plugins()) {
        if (record->status == PluginStatus::kRunning) depth[record->name] = 0;
      }
      Statement q(
          *state_->db,
          "SELECT kind, COUNT(*) FROM plughost_tasks WHERE status = 'queued' GROUP BY kind");
      while (q.step()) {
        std::string kind(q.column_bytes(0));
        depth[kind.substr(0, kind.find('/'))] += q.column_int64(1);
      }
      for (const auto& [plugin, n] : depth) {
        g += "plughost_task_queue_depth{plugin=\"" + prometheus_label(plugin) + "\"} " +
             std::to_string(n) + "\n";
      }
    } catch (const std::exception& e) {
      state_->log.warn("http", "metrics: task queue depth unavailable", {{"error", e.what()}});
    }
    return g;
  }

  void readiness(Http::ResponseWriter& response, Outcome& out) {
    bool ready = !state_->draining.load();
    std::string body = "{\"status\":\"";
    std::string checks = "[";
    checks += std::string("{\"name\":\"server\",\"status\":\"") +
              (state_->draining.load() ? "draining" : "ok") + "\"}";
    if (state_->db) {
      // A round trip through a pooled session: the database answers and a session is free.
      bool db_ok = true;
      try {
        Statement probe(*state_->db, "SELECT 1");
        db_ok = probe.step();
      } catch (const std::exception& e) {
        db_ok = false;
        state_->log.warn("http", "readiness: storage check failed", {{"error", e.what()}});
      }
      ready = ready && db_ok;
      checks +=
          std::string(",{\"name\":\"storage\",\"status\":\"") + (db_ok ? "ok" : "failed") + "\"}";
    }
    for (const auto& record : state_->plugins.plugins()) {
      if (record->status == PluginStatus::kFound || record->status == PluginStatus::kDisabled) {
        continue;
      }
      bool ok = record->status == PluginStatus::kRunning;
      ready = ready && ok;
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      w.StartObject();
      w.Key("name");
      w.String(("plugin:" + record->name).c_str());
      w.Key("status");
      w.String(ok ? "ok" : plugin_status_name(record->status));
      if (!record->error.empty()) {
        w.Key("error");
        w.String(record->error.c_str());
      }
      w.EndObject();
      checks += ",";
      checks += buf.GetString();
    }
    {
      // Not a readiness condition: the host serves fine, but an operator should know.
      std::lock_guard<std::mutex> lock(state_->reload_mu);
      const ReloadReport& r = state_->reload;
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      w.StartObject();
      w.Key("name");
      w.String("config");
      w.Key("status");
      w.String(r.restart_required.empty() ? "ok" : "restart_required");
      w.Key("restart_required");
      w.StartArray();
      for (const auto& s : r.restart_required) w.String(s.c_str());
      w.EndArray();
      w.Key("reloads");
      w.Uint64(r.reloads);
      if (!r.last_error.empty()) {
        w.Key("last_reload_error");
        w.String(r.last_error.c_str());
      }
      w.EndObject();
      checks += ",";
      checks += buf.GetString();
    }
    checks += "]";
    body += ready ? "ready" : "not_ready";
    body += "\",\"checks\":" + checks + "}";
    respond_json(response, out, ready ? 200 : 503, body);
  }

  std::shared_ptr<ServerState> state_;
};

}  // namespace

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> collect_headers(const Http::Request& request) {
  std::vector<std::pair<std::string, std::string>> out;
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  thread_local std::ostringstream value;  // one stream per thread: constructing one is costly
  for (const auto& header : request.headers().list()) {
    value.str(std::string());
    value.clear();
    header->write(value);
    out.emplace_back(lower(header->name()), value.str());
  }
  for (const auto& [name, raw] : request.headers().rawList()) {
    out.emplace_back(lower(name), raw.value());
  }
  return out;
}

const std::vector<std::pair<std::string, std::string>>& request_headers(const ph_request& rq) {
  if (!rq.headers) rq.headers = collect_headers(*rq.http);
  return *rq.headers;
}

const std::vector<std::pair<std::string, std::string>>& request_query(const ph_request& rq) {
  if (!rq.query) {
    rq.query.emplace();
    const auto& q = rq.http->query();
    for (auto it = q.parameters_begin(); it != q.parameters_end(); ++it) {
      rq.query->emplace_back(percent_decode(it->first, true), percent_decode(it->second, true));
    }
  }
  return *rq.query;
}

const std::vector<std::pair<std::string, std::string>>& request_cookies(const ph_request& rq) {
  if (!rq.cookies) {
    rq.cookies.emplace();
    for (const auto& cookie : rq.http->cookies())
      rq.cookies->emplace_back(cookie.name, cookie.value);
  }
  return *rq.cookies;
}

const std::string* find_header(const ph_request& rq, std::string_view name) {
  for (const auto& [k, v] : request_headers(rq)) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return &v;
  }
  return nullptr;
}

const std::string* find_cookie(const ph_request& rq, std::string_view name) {
  for (const auto& [k, v] : request_cookies(rq)) {
    if (k == name) return &v;
  }
  return nullptr;
}

HttpServer::HttpServer(Logger& log, const Config& config, const PluginSet& plugins,
                       EventBus* events, Database* db)
    : state_(std::make_shared<ServerState>(log, config, plugins, events, db)) {}

HttpServer::~HttpServer() {
  stop();
}

uint16_t HttpServer::start() {
  const ServerConfig& sc = state_->config.server;
  Pistache::Address address(sc.host, Pistache::Port(sc.port));
  endpoint_ = std::make_unique<Http::Endpoint>(address);
  auto options = Http::Endpoint::options()
                     .threads(sc.threads)
                     .flags(Pistache::Tcp::Options::ReuseAddr)
                     .maxRequestSize(sc.max_body_bytes + kHeaderAllowance)
                     .headerTimeout(std::chrono::duration<double>(sc.header_timeout_seconds))
                     .bodyTimeout(std::chrono::duration<double>(sc.body_timeout_seconds))
                     .maxResponseSize(std::max<size_t>(sc.max_body_bytes, 64 * 1024 * 1024));
  endpoint_->init(options);
  endpoint_->setHandler(std::make_shared<RequestHandler>(state_));
  if (state_->events) {
    // Task outcomes for plughost_tasks_total: the queue publishes task.<status> with the task.
    std::weak_ptr<ServerState> weak = state_;
    state_->task_subscription = state_->events->subscribe("task.*", [weak](const Event& e) {
      auto state = weak.lock();
      if (!state) return;
      rapidjson::Document d;
      d.Parse(e.payload_json.c_str());
      if (d.HasParseError() || !d.IsObject() || !d.HasMember("kind") || !d["kind"].IsString()) {
        return;
      }
      std::string kind = d["kind"].GetString();
      size_t slash = kind.find('/');
      state->metrics.count_task(kind.substr(0, slash),
                                slash == std::string::npos ? "" : kind.substr(slash + 1),
                                e.type.substr(5));
    });
  }
  endpoint_->serveThreaded();
  running_ = true;
  // SSE heartbeat: a comment every 15 s keeps proxies from closing idle streams and finds
  // clients that went away.
  heartbeat_ = std::thread([state = state_] {
    std::unique_lock<std::mutex> lock(state->sse_mu);
    while (!state->stopping) {
      state->sse_cv.wait_for(lock, std::chrono::seconds(15),
                             [&] { return state->stopping.load(); });
      if (state->stopping) break;
      auto clients = state->sse_clients;
      lock.unlock();
      for (const auto& c : clients) {
        if (!c->write(": ping\n\n")) state->drop_client(c);
      }
      lock.lock();
    }
  });
  return static_cast<uint16_t>(endpoint_->getPort());
}

void HttpServer::apply_reload(const Config& next, std::vector<std::string> restart_required) {
  // Only a real change restarts the counts (a routine SIGHUP, e.g. from logrotate, must not
  // hand every caller a fresh allowance).
  if (!same_rate_limits(std::atomic_load(&state_->limits)->config, next.rate_limits)) {
    std::atomic_store(&state_->limits, std::make_shared<LiveLimits>(next.rate_limits));
  }
  // The document shows what is in force: the running config with the new limits (an `auth`
  // change waits for a restart, so the security requirements stay as they are).
  Config in_force = state_->config;
  in_force.rate_limits = next.rate_limits;
  std::atomic_store(&state_->openapi, std::make_shared<const std::string>(openapi_document(
                                          state_->plugins, in_force,
                                          OpenApiHostRoutes{state_->docs_ui.has_value()})));
  std::lock_guard<std::mutex> lock(state_->reload_mu);
  state_->reload.restart_required = std::move(restart_required);
  state_->reload.last_error.clear();
  ++state_->reload.reloads;
}

void HttpServer::reject_reload(const std::string& error) {
  std::lock_guard<std::mutex> lock(state_->reload_mu);
  state_->reload.last_error = error;
}

void HttpServer::begin_drain() {
  state_->draining = true;
}

void HttpServer::stop() {
  if (!running_) return;
  running_ = false;
  {
    std::lock_guard<std::mutex> lock(state_->sse_mu);
    state_->stopping = true;
  }
  state_->sse_cv.notify_all();
  heartbeat_.join();
  std::vector<std::shared_ptr<SseClient>> clients;
  {
    std::lock_guard<std::mutex> lock(state_->sse_mu);
    clients = state_->sse_clients;
  }
  for (const auto& c : clients) state_->drop_client(c);
  if (state_->events && state_->task_subscription) {
    state_->events->unsubscribe(state_->task_subscription);
  }
  endpoint_->shutdown();
  // After the reactors: no new call can come. Waits for overdue handlers (the shutdown
  // watchdog bounds that), since plugins are unloaded next.
  if (state_->handlers) state_->handlers->stop();
}

}  // namespace plughost
