// A stub OpenAI-compatible chat-completions server for the tests, on the SDK's loopback
// StubServer: every request gets the reply set last; `completion()` builds a completion body.
#pragma once

#include <rapidjson/document.h>

#include <mutex>
#include <plughost/json.hpp>
#include <plughost/testing.hpp>
#include <string>

namespace datachat_test {

class StubLlm {
 public:
  StubLlm()
      : server_([this](const plughost::testing::StubRequest&) {
          std::lock_guard<std::mutex> lock(mu_);
          return reply_;
        }) {}

  void reply(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    reply_ = plughost::testing::StubReply(status, std::move(body));
  }
  // The last request received (an empty one before any).
  plughost::testing::StubRequest last_request() const {
    auto all = server_.requests();
    return all.empty() ? plughost::testing::StubRequest{} : all.back();
  }
  std::string url() const { return server_.url() + "/v1"; }

 private:
  std::mutex mu_;
  plughost::testing::StubReply reply_{200, "{}"};
  plughost::testing::StubServer server_;  // last: its thread may call the handler at once
};

// A chat completion whose message is `content`, from "stub-model", with usage.
inline std::string completion(const std::string& content) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value msg(rapidjson::kObjectType), choice(rapidjson::kObjectType),
      choices(rapidjson::kArrayType), usage(rapidjson::kObjectType);
  msg.AddMember("role", "assistant", a);
  msg.AddMember("content", rapidjson::Value(content.c_str(), a), a);
  choice.AddMember("message", msg, a);
  choices.PushBack(choice, a);
  usage.AddMember("total_tokens", 42, a);
  d.AddMember("model", "stub-model", a);
  d.AddMember("choices", choices, a);
  d.AddMember("usage", usage, a);
  return plughost::sdk::to_json(d);
}

}  // namespace datachat_test
