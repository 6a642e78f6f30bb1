// plughost/json.hpp — small RapidJSON helpers shared by the host and by plugins.
// Header-only; the error envelope written here is the one the host documents.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::sdk {

// One entry of an error envelope's `details` list: which input (a JSON pointer, a query
// parameter name, a header) and what is wrong with it.
struct ErrorDetail {
  std::string field;
  std::string message;
};

// Serialises any RapidJSON value to compact JSON text.
inline std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

inline void write_string(rapidjson::Writer<rapidjson::StringBuffer>& writer, std::string_view s) {
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// The host's error envelope:
//   {"error":{"code":"NOT_FOUND","message":"…","details":[{"field":…,"message":…}],
//             "trace_id":"…"}}
inline std::string error_envelope(std::string_view code, std::string_view message,
                                  std::string_view trace_id,
                                  const std::vector<ErrorDetail>& details = {}) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("error");
  writer.StartObject();
  writer.Key("code");
  write_string(writer, code);
  writer.Key("message");
  write_string(writer, message);
  writer.Key("details");
  writer.StartArray();
  for (const auto& d : details) {
    writer.StartObject();
    writer.Key("field");
    write_string(writer, d.field);
    writer.Key("message");
    write_string(writer, d.message);
    writer.EndObject();
  }
  writer.EndArray();
  writer.Key("trace_id");
  write_string(writer, trace_id);
  writer.EndObject();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The conventional envelope code for an HTTP status ("NOT_FOUND" for 404…).
inline const char* error_code_for_status(int status) {
  switch (status) {
    case 400: return "BAD_REQUEST";
    case 401: return "UNAUTHORIZED";
    case 403: return "FORBIDDEN";
    case 404: return "NOT_FOUND";
    case 405: return "METHOD_NOT_ALLOWED";
    case 408: return "REQUEST_TIMEOUT";
    case 409: return "CONFLICT";
    case 413: return "PAYLOAD_TOO_LARGE";
    case 415: return "UNSUPPORTED_MEDIA_TYPE";
    case 422: return "VALIDATION_ERROR";
    case 429: return "RATE_LIMITED";
    case 503: return "UNAVAILABLE";
    case 504: return "TIMEOUT";
    default: return status >= 500 ? "INTERNAL_ERROR" : "ERROR";
  }
}

// How deep arrays and objects may nest in parsed JSON. RapidJSON's parser (and every walk over a
// document: copies, writers, templates) recurses once per level, so without a bound a request body
// of a few megabytes of '[' overflows the stack and takes the whole host down.
constexpr size_t kMaxJsonDepth = 256;

// The offset of the first '[' or '{' nested deeper than `max_depth` in `text` (outside strings),
// or npos. One pass, no allocation.
inline size_t json_too_deep_at(std::string_view text, size_t max_depth = kMaxJsonDepth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

// Parses JSON text. On failure returns false and describes the problem in `error` (with the byte
// offset), leaving `doc` in an unspecified state. Nesting deeper than kMaxJsonDepth is refused.
inline bool parse_json(std::string_view text, rapidjson::Document& doc, std::string& error) {
  size_t deep = json_too_deep_at(text);
  if (deep != std::string_view::npos) {
    doc.SetNull();
    error = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels at offset " +
            std::to_string(deep);
    return false;
  }
  doc.Parse(text.data(), text.size());
  if (!doc.HasParseError()) return true;
  error = std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at offset " +
          std::to_string(doc.GetErrorOffset());
  return false;
}

}  // namespace plughost::sdk
