// identity.hpp — who is calling: the principal of a request, resolved by the authenticator
// connectors plugins register, its permissions (roles mapped through the config), and the rule
// every route's permission is checked with.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "log/log.hpp"

namespace plughost {

struct ConnectorEntry;
class Registry;

struct Principal {
  std::string kind = "anonymous";  // "user", "api_key", "anonymous", … (the authenticator's word)
  std::string id;
  std::string scheme = "none";  // the credential that identified it: session, bearer, api_key
  bool partial = false;         // 2FA pending: reaches only public routes
  std::vector<std::string> permissions;
  std::string json;  // the object handlers see through request_principal

  bool signed_in() const { return kind != "anonymous" && !partial; }
  // Key that rate limits count under: the principal when signed in, else the caller's address.
  std::string rate_key(const std::string& remote_address) const;
};

// The credentials and context a request offers to authenticators.
struct Credentials {
  std::vector<std::pair<std::string, std::string>> cookies;
  std::optional<std::string> bearer;   // Authorization: Bearer <token>
  std::optional<std::string> api_key;  // X-API-Key
  std::string remote_address;
  std::string user_agent;
  std::string method;
  std::string path;
  std::string tenant;
};

// True when `held` grants `wanted`: an exact entry, "*", or "prefix.*" covering "prefix.x".
bool permission_granted(const std::vector<std::string>& held, std::string_view wanted);

// Compares two secrets in time that depends only on their lengths, never on where they differ.
bool constant_time_equals(std::string_view a, std::string_view b);

// `[A-Za-z0-9_.:-]{1,64}`: what an X-Tenant-ID may be, so it is safe in keys and logs.
bool valid_tenant_id(std::string_view tenant);

class Identity {
 public:
  // `registry` must be complete (every plugin initialised); authenticators named in the config
  // that no plugin registered are logged once here and skipped.
  Identity(const AuthConfig& config, const Registry& registry, Logger& log);

  bool enabled() const { return config_.enabled; }
  // Never throws: a failing authenticator is logged and treated as "not mine".
  Principal resolve(const Credentials& credentials) const;
  // Whether the principal may call a route declaring `permission` ("" = authenticated).
  enum class Verdict { kAllowed, kUnauthenticated, kForbidden };
  Verdict authorize(const Principal& principal, std::string_view permission) const;
  // Permissions of a set of roles, by the config's role map.
  std::vector<std::string> permissions_of(const std::vector<std::string>& roles) const;
  // {"enabled":…,"roles":{…}}: handed to plugins through auth_settings.
  static std::string settings_json(const AuthConfig& config);

 private:
  Principal anonymous(const Credentials& c) const;
  std::optional<Principal> ask(const ConnectorEntry& authenticator, const std::string& scheme,
                               const std::string& input, const Credentials& c) const;

  const AuthConfig& config_;
  Logger& log_;
  std::vector<const ConnectorEntry*> authenticators_;
  std::string anonymous_json_;  // the anonymous principal without a tenant: most requests'
};

}  // namespace plughost
