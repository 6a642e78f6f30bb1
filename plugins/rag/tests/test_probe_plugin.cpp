// Test-only plugin: an authenticator ("Authorization: Bearer <role>" is the user "<role>" with
// that one role) and a route that calls the rag "retriever" connector as other plugins do.
#include <plughost/plugin.hpp>
#include <plughost/testing_authenticator.hpp>

namespace rag_test {

class Probe : public plughost::sdk::Plugin {
  void init() override {
    connector({"authenticator", "rag_test_probe", "Bearer <role> for tests", {}},
              [](std::string_view, std::string_view input) {
                return plughost::testing::role_bearer_principal(input);
              });
    route({"POST", "/test/retrieve", "Calls retriever/rag", "public", {}, {}, {}, 0},
          [this](const plughost::sdk::Request& rq, plughost::sdk::Response& rs) {
            try {
              rs.json_text(invoke_connector("retriever", "rag", "query", rq.body()));
            } catch (const plughost::sdk::Error& e) {
              rs.json_text(std::string("{\"connector_error\":") + std::to_string(e.code()) + "}",
                           422);
            }
          });
  }
};

}  // namespace rag_test

PLUGHOST_PLUGIN(rag_test::Probe, "rag_test_probe", "1.0.0", "Test authenticator and probe",
                "stable")
