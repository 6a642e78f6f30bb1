// A test-only authenticator: "Authorization: Bearer <role>" is the user "<role>" holding that one
// role; anything else is nobody. Lets the tests exercise the host's permission checks.
#include <plughost/plugin.hpp>
#include <plughost/testing_authenticator.hpp>

namespace automate_test {

class TestAuth : public plughost::sdk::Plugin {
  void init() override {
    connector({"authenticator", "automate_test_auth", "Bearer <role> for tests", {}},
              [](std::string_view, std::string_view input) {
                return plughost::testing::role_bearer_principal(input);
              });
  }
};

}  // namespace automate_test

PLUGHOST_PLUGIN(automate_test::TestAuth, "automate_test_auth", "1.0.0", "Test authenticator",
                "stable")
