#include "access.hpp"

#include <cctype>

#include "documents.hpp"
#include "sha256.hpp"

namespace studio {
namespace {

std::string origin_refused(std::string_view origin) {
  return detail_json("Origin '" + std::string(origin) + "' is not allowed");
}

// The token after "Bearer " (scheme case-insensitive), or nullopt.
std::optional<std::string_view> bearer_of(const std::optional<std::string_view>& authorization) {
  if (!authorization || authorization->size() < 7) return std::nullopt;
  std::string scheme(authorization->substr(0, 7));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return std::nullopt;
  std::string_view token = authorization->substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

}  // namespace

bool origin_allowed(const std::vector<std::string>& allowed,
                    const std::optional<std::string_view>& origin) {
  if (!origin || allowed.empty()) return true;
  for (const auto& a : allowed) {
    if (a == "*" || a == *origin) return true;
  }
  return false;
}

std::optional<Refusal> check_access(const AccessPolicy& policy,
                                    const std::optional<std::string_view>& origin,
                                    const std::optional<std::string_view>& authorization) {
  if (policy.self_checked_origins && !origin_allowed(*policy.self_checked_origins, origin)) {
    return Refusal{403, origin_refused(*origin)};
  }
  if (!policy.bearer_token.empty()) {
    auto token = bearer_of(authorization);
    if (!token || !constant_time_equal(*token, policy.bearer_token)) {
      return Refusal{401, detail_json("Studio requires authentication")};
    }
  }
  return std::nullopt;
}

std::string format_host_error(int status, std::string_view code, std::string_view message,
                              std::string_view detail) {
  if (code == "ORIGIN_NOT_ALLOWED") return origin_refused(detail);
  if (status == 401) return detail_json("Studio requires authentication");
  return detail_json(std::string(message));
}

}  // namespace studio
