// The plugin body_fuzz drives in-process: JSON bodies read the way plugins read them (the SDK's
// Request::json(), typed field checks, HttpError for bad input), answered as JSON.
#include <plughost/plugin.hpp>
#include <string>

namespace fuzz {

using plughost::sdk::HttpError;
using plughost::sdk::Request;
using plughost::sdk::Response;

// A string member, or a 400 naming the field.
std::string required_string(const rapidjson::Value& body, const char* name) {
  if (!body.HasMember(name) || !body[name].IsString()) {
    throw HttpError(400, "VALIDATION_ERROR", std::string(name) + " must be a string");
  }
  return std::string(body[name].GetString(), body[name].GetStringLength());
}

class BodyPlugin : public plughost::sdk::Plugin {
  void init() override {
    post("/api/fuzz/items/:id", [](const Request& rq, Response& rs) {
      rapidjson::Document body = rq.json();
      if (!body.IsObject()) throw HttpError(400, "VALIDATION_ERROR", "body must be an object");
      std::string name = required_string(body, "name");
      int64_t count = 0;
      if (body.HasMember("count")) {
        if (!body["count"].IsInt64()) throw HttpError(400, "VALIDATION_ERROR", "count: integer");
        count = body["count"].GetInt64();
      }
      size_t tags = 0;
      if (body.HasMember("tags")) {
        if (!body["tags"].IsArray()) throw HttpError(400, "VALIDATION_ERROR", "tags: array");
        for (const auto& t : body["tags"].GetArray()) tags += t.IsString() ? 1 : 0;
      }
      rapidjson::Document out(rapidjson::kObjectType);
      auto& a = out.GetAllocator();
      std::string id(rq.param("id").value_or(""));
      out.AddMember("id", rapidjson::Value(id.c_str(), a), a);
      out.AddMember(
          "name", rapidjson::Value(name.c_str(), static_cast<rapidjson::SizeType>(name.size()), a),
          a);
      out.AddMember("count", count, a);
      out.AddMember("tags", static_cast<uint64_t>(tags), a);
      out.AddMember("echo", rapidjson::Value(body, a), a);  // deep copy back out
      rs.json_text(plughost::sdk::to_json(out), 201);
    });
  }
};

}  // namespace fuzz

PLUGHOST_PLUGIN(fuzz::BodyPlugin, "fuzz_body", "0.0.1", "JSON body fuzzing", "experimental")
