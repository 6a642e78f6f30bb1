// plughost/http_client.hpp — one blocking outbound HTTP call over libcurl, for connectors that talk
// to external services (OAuth providers, webhooks, LLM and embedding APIs, REST sources).
//
// Header-only; a target that includes it links libcurl (`find_package(CURL REQUIRED)`,
// `CURL::libcurl`). Safe from any thread: each call has its own easy handle, and libcurl's global
// initialisation runs once on first use. Only http and https are allowed, also after redirects;
// redirects are followed only when the request asks; the response body is bounded.
//
//   plughost::http::Request req;
//   req.method = "POST";
//   req.url = settings.base_url + "/v1/embeddings";
//   req.headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
//   req.body = payload;
//   plughost::http::Response r = plughost::http::perform(req);
//   if (!r.ok()) throw std::runtime_error(plughost::http::describe_failure(r, "OpenAI"));
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::http {

struct Request {
  std::string method = "GET";  // any verb; HEAD sends no body and reads none
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                             // sent when non-empty, or always for POST/PUT/PATCH
  double timeout_seconds = 30;                  // the whole call
  double connect_timeout_seconds = 10;          // TCP + TLS handshake, capped by timeout_seconds
  size_t max_response_bytes = size_t{1} << 20;  // a larger body fails the call
  long max_redirects = 0;                       // 0: a 3xx is returned as it is
};

struct Response {
  long status = 0;    // 0: no response arrived (see error)
  std::string error;  // transport failure when status is 0; never contains the request's headers
  std::map<std::string, std::string> headers;  // lower-case names; the last value of a name wins
  std::string body;
  int64_t elapsed_ms = 0;

  bool ok() const { return status >= 200 && status < 300; }
  // The value of header `name` (lower-case), or "" when absent.
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// application/x-www-form-urlencoded / query-string encoding of one value (RFC 3986 unreserved
// characters pass, everything else is %XX).
inline std::string url_encode(std::string_view value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (unsigned char c : value) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// `a=1&b=two%20words` from name/value pairs, in order.
inline std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += url_encode(name) + '=' + url_encode(value);
  }
  return out;
}

// "<who> unreachable: <error>" for a transport failure, "<who> answered HTTP <status>: <first 200
// bytes of the body>" otherwise. For error messages; callers decide whether the body may be shown.
inline std::string describe_failure(const Response& r, std::string_view who) {
  if (r.status == 0) return std::string(who) + " unreachable: " + r.error;
  return std::string(who) + " answered HTTP " + std::to_string(r.status) + ": " +
         r.body.substr(0, 200);
}

namespace detail {

struct Sink {
  Response* response;
  size_t limit;
  bool overflow = false;
};

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

inline size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->response->body.size() + n > sink->limit) {
    sink->overflow = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, n);
  return n;
}

inline size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  // A new status line (after a redirect or a 100 Continue) starts a new header set.
  if (line.rfind("HTTP/", 0) == 0) {
    response->headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = lower(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  response->headers[name] = std::string(value);
  return n;
}

inline void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace detail

// Performs `request`. Never throws for transport failures or HTTP errors: see Response::status
// and Response::error. Throws std::bad_alloc only.
inline Response perform(const Request& request) {
  detail::global_init();
  Response response;
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<CURL, void (*)(CURL*)> handle(curl_easy_init(), curl_easy_cleanup);
  if (!handle) {
    response.error = "curl_easy_init failed";
    return response;
  }
  curl_slist* list = nullptr;
  bool expect_set = false;
  for (const auto& [name, value] : request.headers) {
    list = curl_slist_append(list, (name + ": " + value).c_str());
    expect_set = expect_set || detail::lower(name) == "expect";
  }
  // Unless the caller says otherwise, no "Expect: 100-continue" wait on large bodies.
  if (!expect_set) list = curl_slist_append(list, "Expect:");
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(list, curl_slist_free_all);

  CURL* h = handle.get();
  detail::Sink sink{&response, request.max_response_bytes};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  const long timeout_ms = static_cast<long>(request.timeout_seconds * 1000);
  long connect_ms = static_cast<long>(request.connect_timeout_seconds * 1000);
  if (connect_ms <= 0 || connect_ms > timeout_ms) connect_ms = timeout_ms;
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, request.max_redirects > 0 ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, request.max_redirects);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &detail::on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &detail::on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "plughost/1");
  // GET and POST are libcurl's own (so a 303 after a POST turns into a GET, as browsers do);
  // other verbs are sent as they are.
  if (request.method != "GET" && request.method != "POST") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
             request.method == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  const CURLcode rc = curl_easy_perform(h);
  response.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
  if (rc != CURLE_OK) {
    response.error = sink.overflow ? "response larger than " +
                                         std::to_string(request.max_response_bytes) + " bytes"
                     : error_buffer[0] ? std::string(error_buffer)
                                       : std::string(curl_easy_strerror(rc));
    response.status = 0;
    response.headers.clear();
    response.body.clear();
    return response;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace plughost::http
