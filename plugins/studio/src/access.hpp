// access.hpp — who may call Studio's routes: the origin check the plugin applies itself when the
// host enforces no allow-list for it, the optional bearer token, and the {"detail": …} bodies of
// the errors the host answers on Studio's routes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace studio {

// A refusal: HTTP status and the full JSON body to send.
struct Refusal {
  int status = 0;
  std::string body;
};

struct AccessPolicy {
  // Origins the plugin checks itself; nullopt when the host enforces
  // plugins.studio.allowed_origins.
  std::optional<std::vector<std::string>> self_checked_origins;
  std::string bearer_token;  // empty: none required
};

// nullopt: let the request through. `origin` / `authorization` are the request's headers (nullopt
// when absent). The origin check comes first, as in the original.
std::optional<Refusal> check_access(const AccessPolicy& policy,
                                    const std::optional<std::string_view>& origin,
                                    const std::optional<std::string_view>& authorization);

// True for no Origin, a "*" entry or an exact (case- and slash-sensitive) match.
bool origin_allowed(const std::vector<std::string>& allowed,
                    const std::optional<std::string_view>& origin);

// Body of an error the host answers on Studio's routes (ph_error_formatter).
std::string format_host_error(int status, std::string_view code, std::string_view message,
                              std::string_view detail);

}  // namespace studio
