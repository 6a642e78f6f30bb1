// A third-party plugin: one connector ("text"/"shout") and one route that uses it. Built with
// clang++ and libc++ against the installed SDK, loaded by a g++/libstdc++ host.
#include <cctype>
#include <plughost/plugin.hpp>
#include <string>

namespace shout {

class Shout : public plughost::sdk::Plugin {
  void init() override {
    std::string suffix = config()["suffix"].GetString();
    connector({"text", "shout", "Upper-cases text and adds a suffix", {}},
              [suffix](std::string_view, std::string_view input) {
                std::string out;
                for (char c : input) out += static_cast<char>(std::toupper(c));
                return out + suffix;
              });
    get("/api/shout/:word", [this](const plughost::sdk::Request& rq, plughost::sdk::Response& rs) {
      std::string word(rq.param("word").value_or(""));
      rs.text(invoke_connector("text", "shout", "apply", word));
    });
  }
};

}  // namespace shout

PLUGHOST_PLUGIN(shout::Shout, "shout", "0.1.0", "Third-party connector built out of tree", "beta")
