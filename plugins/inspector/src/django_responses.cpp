#include "django_responses.hpp"

namespace inspector {

std::string detail_json(std::string_view detail) {
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("detail",
              rapidjson::Value(detail.data(), static_cast<rapidjson::SizeType>(detail.size()),
                               d.GetAllocator()),
              d.GetAllocator());
  return plughost::sdk::to_json(d);
}

void respond_not_found(plughost::sdk::Response& response) {
  response.json_text(detail_json("Not found."), 404);
}

std::string format_host_error(int status, std::string_view code, std::string_view message,
                              std::string_view) {
  if (code == "CSRF_FAILED") return detail_json("CSRF Failed: CSRF token missing or incorrect.");
  if (code == "UNAUTHORIZED") return detail_json("Authentication credentials were not provided.");
  if (code == "FORBIDDEN") return detail_json("You do not have permission to perform this action.");
  if (code == "METHOD_NOT_ALLOWED" && message.rfind("method ", 0) == 0) {
    std::string_view method = message.substr(7, message.find(' ', 7) - 7);
    return detail_json("Method \"" + std::string(method) + "\" not allowed.");
  }
  if (code == "RATE_LIMITED") return detail_json("Request was throttled.");
  if (code == "INTERNAL_ERROR" || status >= 500) return detail_json("A server error occurred.");
  return detail_json(message);
}

}  // namespace inspector
