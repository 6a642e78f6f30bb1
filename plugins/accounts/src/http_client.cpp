#include "http_client.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <mutex>

namespace accounts {
namespace {

constexpr size_t kMaxResponseBytes = 1 << 20;

size_t collect(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  size_t n = size * count;
  if (body->size() + n > kMaxResponseBytes) return 0;  // aborts the transfer
  body->append(data, n);
  return n;
}

using Easy = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using Headers = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

// Appends a header line; on allocation failure the list stays as it was (the header is dropped
// and the call fails upstream on the missing header, never crashes).
void add_header(Headers& list, const std::string& line) {
  if (curl_slist* next = curl_slist_append(list.get(), line.c_str())) {
    list.release();
    list.reset(next);
  }
}

HttpResult perform(CURL* curl, const std::string& url, curl_slist* headers, long timeout_seconds) {
  HttpResult r;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    r.error = error[0] ? error : curl_easy_strerror(rc);
    r.body.clear();
    return r;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  r.ok = true;
  return r;
}

}  // namespace

void init_http_client() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string url_encode(const std::string& value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
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

HttpResult post_form(const std::string& url, const FormFields& fields, long timeout_seconds) {
  Easy curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return {false, 0, {}, "libcurl could not start"};
  std::string form;
  for (const auto& [k, v] : fields)
    form += (form.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
  Headers headers(nullptr, &curl_slist_free_all);
  add_header(headers, "Accept: application/json");
  add_header(headers, "Content-Type: application/x-www-form-urlencoded");
  curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  return perform(curl.get(), url, headers.get(), timeout_seconds);
}

HttpResult get_with_bearer(const std::string& url, const std::string& token, long timeout_seconds) {
  Easy curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return {false, 0, {}, "libcurl could not start"};
  Headers headers(nullptr, &curl_slist_free_all);
  add_header(headers, "Accept: application/json");
  add_header(headers, "Authorization: Bearer " + token);
  curl_easy_setopt(curl.get(), CURLOPT_HTTPGET, 1L);
  return perform(curl.get(), url, headers.get(), timeout_seconds);
}

}  // namespace accounts
