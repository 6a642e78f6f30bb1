// django_responses.hpp — error bodies in the shape Django REST clients of djdesk expect:
// {"detail": "…"} for 401/403/404/405/429/500, including the errors the host itself answers on
// the inspector's routes (through the plugin's error formatter).
#pragma once

#include <plughost/plugin.hpp>
#include <string>
#include <string_view>

namespace inspector {

// {"detail": "<detail>"}
std::string detail_json(std::string_view detail);
// 404 {"detail": "Not found."}
void respond_not_found(plughost::sdk::Response& response);
// The body for a host-answered error on one of our routes (see ph_error_formatter).
std::string format_host_error(int status, std::string_view code, std::string_view message,
                              std::string_view detail);

}  // namespace inspector
