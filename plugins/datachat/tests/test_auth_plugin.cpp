// A test-only plugin: "Authorization: Bearer <role>" is the user "<role>" holding that one role
// (anything else is nobody), and POST /test/connectors/:kind/:name/:operation calls a connector
// the way another plugin would, answering {"output": …} or {"code": n, "message": …}.
#include <plughost/plugin.hpp>
#include <plughost/testing_authenticator.hpp>

namespace datachat_test {

class TestAuth : public plughost::sdk::Plugin {
  void init() override {
    connector({"authenticator", "datachat_test_auth", "Bearer <role> for tests", {}},
              [](std::string_view, std::string_view input) {
                return plughost::testing::role_bearer_principal(input);
              });
    route({"POST",
           "/test/connectors/:kind/:name/:operation",
           "Invokes a connector",
           "public",
           {},
           {},
           {},
           PH_ROUTE_CSRF_EXEMPT},
          [this](const plughost::sdk::Request& rq, plughost::sdk::Response& rs) {
            try {
              std::string out =
                  invoke_connector(std::string(*rq.param("kind")), std::string(*rq.param("name")),
                                   *rq.param("operation"), rq.body());
              rs.json_text("{\"output\":" + out + "}");
            } catch (const plughost::sdk::Error& e) {
              rapidjson::Document d;
              d.SetObject();
              d.AddMember("code", e.code(), d.GetAllocator());
              d.AddMember("message", rapidjson::Value(e.what(), d.GetAllocator()),
                          d.GetAllocator());
              rs.json(d);
            }
          });
  }
};

}  // namespace datachat_test

PLUGHOST_PLUGIN(datachat_test::TestAuth, "datachat_test_auth", "1.0.0",
                "Test authenticator and connector caller", "stable")
