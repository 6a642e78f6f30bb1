// handshake_schema.hpp — the JSON Schema (draft 2020-12) of GET /studio/handshake, served by
// GET /studio/schema/handshake. Only keywords whose meaning is the same in draft-04 are used
// (type, properties, required, enum, pattern, minimum, items, uniqueItems, additionalProperties,
// $ref into "#/$defs/…"), so RapidJSON's draft-04 validator checks documents against it too.
#pragma once

namespace studio {

const char* handshake_schema_json();

}  // namespace studio
