// Answers that depend on services beside Dango (seed: /api/deployments/history,
// /api/metabase-config, Proxy Endpoints): the deploy journal, Metabase and dbt docs. Every call
// out is bounded by `upstream_timeout_seconds`; a service not configured or not answering gives
// 502 in Dango's envelope, never a hang.
#include <algorithm>
#include <fstream>
#include <plughost/http_client.hpp>

#include "ops.hpp"
#include "replies.hpp"

namespace dango {

namespace {

Reply bad_gateway(const std::string& message) {
  return error_reply(502, "DANGO-G002", message);
}

plughost::http::Response call(const Ops& ops, const std::string& method, const std::string& url,
                              std::vector<std::pair<std::string, std::string>> headers = {},
                              std::string body = {}, size_t max_bytes = size_t{1} << 20) {
  plughost::http::Request rq;
  rq.method = method;
  rq.url = url;
  rq.headers = std::move(headers);
  rq.body = std::move(body);
  rq.timeout_seconds = ops.settings.upstream_timeout_seconds;
  rq.connect_timeout_seconds = std::min(ops.settings.upstream_timeout_seconds, 5.0);
  rq.max_response_bytes = max_bytes;
  return plughost::http::perform(rq);
}

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The request's query string, re-encoded.
std::string query_of(const sdk::Request& rq) {
  std::vector<std::pair<std::string, std::string>> fields;
  rq.each_query([&](std::string_view k, std::string_view v) {
    fields.emplace_back(std::string(k), std::string(v));
  });
  return fields.empty() ? "" : "?" + plughost::http::form_encode(fields);
}

// The request passed on to `base` + `path`. Only content negotiation and Metabase's session
// travel (`session`, else the caller's own X-Metabase-Session): Dango's cookies and credentials
// stay here.
plughost::http::Response fetch(Ops& ops, const std::string& base, const std::string& path,
                               const std::string& what, const sdk::Request& rq,
                               const std::string& session = {}) {
  if (base.empty()) throw bad_gateway(what + " is not configured");
  std::vector<std::pair<std::string, std::string>> headers;
  for (const char* name : {"content-type", "accept", "accept-language"}) {
    if (auto v = rq.header(name)) headers.emplace_back(name, std::string(*v));
  }
  if (!session.empty()) {
    headers.emplace_back("x-metabase-session", session);
  } else if (auto v = rq.header("x-metabase-session")) {
    headers.emplace_back("x-metabase-session", std::string(*v));
  }
  auto r = call(ops, std::string(rq.method()), trim_slash(base) + path + query_of(rq),
                std::move(headers), std::string(rq.body()), size_t{64} << 20);
  if (r.status == 0) {
    ops.core.host.log(PH_LOG_WARN, "dango-sources: " + what + " unreachable: " + r.error, &rq);
    throw bad_gateway(what + " is unreachable: " + r.error);
  }
  return r;
}

void answer(const plughost::http::Response& r, sdk::Response& rs) {
  rs.status(static_cast<int>(r.status));
  for (const char* name : {"cache-control", "etag", "last-modified", "location"}) {
    std::string v = r.header(name);
    if (!v.empty()) rs.header(name, v);
  }
  rs.content_type(r.header("content-type").empty() ? "application/octet-stream"
                                                   : r.header("content-type"));
  rs.body(r.body);
}

void forward(Ops& ops, const std::string& base, const std::string& path, const std::string& what,
             const sdk::Request& rq, sdk::Response& rs) {
  answer(fetch(ops, base, path, what, rq), rs);
}

// Who is bridged into Metabase: a caller signed in to Dango (not half-way through 2FA), or
// anyone when Dango runs without authentication.
bool bridged_caller(const sdk::Request& rq) {
  rapidjson::Document p = rq.principal();
  auto flag = [&](const char* key) {
    auto m = p.FindMember(key);
    return m != p.MemberEnd() && m->value.IsBool() && m->value.GetBool();
  };
  if (p.HasMember("auth_enabled") && !flag("auth_enabled")) return true;
  return !is_anonymous(p) && !flag("partial");
}

// A Metabase session of the single sign-on account: the cached one, or (when `renew`, or none is
// cached) a new one from Metabase's POST /api/session. "" when Metabase refuses the account
// (logged, without the password). One login at a time: concurrent callers wait for it.
std::string sso_session(Ops& ops, const sdk::Request& rq, bool renew) {
  const OpsSettings& o = ops.settings;
  OpsSettings::SessionCache& cache = *o.metabase_session;
  std::lock_guard<std::mutex> lock(cache.mu);
  if (!renew && !cache.id.empty()) return cache.id;
  cache.id.clear();
  std::string credentials = Json()
                                .begin()
                                .key("username")
                                .str(o.metabase_sso_email)
                                .key("password")
                                .str(o.metabase_sso_password)
                                .end()
                                .text();
  auto r = call(ops, "POST", trim_slash(o.metabase_url) + "/api/session",
                {{"Content-Type", "application/json"}}, std::move(credentials));
  if (r.status == 0) throw bad_gateway("Metabase is unreachable: " + r.error);
  rapidjson::Document d;
  std::string error;
  if (r.ok() && sdk::parse_json(r.body, d, error) && d.IsObject() && d.HasMember("id") &&
      d["id"].IsString()) {
    cache.id = d["id"].GetString();
  } else {
    ops.core.host.log(PH_LOG_WARN,
                      "dango-sources: Metabase refused the single sign-on account " +
                          o.metabase_sso_email + " (HTTP " + std::to_string(r.status) +
                          "); callers reach Metabase without a session",
                      &rq);
  }
  return cache.id;
}

std::string tail(const sdk::Request& rq) {
  return "/" + std::string(rq.param("*").value_or(""));
}

}  // namespace

void deployment_history(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  const std::string& path = ops.settings.deploy_journal;
  if (path.empty()) {
    throw bad_gateway("Deployment history is unavailable: no deploy journal is configured");
  }
  std::ifstream in(path);
  if (!in) throw bad_gateway("Deployment history is unavailable: cannot read the deploy journal");
  int limit = 50;
  if (auto text = rq.query("limit"); text && !text->empty()) {
    std::string s(*text);
    if (s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) {
      throw error_reply(400, "DANGO-V001", "limit must be an integer");
    }
    limit = std::clamp(std::stoi(s), 1, 10000);
  }
  std::vector<std::string> entries;
  int64_t skipped = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    rapidjson::Document d;
    std::string error;
    if (sdk::parse_json(line, d, error) && d.IsObject()) {
      entries.push_back(sdk::to_json(d));
    } else {
      ++skipped;
    }
  }
  std::reverse(entries.begin(), entries.end());  // newest (last written) first
  if (entries.size() > static_cast<size_t>(limit)) entries.resize(static_cast<size_t>(limit));
  Json j;
  j.begin().key("deployments").begin_array();
  for (const auto& e : entries) j.raw(e);
  j.end_array()
      .key("count")
      .num(static_cast<int64_t>(entries.size()))
      .key("skipped_lines")
      .num(skipped)
      .end();
  rs.json_text(j.text());
}

