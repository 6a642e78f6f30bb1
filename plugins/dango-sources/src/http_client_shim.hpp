// http_client_shim.hpp — TEMPORARY stand-in for sdk/include/plughost/http_client.hpp (being added
// on main): the same interface over libcurl, deleted once that header lands.
#pragma once

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace plughost::http {

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double timeout_seconds = 30;
  double connect_timeout_seconds = 10;
  size_t max_response_bytes = 64 * 1024 * 1024;
  long max_redirects = 0;
};

struct Response {
  long status = 0;  // 0: no response
  std::string error;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  int64_t elapsed_ms = 0;
  bool ok() const { return status >= 200 && status < 300; }
};

inline std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace detail {
struct Sink {
  Response* response;
  size_t limit;
  bool overflow = false;
};
inline size_t on_body(char* p, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->response->body.size() + size * n > sink->limit) {
    sink->overflow = true;
    return 0;
  }
  sink->response->body.append(p, size * n);
  return size * n;
}
inline size_t on_header(char* p, size_t size, size_t n, void* user) {
  auto* response = static_cast<Response*>(user);
  std::string line(p, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    response->headers[name] = value;
  }
  return size * n;
}
}  // namespace detail

inline Response perform(const Request& rq) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  Response response;
  if (!initialised) {
    response.error = "libcurl could not be initialised";
    return response;
  }
  CURL* curl = curl_easy_init();
  if (!curl) {
    response.error = "libcurl could not be initialised";
    return response;
  }
  detail::Sink sink{&response, rq.max_response_bytes};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : rq.headers)
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, rq.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq.method.c_str());
  if (!rq.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(rq.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(rq.timeout_seconds * 1000));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(rq.connect_timeout_seconds * 1000));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, rq.max_redirects > 0 ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, rq.max_redirects);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, detail::on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, detail::on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  auto start = std::chrono::steady_clock::now();
  CURLcode rc = curl_easy_perform(curl);
  response.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  } else {
    response.status = 0;
    response.error = sink.overflow ? "response larger than the limit" : curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return response;
}

}  // namespace plughost::http
