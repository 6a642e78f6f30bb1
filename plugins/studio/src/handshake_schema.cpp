#include "handshake_schema.hpp"

namespace studio {

const char* handshake_schema_json() {
  return R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "StudioHandshake",
  "description": "Everything Studio needs to understand a project; here the project is a plughost host.",
  "type": "object",
  "$defs": {
    "StudioCapability": {
      "title": "StudioCapability",
      "description": "A capability Studio may use.",
      "type": "string",
      "enum": ["read_schema", "read_data", "write_data", "read_migrations", "apply_migrations",
               "ai_tools", "ai_query", "ai_codegen", "ai_patch", "ai_planner", "admin_access",
               "debug_panels"]
    },
    "StudioChecksums": {
      "title": "StudioChecksums",
      "description": "First 16 hex digits of SHA-256 of sorted-key JSON; 16 zeros when there is nothing to cover.",
      "type": "object",
      "properties": {
        "schema_checksum": {"$ref": "#/%24defs/Checksum"},
        "migrations_checksum": {"$ref": "#/%24defs/Checksum"},
        "settings_checksum": {"$ref": "#/%24defs/Checksum"},
        "routes_checksum": {"$ref": "#/%24defs/Checksum"}
      },
      "required": ["schema_checksum", "migrations_checksum", "settings_checksum", "routes_checksum"],
      "additionalProperties": false
    },
    "Checksum": {
      "type": "string",
      "pattern": "^[0-9a-f]{16}$"
    },
    "StudioDatabaseStatus": {
      "title": "StudioDatabaseStatus",
      "description": "Live database status, measured with one round trip.",
      "type": "object",
      "properties": {
        "connected": {"type": "boolean", "description": "Whether the last round trip succeeded"},
        "dialect": {"type": "string", "description": "sqlite or postgresql"},
        "pool_size": {"type": "integer", "minimum": 0, "description": "Sessions in the pool"},
        "pool_available": {"type": "integer", "minimum": 0, "description": "Idle sessions"},
        "latency_ms": {"type": ["number", "null"], "minimum": 0, "description": "Round trip in milliseconds"},
        "last_error": {"type": ["string", "null"], "description": "Why the round trip failed"}
      },
      "required": ["connected", "dialect", "pool_size", "pool_available", "latency_ms", "last_error"]
    },
    "StudioProjectInfo": {
      "title": "StudioProjectInfo",
      "type": "object",
      "properties": {
        "name": {"type": "string", "description": "Project/app name"},
        "version": {"type": "string", "description": "Project version"},
        "aksara_version": {"type": "string", "description": "Framework version: the host's"},
        "host_version": {"type": "string", "description": "The plughost version"},
        "python_version": {"type": "string", "description": "Runtime version: the host's compiler"},
        "runtime_version": {"type": "string", "description": "The host's compiler"},
        "debug_mode": {"type": "boolean", "description": "Whether the project is in debug mode"},
        "environment": {"type": "string", "description": "development, staging or production"}
      },
      "required": ["name", "version", "aksara_version", "python_version", "debug_mode", "environment"]
    }
  },
  "properties": {
    "protocol_version": {
      "type": "string",
      "default": "1.0",
      "description": "Studio protocol version",
      "enum": ["1.0"]
    },
    "timestamp": {
      "type": "string",
      "description": "UTC, with microseconds and +00:00",
      "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}\\+00:00$"
    },
    "project": {"$ref": "#/%24defs/StudioProjectInfo"},
    "database": {"$ref": "#/%24defs/StudioDatabaseStatus"},
    "capabilities": {
      "type": "array",
      "items": {"$ref": "#/%24defs/StudioCapability"},
      "uniqueItems": true
    },
    "checksums": {"$ref": "#/%24defs/StudioChecksums"},
    "endpoints": {
      "type": "object",
      "description": "Endpoint name to path, only for endpoints this host serves",
      "additionalProperties": {"type": "string", "pattern": "^/"}
    },
    "metadata": {"type": "object"}
  },
  "required": ["project", "database", "capabilities", "checksums"]
})json";
}

}  // namespace studio
