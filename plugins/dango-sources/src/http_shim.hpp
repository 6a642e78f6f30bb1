// http_shim.hpp — TEMPORARY stand-in for sdk/include/plughost/http_client.hpp (being added on
// main by the lead) with the same interface; deleted once that header lands (rebase + include).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
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
  size_t max_response_bytes = 1 << 20;
  int max_redirects = 0;
};

struct Response {
  int status = 0;  // 0: no response
  std::string error;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  int64_t elapsed_ms = 0;
  bool ok() const { return status >= 200 && status < 300; }
};

namespace shim_detail {
struct Sink {
  std::string* body;
  size_t limit;
  bool overflow = false;
};
inline size_t write_body(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->body->size() + size * n > sink->limit) {
    sink->overflow = true;
    return 0;
  }
  sink->body->append(data, size * n);
  return size * n;
}
inline size_t write_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*headers)[name] = value;
  }
  return size * n;
}
}  // namespace shim_detail

inline Response perform(const Request& rq) {
  Response out;
  auto started = std::chrono::steady_clock::now();
  CURL* curl = curl_easy_init();
  if (!curl) return out.error = "curl_easy_init failed", out;
  curl_slist* list = nullptr;
  for (const auto& [k, v] : rq.headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  shim_detail::Sink sink{&out.body, rq.max_response_bytes};
  curl_easy_setopt(curl, CURLOPT_URL, rq.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq.method.c_str());
  if (!rq.body.empty() || rq.method == "POST" || rq.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(rq.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(rq.timeout_seconds * 1000));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(rq.connect_timeout_seconds * 1000));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, rq.max_redirects > 0 ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, static_cast<long>(rq.max_redirects));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, shim_detail::write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, shim_detail::write_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out.headers);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    out.status = static_cast<int>(code);
  } else {
    out.error = sink.overflow ? "response too large" : curl_easy_strerror(rc);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  out.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
  return out;
}

}  // namespace plughost::http
