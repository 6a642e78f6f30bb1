// support.hpp — what the accounts tests share: a host config with the plugin, a browser-like
// client that keeps cookies (all Set-Cookie headers, which HttpResponse folds into one), and
// helpers that sign users in.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <optional>
#include <plughost/testing.hpp>
#include <string>
#include <vector>

namespace accounts_test {

using namespace plughost::testing;
using Headers = std::map<std::string, std::string>;

// base64 of 32 bytes (0x00..0x1f); a test key, never used anywhere else.
constexpr const char* kSecretKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr const char* kAdminEmail = "admin@example.com";
constexpr const char* kAdminPassword = "Correct-Horse-Battery-9";

struct HostSetup {
  bool auth_enabled = true;
  std::string accounts;  // extra lines under plugins.accounts.config (4-space indent)
  std::string login_limit = "{limit: 1000, window_seconds: 3600}";
  std::string roles;  // auth.roles as a YAML flow mapping; empty: the host's defaults
  bool required = false;
  std::string secret_key = kSecretKey;
  std::string storage_url = "sqlite://accounts.db";
};

inline std::string config_yaml(const HostSetup& s) {
  return std::string("version: 1\n") +
         "server: {listen: 127.0.0.1:0, threads: 4}\n"
         "log: {format: json, level: debug}\n"
         "storage: {url: \"" +
         s.storage_url +
         "\"}\n"
         "auth: {enabled: " +
         (s.auth_enabled ? "true" : "false") + (s.roles.empty() ? "" : ", roles: " + s.roles) +
         "}\n"
         "rate_limits:\n"
         "  classes:\n"
         "    login: " +
         s.login_limit +
         "\n"
         "    standard: {limit: 100000, window_seconds: 60}\n"
         "plugins_dir: " PLUGHOST_TEST_PLUGIN_DIR
         "\n"
         "plugins:\n"
         "  accounts:\n" +
         (s.required ? "    required: true\n" : "") +
         "    config:\n"
         "      secret_key: \"" +
         s.secret_key +
         "\"\n"
         "      password_hashing: {opslimit: 1, memlimit_kib: 1024}\n"
         "      bootstrap_admin:\n"
         "        email: " +
         kAdminEmail +
         "\n"
         "        password: \"" +
         kAdminPassword +
         "\"\n"
         "        must_change_password: false\n" +
         s.accounts;
}

// A running host with the accounts plugin; fails the test when it does not come up.
inline std::unique_ptr<Host> start_host(const HostSetup& s) {
  auto host = std::make_unique<Host>(config_yaml(s));
  EXPECT_TRUE(host->wait_ready()) << host->output();
  return host;
}
// Not a `= {}` default argument: GCC 12 leaks members of such a temporary (seen under ASan).
inline std::unique_ptr<Host> start_host() {
  HostSetup defaults;
  return start_host(defaults);
}

inline std::string str(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "<missing>";
}

// Every Set-Cookie header of a raw response head.
inline std::vector<std::string> set_cookies(const std::string& head) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = head.find("\r\n", at)) != std::string::npos) {
    at += 2;
    size_t end = head.find("\r\n", at);
    std::string line = head.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (line.size() > 11 && strncasecmp(line.c_str(), "set-cookie:", 11) == 0) {
      std::string value = line.substr(11);
      value.erase(0, value.find_first_not_of(' '));
      out.push_back(value);
    }
    if (line.empty()) break;
  }
  return out;
}

// Like a browser (or `requests.Session`): keeps cookies and sends X-Requested-With on writes
// unless told not to.
class Client {
 public:
  explicit Client(int port) : port_(port) {}

  HttpResponse request(const std::string& method, const std::string& target,
                       const std::string& body = "", Headers headers = {}) {
    if (!cookies.empty()) {
      std::string jar;
      for (const auto& [k, v] : cookies) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
      headers["Cookie"] = jar;
    }
    if (send_requested_with && method != "GET") headers["X-Requested-With"] = "XMLHttpRequest";
    if (!body.empty()) headers["Content-Type"] = "application/json";
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    Connection c(port_);
    EXPECT_TRUE(c.send_raw(req));
    std::string head;
    c.read_until("\r\n\r\n", head);
    HttpResponse r = c.read_response();
    last_set_cookies = set_cookies(head.substr(0, head.find("\r\n\r\n") + 2));
    for (const auto& sc : last_set_cookies) remember(sc);
    return r;
  }
  HttpResponse get(const std::string& target, Headers h = {}) {
    return request("GET", target, "", h);
  }
  HttpResponse post(const std::string& target, const std::string& body = "{}", Headers h = {}) {
    return request("POST", target, body, h);
  }
  HttpResponse del(const std::string& target, const std::string& body = "", Headers h = {}) {
    return request("DELETE", target, body, h);
  }
  HttpResponse put(const std::string& target, const std::string& body, Headers h = {}) {
    return request("PUT", target, body, h);
  }

  // The Set-Cookie header (of the last response) that sets `name`, or "".
  std::string set_cookie(const std::string& name) const {
    for (const auto& sc : last_set_cookies) {
      if (sc.rfind(name + "=", 0) == 0) return sc;
    }
    return "";
  }

  int port() const { return port_; }

  std::map<std::string, std::string> cookies;
  bool send_requested_with = true;
  std::vector<std::string> last_set_cookies;

 private:
  void remember(const std::string& set_cookie) {
    size_t eq = set_cookie.find('=');
    size_t semi = set_cookie.find(';');
    std::string name = set_cookie.substr(0, eq);
    std::string value = set_cookie.substr(eq + 1, semi == std::string::npos ? semi : semi - eq - 1);
    if (value.empty() || set_cookie.find("Max-Age=0") != std::string::npos) {
      cookies.erase(name);
    } else {
      cookies[name] = value;
    }
  }
  int port_;
};

inline std::string login_body(const std::string& email, const std::string& password) {
  return "{\"email\":\"" + email + "\",\"password\":\"" + password + "\"}";
}

// A client signed in as `email`; fails the test when sign-in does not answer 200.
inline std::unique_ptr<Client> signed_in(int port, const std::string& email,
                                         const std::string& password) {
  auto c = std::make_unique<Client>(port);
  auto r = c->post("/api/auth/login", login_body(email, password));
  EXPECT_EQ(r.status, 200) << r.body;
  return c;
}

inline std::unique_ptr<Client> admin(int port) {
  return signed_in(port, kAdminEmail, kAdminPassword);
}

// The token at the end of an invite or reset link.
inline std::string link_token(const std::string& url) {
  return url.substr(url.rfind('/') + 1);
}

// Creates a user through the admin API and accepts the invite with `password`; returns its id.
inline int64_t create_user(Client& admin, const std::string& email, const std::string& role,
                           const std::string& password) {
  auto r =
      admin.post("/api/admin/users", "{\"email\":\"" + email + "\",\"role\":\"" + role + "\"}");
  EXPECT_EQ(r.status, 201) << r.body;
  auto d = json(r);
  if (!d.IsObject() || !d.HasMember("user")) return 0;
  std::string token = link_token(str(d, "invite_url"));
  auto a = http(admin.port(), "POST", "/api/auth/accept-invite", {},
                "{\"token\":\"" + token + "\",\"password\":\"" + password + "\"}");
  EXPECT_EQ(a.status, 200) << a.body;
  return d["user"]["id"].GetInt64();
}

}  // namespace accounts_test
