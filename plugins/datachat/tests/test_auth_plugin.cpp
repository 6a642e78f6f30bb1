// A test-only authenticator: "Authorization: Bearer <role>" is the user "<role>" holding that one
// role; anything else is nobody. Lets the tests exercise the host's permission checks.
#include <plughost/plugin.hpp>

namespace datachat_test {

class TestAuth : public plughost::sdk::Plugin {
  void init() override {
    connector({"authenticator", "datachat_test_auth", "Bearer <role> for tests", {}},
              [](std::string_view, std::string_view input) -> std::string {
                rapidjson::Document in;
                in.Parse(input.data(), input.size());
                if (in.HasParseError() || !in.IsObject() || !in.HasMember("scheme") ||
                    in["scheme"] != "bearer" || !in["credential"].IsString()) {
                  return R"({"principal":null})";
                }
                std::string role = in["credential"].GetString();
                return R"({"principal":{"kind":"user","id":")" + role + R"(","roles":[")" + role +
                       R"("],"partial":false}})";
              });
  }
};

}  // namespace datachat_test

PLUGHOST_PLUGIN(datachat_test::TestAuth, "datachat_test_auth", "1.0.0", "Test authenticator",
                "stable")
