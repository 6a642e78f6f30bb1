#include "idempotency.hpp"

#include <chrono>
#include <optional>

#include "basics.hpp"

namespace automate {

using plughost::sdk::HttpError;

namespace {

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

void send(plughost::sdk::Response& rs, const Reply& reply, bool replayed) {
  if (replayed) rs.header("Idempotent-Replayed", "true");
  if (reply.status == 204 || reply.body.empty()) {
    rs.status(reply.status);
  } else {
    rs.json_text(reply.body, reply.status);
  }
}

// The scope of a key: who asked, in which tenant, on which route.
std::string key_scope(const plughost::sdk::Request& rq, std::string_view key) {
  auto principal = rq.principal();
  std::string who = "anonymous";
  if (principal.HasMember("id") && principal["id"].IsString()) {
    who = std::string(principal.HasMember("kind") && principal["kind"].IsString()
                          ? principal["kind"].GetString()
                          : "") +
          ":" + principal["id"].GetString();
  }
  std::string scope;
  for (std::string_view part :
       {std::string_view(rq.tenant()), std::string_view(who), rq.method(), rq.path(), key}) {
    scope += std::to_string(part.size()) + ":" + std::string(part) + ";";
  }
  return sha256_hex(scope);
}

struct Stored {
  std::string body_hash;
  int status = 0;  // 0: still running
  std::string body;
};

std::optional<Stored> stored(const Services& p, const std::string& scope) {
  auto st = p.sql(
      "SELECT body_hash, status, body FROM automate_request_keys WHERE scope = :scope AND "
      "expires_at >= :now");
  st.bind(":scope", scope).bind(":now", unix_now());
  if (!st.step()) return std::nullopt;
  return Stored{st.text(0), static_cast<int>(st.int64(1)), st.maybe_text(2).value_or("")};
}

// True when this request now holds the key.
bool claim(const Services& p, const IdempotencySettings& s, const std::string& scope,
           const std::string& body_hash) {
  double now = unix_now();
  p.sql("DELETE FROM automate_request_keys WHERE scope = :scope AND expires_at < :now")
      .bind(":scope", scope)
      .bind(":now", now)
      .exec();
  return p.sql(
              "INSERT INTO automate_request_keys (scope, body_hash, status, expires_at) VALUES "
              "(:scope, :hash, 0, :expires) ON CONFLICT (scope) DO NOTHING")
             .bind(":scope", scope)
             .bind(":hash", body_hash)
             .bind(":expires", now + s.pending_seconds)
             .exec() > 0;
}

}  // namespace

void answer_idempotently(const Services& p, const IdempotencySettings& s,
                         const plughost::sdk::Request& rq, plughost::sdk::Response& rs,
                         const std::function<Reply()>& handler) {
  auto key = rq.header("x-request-id");
  if (!key || key->empty()) return send(rs, handler(), false);
  if (key->size() > 255) {
    throw HttpError(400, "VALIDATION_ERROR", "Invalid input",
                    {{"X-Request-ID", "At most 255 characters"}});
  }
  std::string scope = key_scope(rq, *key), body_hash = sha256_hex(rq.body());
  if (!claim(p, s, scope, body_hash)) {
    auto first = stored(p, scope);
    if (!first) {
      // Expired or released between our claim and read: one more try, then give up.
      if (!claim(p, s, scope, body_hash)) {
        throw HttpError(409, "CONFLICT", "A request with this X-Request-ID is in progress");
      }
    } else if (first->body_hash != body_hash) {
      throw HttpError(409, "CONFLICT",
                      "X-Request-ID was already used with a different request body");
    } else if (first->status == 0) {
      throw HttpError(409, "CONFLICT", "A request with this X-Request-ID is in progress");
    } else {
      return send(rs, {first->status, first->body}, true);
    }
  }
  Reply reply;
  try {
    reply = handler();
  } catch (const HttpError& e) {
    if (e.status() >= 500) {
      p.sql("DELETE FROM automate_request_keys WHERE scope = :scope").bind(":scope", scope).exec();
      throw;
    }
    reply = {e.status(),
             plughost::sdk::error_envelope(e.code(), e.what(), rq.trace_id(), e.details())};
  } catch (...) {
    p.sql("DELETE FROM automate_request_keys WHERE scope = :scope").bind(":scope", scope).exec();
    throw;
  }
  p.sql(
       "UPDATE automate_request_keys SET status = :status, body = :body, expires_at = :expires "
       "WHERE scope = :scope")
      .bind(":status", reply.status)
      .bind(":body", reply.body)
      .bind(":expires", unix_now() + s.ttl_seconds)
      .bind(":scope", scope)
      .exec();
  send(rs, reply, false);
}

int64_t purge_expired_request_keys(const Services& p) {
  return p.sql("DELETE FROM automate_request_keys WHERE expires_at < :now")
      .bind(":now", unix_now())
      .exec();
}

}  // namespace automate
