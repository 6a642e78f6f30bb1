// The embed plugin: the chat widget other sites include with one <script> tag, and the two
// endpoints it calls. Table of contents:
//   embeds.*    configured embeds, keys, allowed sites
//   sessions.*  chat sessions and messages in host storage
//   chat.*      answering a message (RAG passages, datachat, an llm connector)
//   answer.*    composing a reply from passages
//   widget.js   the widget itself (served as is)
#include <sodium.h>

#include <chrono>
#include <map>
#include <memory>
#include <plughost/plugin.hpp>
#include <plughost/rate_limit.hpp>

#include "chat.hpp"
#include "embeds.hpp"
#include "sessions.hpp"

extern "C" const char* plughost_embed_widget_js(void);

namespace embed {
namespace {

namespace sdk = plughost::sdk;
using sdk::HttpError;
using sdk::Request;
using sdk::Response;

constexpr size_t kMaxMessage = 1000;
constexpr const char* kAllowHeaders =
    "Content-Type, Authorization, X-Embed-Key, X-Session-Id, X-API-Key";
constexpr const char* kExposeHeaders =
    "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, X-Trace-ID";

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

bool valid_session_id(std::string_view id) {
  if (id.size() != 36 || id.rfind("emb_", 0) != 0) return false;
  for (char c : id.substr(4)) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

class EmbedPlugin : public sdk::Plugin {
  void init() override {
    if (sodium_init() < 0) throw sdk::Error(PH_ERR_INTERNAL, "libsodium failed to start");
    embeds_ = parse_embeds(config());
    SessionStore::register_migrations([this](const std::string& n, const std::string& s,
                                             const std::string& pg) { migration(n, s, pg); });
    sessions_ = std::make_unique<SessionStore>(services());

    // The widget and the endpoints carry their own credentials (the embed key) and their own
    // origin rules, so the host sees them as public and cookie-free.
    route({"GET",
           "/api/embed/:id/widget.js",
           "The embeddable chat widget (JavaScript)",
           PH_PERMISSION_PUBLIC,
           "standard",
           {},
           {},
           PH_ROUTE_CSRF_EXEMPT},
          [this](const Request& rq, Response& rs) { widget(rq, rs); });
    route({"GET",
           "/api/embed/:id/config/",
           "Widget configuration (X-API-Key, allowed Origin)",
           PH_PERMISSION_PUBLIC,
           "standard",
           {},
           {},
           PH_ROUTE_CSRF_EXEMPT},
          [this](const Request& rq, Response& rs) { widget_config(rq, rs); });
    route({"POST",
           "/api/embed/:id/chat/",
           "Send a chat message (X-API-Key, allowed Origin)",
           PH_PERMISSION_PUBLIC,
           "none",
           {},
           {},
           PH_ROUTE_CSRF_EXEMPT},
          [this](const Request& rq, Response& rs) { chat(rq, rs); });
    route({"GET",
           "/api/embed/:id/demo/",
           "A page with the widget, to try it (demo_page: true)",
           PH_PERMISSION_PUBLIC,
           "standard",
           {},
           {},
           PH_ROUTE_CSRF_EXEMPT},
          [this](const Request& rq, Response& rs) { demo(rq, rs); });
    for (const char* path : {"/api/embed/:id/config/", "/api/embed/:id/chat/"}) {
      route({"OPTIONS",
             path,
             "CORS preflight for the embed's sites",
             PH_PERMISSION_PUBLIC,
             "none",
             {},
             {},
             PH_ROUTE_CSRF_EXEMPT},
            [this](const Request& rq, Response& rs) { preflight(rq, rs); });
    }
    info("embed: " + std::to_string(embeds_.size()) + " embed(s) configured");
  }

  // The embed named in the path, if it exists and is enabled; else 404.
  const Embed& find(const Request& rq) const {
    auto it = embeds_.find(std::string(rq.param("id").value_or("")));
    if (it == embeds_.end() || !it->second.enabled) {
      throw HttpError(404, "NOT_FOUND", "Embed not found");
    }
    return it->second;
  }

  // The calling site: Origin, else the Referer's origin.
  static std::string origin_of(const Request& rq) {
    if (auto o = rq.header("Origin")) return std::string(*o);
    if (auto r = rq.header("Referer")) return origin_of_url(*r);
    return "";
  }

  // Refuses a site the embed does not allow (403, no CORS headers: the browser shows the page
  // nothing); for an allowed one, adds the CORS answer.
  void check_origin(const Embed& e, const Request& rq, Response& rs) const {
    std::string origin = origin_of(rq);
    if (!origin_allowed(e, origin)) {
      log(PH_LOG_INFO,
          "embed " + e.id + ": site not allowed: " + (origin.empty() ? "(none)" : origin), &rq);
      throw HttpError(403, "FORBIDDEN", "This site may not use the embed");
    }
    if (auto o = rq.header("Origin")) {
      rs.header("Access-Control-Allow-Origin", *o);
      rs.header("Vary", "Origin");
      rs.header("Access-Control-Expose-Headers", kExposeHeaders);
    }
  }

  void check_key(const Embed& e, const Request& rq) const {
    std::optional<std::string_view> key = rq.header("X-API-Key");
    if (!key) key = rq.header("X-Embed-Key");
    if (!key) key = rq.query("key");
    if (!key || key->empty() || !key_matches(e, *key)) {
      log(PH_LOG_INFO, "embed " + e.id + ": missing or wrong key", &rq);
      throw HttpError(401, "UNAUTHORIZED", "Invalid or missing embed key");
    }
  }

  void widget(const Request& rq, Response& rs) const {
    auto it = embeds_.find(std::string(rq.param("id").value_or("")));
    rs.content_type("application/javascript; charset=utf-8");
    rs.header("X-Content-Type-Options", "nosniff");
    if (it == embeds_.end() || !it->second.enabled) {
      rs.status(404).body("// Embed not found\n");
      return;
    }
    rs.header("Cache-Control", "public, max-age=300");
    rs.header("Access-Control-Allow-Origin", "*");
    rs.status(200).body(plughost_embed_widget_js());
  }

  // A page on the host's own origin that includes the widget like a customer's site would.
  void demo(const Request& rq, Response& rs) const {
    const Embed& e = find(rq);
    if (!e.demo_page) throw HttpError(404, "NOT_FOUND", "Embed not found");
    std::string id = e.id;  // [A-Za-z0-9_-], safe in HTML and URLs
    std::string page =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Embed demo: " + id +
        "</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;"
        "padding:0 1rem;color:#222}</style></head><body><h1>Embed demo</h1><p>This page includes "
        "the <code>" +
        id +
        "</code> widget with one tag, as a customer's site would. Open the chat "
        "with the button at the bottom right.</p><pre>&lt;script src=\"/api/embed/" +
        id + "/widget.js\" data-key=\"…\" async&gt;&lt;/script&gt;</pre><script src=\"/api/embed/" +
        id + "/widget.js\" data-key=\"" + e.demo_key + "\" async></script></body></html>";
    rs.content_type("text/html; charset=utf-8");
    rs.header("Cache-Control", "no-store");
    rs.status(200).body(page);
  }

  void preflight(const Request& rq, Response& rs) const {
    const Embed& e = find(rq);
    check_origin(e, rq, rs);
    rs.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    rs.header("Access-Control-Allow-Headers", kAllowHeaders);
    rs.header("Access-Control-Max-Age", "86400");
    rs.status(204).body("");
  }

  void widget_config(const Request& rq, Response& rs) const {
    const Embed& e = find(rq);
    check_origin(e, rq, rs);
    check_key(e, rq);
    rapidjson::Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("title", rapidjson::Value(e.title.c_str(), a), a);
    d.AddMember("primary_color", rapidjson::Value(e.primary_color.c_str(), a), a);
    d.AddMember("welcome_message", rapidjson::Value(e.welcome_message.c_str(), a), a);
    d.AddMember("placeholder", rapidjson::Value(e.placeholder.c_str(), a), a);
    d.AddMember("rate_limit", e.rate_limit, a);
    rs.json(d);
  }

  void chat(const Request& rq, Response& rs) {
    const Embed& e = find(rq);
    check_origin(e, rq, rs);
    check_key(e, rq);
    rapidjson::Document body = rq.json();
    if (!body.IsObject())
      throw HttpError(400, "VALIDATION_ERROR", "The body must be a JSON object");
    auto text_of = [&](const char* k) -> std::optional<std::string> {
      auto it = body.FindMember(k);
      if (it == body.MemberEnd() || !it->value.IsString()) return std::nullopt;
      return std::string(it->value.GetString(), it->value.GetStringLength());
    };
    std::optional<std::string> raw = text_of("message");
    if (!raw) raw = text_of("question");
    std::string message = trimmed(raw.value_or(""));
    if (message.empty() || message.size() > kMaxMessage) {
      throw HttpError(
          400, "VALIDATION_ERROR",
          message.empty() ? "message is required" : "message is longer than 1000 characters",
          {{"message", message.empty() ? "This field is required."
                                       : "Ensure this field has no more than 1000 characters."}});
    }
    std::string session = text_of("session_id").value_or("");
    if (session.empty()) session = std::string(rq.header("X-Session-Id").value_or(""));
    bool known = valid_session_id(session) && sessions_->exists(e.id, session);

    // Per session once it exists; before that per client address, which also bounds how fast
    // one address can open sessions.
    std::string counted =
        e.id + (known ? "\ns:" + session : "\nip:" + std::string(rq.remote_address()));
    auto limit = limiter_.hit(counted, e.rate_limit, 60, unix_now());
    rs.header("X-RateLimit-Limit", std::to_string(limit.limit));
    rs.header("X-RateLimit-Remaining", std::to_string(limit.remaining));
    rs.header("X-RateLimit-Reset", std::to_string(limit.reset_epoch));
    if (!limit.allowed) {
      rs.header("Retry-After", std::to_string(limit.retry_after));
      throw HttpError(
          429, "RATE_LIMITED",
          "Rate limit exceeded. Try again in " + std::to_string(limit.retry_after) + " seconds.");
    }
    if (known) {
      std::optional<bool> claimed = sessions_->claim(e.id, session, e.max_queries_per_session);
      if (claimed && !*claimed) {
        throw HttpError(429, "RATE_LIMITED",
                        "This conversation reached its message limit; start a new one.");
      }
      known = claimed.has_value();
    }
    if (!known) session = sessions_->create(e.id);

    Reply reply = answer_message(services(), *sessions_, e, session, message, e.tenant, rq);
    sessions_->append(session, "user", message);
    sessions_->append(session, "assistant", reply.text);

    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("response");
    w.String(reply.text.c_str(), static_cast<rapidjson::SizeType>(reply.text.size()));
    w.Key("answer");
    w.String(reply.text.c_str(), static_cast<rapidjson::SizeType>(reply.text.size()));
    w.Key("session_id");
    w.String(session.c_str());
    w.Key("sources");
    w.RawValue(reply.sources_json.c_str(), reply.sources_json.size(), rapidjson::kArrayType);
    w.EndObject();
    rs.json_text(buf.GetString());
  }

  std::map<std::string, Embed> embeds_;
  std::unique_ptr<SessionStore> sessions_;
  sdk::SlidingWindowLimiter limiter_;
};

}  // namespace
}  // namespace embed

PLUGHOST_PLUGIN(embed::EmbedPlugin, "embed", "1.0.0",
                "Embeddable chat widget answering from RAG, datachat or an LLM", "stable")