void metabase_config(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  const OpsSettings& o = ops.settings;
  if (o.metabase_url.empty()) throw bad_gateway("Metabase is not configured");
  const std::string base = trim_slash(o.metabase_url);
  std::optional<int64_t> id = o.metabase_database_id;
  if (id) {
    auto r = call(ops, "GET", base + "/api/health");
    if (!r.ok()) {
      ops.core.host.log(PH_LOG_WARN,
                        "dango-sources: " + plughost::http::describe_failure(r, "Metabase"), &rq);
      throw bad_gateway(r.status ? "Metabase answered HTTP " + std::to_string(r.status)
                                 : "Metabase is unreachable: " + r.error);
    }
  } else {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!o.metabase_api_key.empty()) headers.emplace_back("X-API-Key", o.metabase_api_key);
    auto r = call(ops, "GET", base + "/api/database", headers);
    if (!r.ok()) {
      throw bad_gateway(r.status ? "Metabase answered HTTP " + std::to_string(r.status)
                                 : "Metabase is unreachable: " + r.error);
    }
    rapidjson::Document d;
    std::string error;
    if (!sdk::parse_json(r.body, d, error)) throw bad_gateway("Metabase answered no JSON");
    // Newer Metabase answers {"data": [...]}, older a bare array.
    const rapidjson::Value* list = d.IsArray() ? &d : nullptr;
    if (d.IsObject() && d.HasMember("data") && d["data"].IsArray()) list = &d["data"];
    if (list) {
      for (const auto& db : list->GetArray()) {
        if (db.IsObject() && db.HasMember("name") && db["name"].IsString() &&
            db["name"].GetString() == o.metabase_database_name && db.HasMember("id") &&
            db["id"].IsInt64()) {
          id = db["id"].GetInt64();
        }
      }
    }
    if (!id) throw bad_gateway("Metabase has no database named " + o.metabase_database_name);
  }
  rs.json_text(Json()
                   .begin()
                   .key("database_id")
                   .num(*id)
                   .key("metabase_url")
                   .str("/metabase")
                   .key("upstream_url")
                   .str(base)
                   .key("status")
                   .str("ok")
                   .end()
                   .text());
}

void proxy_metabase(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  // /metabase/<tail> goes to <metabase>/<tail>; /app/*, /public/*, /styles.css keep their path.
  std::string path(rq.path());
  if (path.rfind("/metabase", 0) == 0) path = tail(rq);
  const OpsSettings& o = ops.settings;
  // A browser's Metabase session travels as its cookie (Dango's own cookies never do).
  std::string session(rq.cookie("metabase.SESSION").value_or(""));
  bool bridge = session.empty() && !rq.header("x-metabase-session") &&
                !o.metabase_sso_email.empty() && !o.metabase_url.empty() && bridged_caller(rq);
  if (bridge) session = sso_session(ops, rq, false);
  auto r = fetch(ops, o.metabase_url, path, "Metabase", rq, session);
  if (bridge && !session.empty() && r.status == 401) {  // the cached session has expired
    session = sso_session(ops, rq, true);
    if (!session.empty()) r = fetch(ops, o.metabase_url, path, "Metabase", rq, session);
  }
  if (bridge && !session.empty()) {
    // The browser keeps the bridged session for Metabase's own follow-up requests.
    rs.header("Set-Cookie", "metabase.SESSION=" + session + "; Path=/; HttpOnly; SameSite=Lax");
  }
  answer(r, rs);
}

void proxy_dbt_docs(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  std::string path(rq.path());
  if (path.rfind("/dbt-docs", 0) == 0) path = tail(rq);
  forward(ops, ops.settings.dbt_docs_url, path, "dbt docs", rq, rs);
}

}  // namespace dango
