// A test double of the rag and datachat plugins (built in parallel, not loaded by these tests):
// registers retriever/rag and datachat/datachat connectors that answer with what they were
// asked, so the tests can check what rag.query and datachat.ask steps send.
#include <plughost/plugin.hpp>

namespace automate_test {

class FakeConnectors : public plughost::sdk::Plugin {
  void init() override {
    connector(
        {"retriever", "rag", "Fake retriever echoing its input", {}},
        [](std::string_view operation, std::string_view input) -> std::string {
          if (operation != "query") throw plughost::sdk::Error(PH_ERR_UNSUPPORTED, "query only");
          return R"({"results":[{"id":"doc-1","content":"Refunds within 30 days","score":0.9}],"asked":)" +
                 std::string(input) + "}";
        });
    connector({"datachat", "datachat", "Fake DataChat echoing its input", {}},
              [](std::string_view operation, std::string_view input) -> std::string {
                if (operation != "ask") throw plughost::sdk::Error(PH_ERR_UNSUPPORTED, "ask only");
                return R"({"answer":"There were 3 orders.","sql":"SELECT 3","asked":)" +
                       std::string(input) + "}";
              });
  }
};

}  // namespace automate_test

PLUGHOST_PLUGIN(automate_test::FakeConnectors, "automate_test_connectors", "1.0.0",
                "Fake retriever/rag and datachat/datachat connectors for tests", "stable")
