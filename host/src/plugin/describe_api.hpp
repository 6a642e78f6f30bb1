// describe_api.hpp — ph_host_api.host_describe: the host describing itself (build, plugins,
// routes, effective settings without secrets, storage status, migrations) for tools like Studio.
#pragma once

#include <plughost/abi.h>

#include <string>

namespace plughost {

struct Config;

// Fills the host_describe member of the table.
void fill_describe_api(ph_host_api& table);

// The effective configuration as JSON, secret-like values (keys naming a password, secret,
// token, credential or key; URLs' passwords) replaced by "***".
std::string settings_json(const Config& config, const std::string& storage_url_redacted);

// True for a key whose value must never be shown: password, secret, token, api_key, …
bool secret_like_key(const std::string& key);

}  // namespace plughost
