// Outgoing HTTP for the `http.request` and `slack.send_message` steps: one blocking libcurl call
// (http and https only, no redirects followed, bounded response size), safe from any thread once
// curl_global_init ran (plugin init).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace automate {

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double timeout_seconds = 30;
};

struct HttpResult {
  long status = 0;                             // 0: no response (transport error)
  std::string error;                           // the transport error, when status is 0
  std::map<std::string, std::string> headers;  // lower-case names; the last value wins
  std::string body;
  int64_t elapsed_ms = 0;
};

constexpr size_t kMaxResponseBytes = 1 << 20;

// Performs `call`; never throws for transport errors (see HttpResult::error).
HttpResult perform_http(const HttpCall& call);

}  // namespace automate
