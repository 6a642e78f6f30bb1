#include "replies.hpp"

namespace dango {

Reply error_reply(int status, std::string_view code, std::string_view message) {
  return Reply(status,
               Json().begin().key("error_code").str(code).key("message").str(message).end().text());
}

Reply detail_reply(int status, std::string_view text) {
  return Reply(status, Json().begin().key("detail").str(text).end().text());
}

std::string dango_error_body(int status, std::string_view code, std::string_view detail) {
  auto envelope = [](std::string_view error_code, std::string_view message) {
    return Json()
        .begin()
        .key("error_code")
        .str(error_code)
        .key("message")
        .str(message)
        .end()
        .text();
  };
  if (status == 401) return envelope("DANGO-S001", "Authentication required.");
  if (code == "CSRF_FAILED") return envelope("DANGO-S002", "CSRF validation failed");
  if (code == "ORIGIN_NOT_ALLOWED") {
    return envelope("DANGO-S002", "Origin '" + std::string(detail) + "' is not allowed");
  }
  if (status == 403) return envelope("DANGO-S002", "Permission denied: " + std::string(detail));
  if (status == 429) return envelope("DANGO-W002", "Too many requests. Please try again later.");
  if (status == 404) return Json().begin().key("detail").str("Not Found").end().text();
  if (status == 405) return Json().begin().key("detail").str("Method Not Allowed").end().text();
  if (status == 413) return Json().begin().key("detail").str("Request body too large").end().text();
  return envelope("DANGO-G001", "An internal error occurred.");
}

}  // namespace dango
