// Fuzzes what an authenticator plugin may answer: any bytes as its output must resolve to a
// principal or to anonymous, never crash the host or grant permissions the roles do not give.
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "identity/identity.hpp"
#include "log/log.hpp"
#include "plugin/loader.hpp"
#include "plugin/registry.hpp"

namespace {

const uint8_t* g_data = nullptr;
size_t g_size = 0;

int fuzzed_authenticator(void*, ph_str, ph_str, ph_buffer* out, ph_error*) {
  out->data.assign(reinterpret_cast<const char*>(g_data), g_size);
  return PH_OK;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static plughost::AuthConfig auth = [] {
    plughost::AuthConfig a;
    a.roles = {{"viewer", {"source.view"}}};
    return a;
  }();
  static plughost::Registry registry = [] {
    plughost::Registry r;
    plughost::PendingRegistrations p;
    p.connectors.push_back(
        {"fuzz", "authenticator", "fuzz", "", "", &fuzzed_authenticator, nullptr});
    r.commit(std::move(p));
    return r;
  }();
  static plughost::Logger log(plughost::LogLevel::kError, plughost::LogFormat::kJson,
                              std::fopen("/dev/null", "w"));
  static plughost::Identity identity(auth, registry, log);
  g_data = data;
  g_size = size;
  plughost::Credentials c;
  c.bearer = "token";
  c.tenant = "default";
  plughost::Principal p = identity.resolve(c);
  // Permissions come from explicit lists or configured roles only; a role the config does not
  // define grants nothing.
  if (p.partial && !p.permissions.empty()) __builtin_trap();
  return 0;
}
