// checksums.hpp — Studio's cache-invalidation checksums: the first 16 hex digits of the SHA-256
// of sorted-key JSON over exactly what each one covers, so a checksum changes when (and only
// when) its subject changes, and is the same across restarts of an unchanged host.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "host_snapshot.hpp"

namespace studio {

// What a checksum is when there is nothing to cover (no migrations at all).
inline constexpr const char* kEmptyChecksum = "0000000000000000";

struct Checksums {
  std::string schema;      // every plugin migration (plugin, name, checksum) + the table catalog
  std::string migrations;  // the ledger: every migration with its applied state and time
  std::string settings;    // the host's effective settings (secrets masked by the host)
  std::string routes;      // [{path, methods sorted}] by path
};

// Compact JSON with every object's keys sorted (byte order), arrays kept in order.
std::string canonical_json(const rapidjson::Value& value);

// First 16 hex digits of SHA-256 of the text.
std::string short_checksum(std::string_view text);

Checksums compute_checksums(const HostSnapshot& snapshot);
std::string migrations_checksum(const std::vector<MigrationRow>& migrations);

}  // namespace studio
