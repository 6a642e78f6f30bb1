#include "oauth.hpp"

#include <sodium.h>

#include <cctype>
#include <plughost/http_client.hpp>
#include <stdexcept>

#include "crypto.hpp"
#include "replies.hpp"
#include "sessions.hpp"
#include "sign_in.hpp"
#include "users.hpp"

namespace accounts {
namespace {

constexpr const char* kSignIn = "sign_in";
constexpr const char* kConnect = "connect";
constexpr const char* kStateInvalid = "Invalid or expired OAuth state";

struct Flow {
  const char* purpose;
  const std::map<std::string, OAuthApp>& apps;
  const char* param;          // the route parameter naming the app
  std::string callback_path;  // with the app's name
};

Flow sign_in_flow(const Services& svc, const sdk::Request& rq) {
  std::string name(rq.param("provider").value_or(""));
  return {kSignIn, svc.settings.oauth_providers, "provider",
          "/api/auth/oauth/" + name + "/callback"};
}

Flow connect_flow(const Services& svc, const sdk::Request& rq) {
  std::string name(rq.param("source_type").value_or(""));
  return {kConnect, svc.settings.oauth_connections, "source_type", "/oauth/callback/" + name};
}

const OAuthApp& app_of(const Flow& flow, const sdk::Request& rq) {
  std::string name(rq.param(flow.param).value_or(""));
  auto it = flow.apps.find(name);
  if (it == flow.apps.end()) {
    throw failure(404, flow.purpose == kSignIn
                           ? "OAuth provider '" + name + "' is not configured"
                           : "OAuth is not configured for source type '" + name + "'");
  }
  return it->second;
}

// A same-site path to return to: "/…" but not "//…" (another host) nor with a backslash or
// control character; anything else is "/".
std::string safe_next(const sdk::Request& rq) {
  std::string next(rq.query("next").value_or("/"));
  if (next.empty() || next[0] != '/' || next.rfind("//", 0) == 0 || next.size() > 2048) return "/";
  for (unsigned char c : next) {
    if (c < 0x20 || c == 0x7f || c == '\\') return "/";
  }
  return next;
}

// Where the provider sends the browser back: the app's redirect_url, else public_url, else the
// request's own Host (only a plain host[:port]) — the provider checks it against its registration.
std::string redirect_uri(const Services& svc, const sdk::Request& rq, const OAuthApp& app,
                         const std::string& callback_path) {
  if (!app.redirect_url.empty()) return app.redirect_url;
  if (!svc.settings.public_url.empty()) return svc.settings.public_url + callback_path;
  std::string host(rq.header("Host").value_or(""));
  for (unsigned char c : host) {
    if (!std::isalnum(c) && c != '.' && c != '-' && c != ':' && c != '[' && c != ']') {
      throw failure(400, "Cannot build the OAuth redirect URL: set accounts public_url");
    }
  }
  if (host.empty())
    throw failure(400, "Cannot build the OAuth redirect URL: set accounts public_url");
  return std::string(secure_cookie(svc.settings, rq) ? "https://" : "http://") + host +
         callback_path;
}

std::string state_cookie_name(const Services& svc) {
  return svc.settings.cookie_name + "_oauth";
}

std::string state_cookie(const Services& svc, const sdk::Request& rq, const std::string& value,
                         int64_t max_age) {
  return state_cookie_name(svc) + "=" + value + "; Path=/; Max-Age=" + std::to_string(max_age) +
         "; HttpOnly" + (secure_cookie(svc.settings, rq) ? "; Secure" : "") + "; SameSite=Lax";
}

std::string pkce_challenge(const std::string& verifier) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(verifier.data()),
                     verifier.size());
  return base64url_encode(
      std::string(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

void start(const Services& svc, const Flow& flow, const sdk::Request& rq, sdk::Response& rs,
           std::optional<int64_t> user_id) {
  const OAuthApp& app = app_of(flow, rq);
  std::string state = random_token();
  std::string verifier = random_token();  // 43 URL-safe characters, as RFC 7636 asks
  int64_t now = now_seconds();
  {
    auto tx = svc.db.transaction();
    tx.sql("DELETE FROM accounts_oauth_states WHERE expires_at <= :now").bind("now", now).exec();
    tx.sql(
          "INSERT INTO accounts_oauth_states (state_hash, purpose, app, verifier_sealed,"
          " next_path, user_id, expires_at) VALUES (:h, :p, :a, :v, :n, :u, :e)")
        .bind("h", sha256_hex(state))
        .bind("p", flow.purpose)
        .bind("a", app.name)
        .bind("v", seal(svc.settings.keys, verifier))
        .bind("n", safe_next(rq))
        .bind("u", user_id)
        .bind("e", now + svc.settings.oauth_state_seconds)
        .exec();
    tx.commit();
  }
  std::string location =
      app.authorize_url + (app.authorize_url.find('?') == std::string::npos ? "?" : "&") +
      "response_type=code&client_id=" + plughost::http::url_encode(app.client_id) +
      "&redirect_uri=" +
      plughost::http::url_encode(redirect_uri(svc, rq, app, flow.callback_path)) +
      "&state=" + plughost::http::url_encode(state) +
      "&code_challenge=" + pkce_challenge(verifier) + "&code_challenge_method=S256";
  if (!app.scopes.empty()) location += "&scope=" + plughost::http::url_encode(app.scopes);
  rs.header("Set-Cookie", state_cookie(svc, rq, state, svc.settings.oauth_state_seconds));
  rs.header("Location", location);
  rs.header("Cache-Control", "no-store");
  rs.status(302).body("");
}

struct Granted {
  std::string next;
  std::optional<int64_t> user_id;  // who started a connection
  rapidjson::Document tokens;      // the token endpoint's answer (has access_token)
};

// The provider's `error` code, reduced to the characters such codes use.
std::string provider_error(std::string_view error) {
  std::string out;
  for (char c : error.substr(0, 64)) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') out += c;
  }
  return out.empty() ? "unknown_error" : out;
}

// Spends the state of this callback and trades the code for tokens.
Granted finish(const Services& svc, const Flow& flow, const sdk::Request& rq, sdk::Response& rs) {
  const OAuthApp& app = app_of(flow, rq);
  // Whatever happens next, the browser's state cookie has served its purpose.
  rs.header("Set-Cookie", state_cookie(svc, rq, "", 0));
  auto state = rq.query("state");
  auto cookie = rq.cookie(state_cookie_name(svc));
  if (!state || state->empty() || !cookie || !secure_equals(*state, *cookie)) {
    svc.log(PH_LOG_WARN,
            "OAuth callback for " + app.name + " refused: state missing or not this browser's",
            &rq);
    throw failure(400, kStateInvalid);
  }
  Granted g;
  std::string verifier;
  {
    auto tx = svc.db.transaction();
    std::string hash = sha256_hex(*state);
    bool valid = false;
    std::optional<std::string> sealed;
    {
      auto st = tx.sql(
          "SELECT purpose, app, verifier_sealed, next_path, user_id, expires_at"
          " FROM accounts_oauth_states WHERE state_hash = :h");
      st.bind("h", hash);
      if (st.step()) {
        valid = st.text(0) == flow.purpose && st.text(1) == app.name && st.int64(5) > now_seconds();
        sealed = std::string(st.text(2));
        g.next = st.text(3);
        if (!st.is_null(4)) g.user_id = st.int64(4);
      }
    }
    bool spent =
        tx.sql("DELETE FROM accounts_oauth_states WHERE state_hash = :h").bind("h", hash).exec() ==
        1;
    tx.commit();
    std::optional<std::string> opened = sealed ? unseal(svc.settings.keys, *sealed) : std::nullopt;
    if (!valid || !spent || !opened) {
      svc.log(PH_LOG_WARN,
              "OAuth callback for " + app.name + " refused: unknown, spent or expired state", &rq);
      throw failure(400, kStateInvalid);
    }
    verifier = *opened;
  }
  if (auto error = rq.query("error")) {
    std::string code = provider_error(*error);
    svc.log(PH_LOG_INFO, "OAuth provider " + app.name + " refused the authorisation: " + code, &rq);
    throw failure(400, "The OAuth provider refused the authorisation: " + code);
  }
  auto code = rq.query("code");
  if (!code || code->empty()) throw failure(400, "Invalid request: the callback has no code");

  std::vector<std::pair<std::string, std::string>> form = {
      {"grant_type", "authorization_code"},
      {"code", std::string(*code)},
      {"redirect_uri", redirect_uri(svc, rq, app, flow.callback_path)},
      {"client_id", app.client_id},
      {"code_verifier", verifier}};
  if (!app.client_secret.empty()) form.emplace_back("client_secret", app.client_secret);
  plughost::http::Request call;
  call.method = "POST";
  call.url = app.token_url;
  call.headers = {{"Accept", "application/json"},
                  {"Content-Type", "application/x-www-form-urlencoded"}};
  call.body = plughost::http::form_encode(form);
  call.timeout_seconds = static_cast<double>(app.timeout_seconds);
  plughost::http::Response r = plughost::http::perform(call);
  std::string parse_error;
  if (!r.ok() || !sdk::parse_json(r.body, g.tokens, parse_error) || !g.tokens.IsObject() ||
      !g.tokens.HasMember("access_token") || !g.tokens["access_token"].IsString()) {
    svc.log(PH_LOG_WARN,
            "OAuth token exchange with " + app.name +
                " failed: " + (r.status ? "HTTP " + std::to_string(r.status) : r.error),
            &rq);
    throw failure(502, "OAuth token exchange with " + app.name + " failed");
  }
  return g;
}

// The provider's user info for `access_token`; nullopt (logged) when it cannot be had.
std::optional<rapidjson::Document> user_info(const Services& svc, const sdk::Request& rq,
                                             const OAuthApp& app, const std::string& token) {
  plughost::http::Request call;
  call.url = app.userinfo_url;
  call.headers = {{"Accept", "application/json"}, {"Authorization", "Bearer " + token}};
  call.timeout_seconds = static_cast<double>(app.timeout_seconds);
  plughost::http::Response r = plughost::http::perform(call);
  rapidjson::Document info;
  std::string parse_error;
  if (!r.ok() || !sdk::parse_json(r.body, info, parse_error) || !info.IsObject()) {
    svc.log(PH_LOG_WARN,
            "OAuth user info from " + app.name +
                " failed: " + (r.status ? "HTTP " + std::to_string(r.status) : r.error),
            &rq);
    return std::nullopt;
  }
  return info;
}

std::optional<std::string> text_member(const rapidjson::Value& obj, const std::string& key) {
  auto it = obj.FindMember(key.c_str());
  if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool domain_allowed(const OAuthApp& app, const std::string& email) {
  if (app.allowed_domains.empty()) return true;
  std::string domain = email.substr(email.rfind('@') + 1);
  for (const auto& d : app.allowed_domains) {
    if (normalize_email(d) == domain) return true;
  }
  return false;
}

// The account the provider's e-mail names, created when the provider allows sign-up.
User account_for(const Services& svc, const sdk::Request& rq, const OAuthApp& app,
                 const rapidjson::Value& info) {
  auto raw_email = text_member(info, app.email_field);
  // An e-mail signs into the account that has it, admins included: it must be one the provider
  // vouches for (email_verified: true), unless the operator trusts every address it returns.
  auto verified = info.FindMember("email_verified");
  bool vouched =
      verified != info.MemberEnd() &&
      ((verified->value.IsBool() && verified->value.GetBool()) ||
       (verified->value.IsString() && std::string(verified->value.GetString()) == "true"));
  bool unverified = !vouched && !app.trust_email;
  if (!raw_email || !valid_email(normalize_email(*raw_email)) || unverified) {
    throw failure(403, "The OAuth provider did not confirm an e-mail address");
  }
  std::string email = normalize_email(*raw_email);
  if (!domain_allowed(app, email)) {
    svc.log(PH_LOG_INFO, "OAuth sign-in with " + app.name + " refused: domain not allowed", &rq);
    throw failure(403, "This e-mail domain may not sign in with " + app.name);
  }
  std::optional<User> user = find_user_by_email(svc.db, email);
  if (!user && app.allow_signup) {
    NewUser nu;
    nu.email = email;
    nu.role = app.signup_role;
    if (auto name = text_member(info, "name")) nu.display_name = name->substr(0, 128);
    if (auto id = insert_user(svc.db, nu)) {
      svc.log(PH_LOG_INFO,
              "user " + std::to_string(*id) + " signed up with OAuth provider " + app.name, &rq);
    }
    user = find_user_by_email(svc.db, email);  // also when a concurrent sign-up won the insert
  }
  if (!user) {
    svc.log(PH_LOG_INFO, "OAuth sign-in with " + app.name + " refused: no account", &rq);
    throw failure(403, "No account uses this e-mail; ask an admin for an invite");
  }
  if (!user->is_active) throw failure(403, "Account is deactivated");
  return *user;
}

std::string with_query(const std::string& path, const std::string& pair) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + pair;
}

void redirect(sdk::Response& rs, const std::string& location) {
  rs.header("Location", location);
  rs.header("Cache-Control", "no-store");
  rs.status(302).body("");
}

}  // namespace

void check_oauth_settings(const Services& svc) {
  for (const auto& [name, app] : svc.settings.oauth_providers) {
    if (app.allow_signup && !svc.roles.count(app.signup_role)) {
      throw std::invalid_argument("accounts: config oauth.providers." + name + ".signup_role '" +
                                  app.signup_role + "' is not a role of the host's auth.roles");
    }
  }
}

void oauth_login(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  start(svc, sign_in_flow(svc, rq), rq, rs, std::nullopt);
}

void oauth_callback(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  Flow flow = sign_in_flow(svc, rq);
  const OAuthApp& app = app_of(flow, rq);
  Granted g = finish(svc, flow, rq, rs);
  auto info = user_info(svc, rq, app, g.tokens["access_token"].GetString());
  if (!info) throw failure(502, "OAuth user info from " + app.name + " failed");
  User user = account_for(svc, rq, app, *info);
  if (!user.oauth_provider || *user.oauth_provider != app.name) {
    set_oauth_provider(svc.db, user.id, app.name);
  }
  if (user.totp_enabled) {
    // The provider proved the e-mail; the second factor is still this account's to give.
    NewSession partial = create_session(svc, user.id, /*partial=*/true, rq.remote_address(),
                                        rq.header("User-Agent").value_or(""));
    rs.header("Set-Cookie",
              session_cookie(svc.settings, rq, partial.token, partial.max_age_seconds));
    redirect(rs, with_query(g.next, "requires_2fa=true"));
    return;
  }
  open_session(svc, rq, rs, user);
  record_login(svc.db, user.id);
  svc.log(PH_LOG_INFO,
          "user " + std::to_string(user.id) + " signed in with OAuth provider " + app.name, &rq);
  redirect(rs, g.next);
}

void oauth_connect(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  start(svc, connect_flow(svc, rq), rq, rs, caller_of(rq).user_id);
}

void oauth_connect_callback(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  Flow flow = connect_flow(svc, rq);
  const OAuthApp& app = app_of(flow, rq);
  Granted g = finish(svc, flow, rq, rs);
  if (g.user_id != caller_of(rq).user_id) {
    svc.log(PH_LOG_WARN, "OAuth connection of " + app.name + " refused: finished by another user",
            &rq);
    throw failure(400, kStateInvalid);
  }
  std::string access_token = g.tokens["access_token"].GetString();
  std::optional<std::string> account;
  if (!app.userinfo_url.empty()) {
    if (auto info = user_info(svc, rq, app, access_token)) {
      account = text_member(*info, app.email_field);
      if (!account) account = text_member(*info, "login");
    }
  }
  int64_t now = now_seconds();
  std::optional<int64_t> expires_at;
  auto expires_in = g.tokens.FindMember("expires_in");
  if (expires_in != g.tokens.MemberEnd() && expires_in->value.IsInt64()) {
    expires_at = now + expires_in->value.GetInt64();
  }
  svc.db
      .sql(
          "INSERT INTO accounts_oauth_credentials (source_type, provider, account, token_sealed,"
          " connected_at, expires_at) VALUES (:s, :p, :a, :t, :c, :e)"
          " ON CONFLICT (source_type) DO UPDATE SET provider = excluded.provider,"
          " account = excluded.account, token_sealed = excluded.token_sealed,"
          " connected_at = excluded.connected_at, expires_at = excluded.expires_at")
      .bind("s", app.name)
      .bind("p", app.name)
      .bind("a", account)
      .bind("t", seal(svc.settings.keys, sdk::to_json(g.tokens)))
      .bind("c", now)
      .bind("e", expires_at)
      .exec();
  svc.log(PH_LOG_INFO, "OAuth credentials for " + app.name + " connected", &rq);
  redirect(rs, g.next);
}

}  // namespace accounts
