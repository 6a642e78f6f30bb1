// documents.hpp — the JSON answers of the Studio API, built from a host snapshot. Pure functions:
// the same snapshot, settings and time give the same text, so tests can feed made-up hosts.
#pragma once

#include <string>

#include "host_snapshot.hpp"
#include "settings.hpp"

namespace studio {

inline constexpr const char* kProtocolVersion = "1.0";

// GET /studio/handshake
std::string handshake_json(const HostSnapshot& snapshot, const Settings& settings,
                           const std::string& timestamp);
// GET /studio/context/summary
std::string context_summary_json(const HostSnapshot& snapshot);
// GET /studio/health; needs only snapshot.host and snapshot.storage.
std::string health_json(const HostSnapshot& snapshot, const std::string& timestamp);
// GET /studio/migrations/summary; needs only snapshot.migrations.
std::string migrations_summary_json(const HostSnapshot& snapshot);

// "healthy" after a successful storage round trip, else "degraded".
const char* health_status(const StorageStatus& storage);

// {"detail": "<text>"}: Studio's error body, spelled as its original (FastAPI) clients know it.
std::string detail_json(const std::string& text);

}  // namespace studio
