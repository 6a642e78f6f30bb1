// A test-only authenticator for the dango-sources notebook tests: "Authorization: Bearer <role>"
// is the user "<role>" holding that one role (roles defined per user in the test's host config),
// so two distinct users can contend for a lock without the accounts plugin.
#include <plughost/plugin.hpp>
#include <plughost/testing_authenticator.hpp>

namespace dango_test {

class TestAuth : public plughost::sdk::Plugin {
  void init() override {
    connector({"authenticator", "dango_test_auth", "Bearer <role> for tests", {}},
              [](std::string_view, std::string_view input) {
                return plughost::testing::role_bearer_principal(input);
              });
  }
};

}  // namespace dango_test

PLUGHOST_PLUGIN(dango_test::TestAuth, "dango_test_auth", "1.0.0", "Test authenticator",
                "experimental")
