// Small value helpers of the automate-workflow plugin: ids, timestamps, slugs, SHA-256 and the
// JSON building blocks every handler uses.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace automate {

// A random (version 4) UUID, lower-case with dashes.
std::string new_uuid();

// Now in UTC as ISO-8601 with microseconds ("2026-01-15T10:30:00.123456Z"); sorts as text.
std::string now_iso();

// "Order Processor!" -> "order-processor"; "workflow" when nothing usable is left.
std::string slugify(std::string_view name);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// JSON text with object keys sorted at every level (the graph hash input).
std::string canonical_json(const rapidjson::Value& value);

// Parses `text` into a value owned by `alloc`'s document; a JSON null when it is not valid JSON.
rapidjson::Value parse_into(std::string_view text, rapidjson::Document::AllocatorType& alloc);

// A string value copied into `alloc`.
rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& alloc);

}  // namespace automate
