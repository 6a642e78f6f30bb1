// A small blocking HTTP client over libcurl for document sources and embedding providers.
// Thread-safe (one easy handle per call); call curl_global_init once before any thread uses it.
#pragma once

#include <map>
#include <string>

namespace rag {

struct HttpResult {
  long status = 0;  // 0 when no response arrived
  std::string body;
  std::string content_type;
  std::string error;  // transport failure text when status is 0
};

// GET or POST (when `body` is non-empty or method is "POST"); `timeout_seconds` bounds the call.
HttpResult http_call(const std::string& method, const std::string& url,
                     const std::map<std::string, std::string>& headers, const std::string& body,
                     double timeout_seconds);

// Throws std::runtime_error unless `r` is a 2xx answer: "<who> unreachable: <error>" or
// "HTTP <code>: <first 200 characters of the body>".
void require_2xx(const HttpResult& r, const std::string& who);

}  // namespace rag
