// replies.hpp — the HTTP edge of the plugin: Dango's error bodies and a small JSON writer.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dango {

// Thrown by a handler to answer `status` with the JSON `body`; caught at the route edge.
class Reply : public std::runtime_error {
 public:
  Reply(int status, std::string body)
      : std::runtime_error("dango reply"), status_(status), body_(std::move(body)) {}
  int status() const { return status_; }
  const std::string& body() const { return body_; }

 private:
  int status_;
  std::string body_;
};

// {"error_code": code, "message": message}
Reply error_reply(int status, std::string_view code, std::string_view message);
// {"detail": text}: Dango's not-found and framework errors.
Reply detail_reply(int status, std::string_view text);

// The body the host's own errors (401, 403, 429…) get on this plugin's routes; the same codes as
// the accounts plugin's formatter, so every Dango route answers alike.
std::string dango_error_body(int status, std::string_view code, std::string_view detail);

// A JSON writer with shorthands for the members the plugin answers.
class Json {
 public:
  Json& begin() { return w_.StartObject(), *this; }
  Json& end() { return w_.EndObject(), *this; }
  Json& begin_array() { return w_.StartArray(), *this; }
  Json& end_array() { return w_.EndArray(), *this; }
  Json& key(std::string_view k) {
    w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  Json& str(std::string_view v) {
    w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    return *this;
  }
  Json& num(int64_t v) { return w_.Int64(v), *this; }
  Json& real(double v) { return w_.Double(v), *this; }
  Json& flag(bool v) { return w_.Bool(v), *this; }
  Json& null() { return w_.Null(), *this; }
  Json& opt(const std::optional<std::string>& v) { return v ? str(*v) : null(); }
  Json& opt(const std::optional<int64_t>& v) { return v ? num(*v) : null(); }
  // `json` must be valid serialised JSON.
  Json& raw(std::string_view json) {
    w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }
  std::string text() const { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_{buf_};
};

}  // namespace dango
