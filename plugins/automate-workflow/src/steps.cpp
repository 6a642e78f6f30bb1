#include "steps.hpp"

#include <plughost/plugin.hpp>

namespace automate {

using plughost::sdk::Error;

namespace {

rapidjson::Document parse_input(std::string_view input_json) {
  rapidjson::Document d;
  std::string error;
  if (!plughost::sdk::parse_json(input_json, d, error) || !d.IsObject()) {
    throw Error(PH_ERR_INVALID_ARGUMENT, "step input must be a JSON object");
  }
  return d;
}

}  // namespace

std::string run_logging_step(std::string_view input_json) {
  auto in = parse_input(input_json);
  if (!in.HasMember("message") || !in["message"].IsString()) {
    throw Error(PH_ERR_INVALID_ARGUMENT, "logging: config.message (a string) is required");
  }
  rapidjson::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("logged", true, a);
  out.AddMember("message", rapidjson::Value(in["message"], a), a);
  return plughost::sdk::to_json(out);
}

std::string run_transform_step(std::string_view input_json) {
  auto in = parse_input(input_json);
  if (!in.HasMember("output"))
    throw Error(PH_ERR_INVALID_ARGUMENT, "transform: config.output is required");
  if (in["output"].IsObject()) return plughost::sdk::to_json(in["output"]);
  rapidjson::Document out(rapidjson::kObjectType);
  out.AddMember("value", rapidjson::Value(in["output"], out.GetAllocator()), out.GetAllocator());
  return plughost::sdk::to_json(out);
}

}  // namespace automate
