#include "cli/new_plugin.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

namespace plughost {
namespace {

namespace fs = std::filesystem;

const char* kCMakeLists =
    R"(# {{name}}: a plughost plugin. Builds plughost_{{name}}.so against the installed SDK:
#   cmake -S . -B build -DCMAKE_PREFIX_PATH=<plughost prefix> && cmake --build build
#   ctest --test-dir build          (runs the plugin in the real host: plughost on PATH, or
#                                    -DPLUGHOST_EXECUTABLE=/path/to/plughost)
cmake_minimum_required(VERSION 3.25)
project({{name}} LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)

if(NOT TARGET plughost::sdk)
  find_package(plughost-sdk 1.2 REQUIRED)
endif()

plughost_add_plugin({{name}} SOURCES src/plugin.cpp SCHEMA config.schema.json)

option({{NAME}}_BUILD_TESTS "Build {{name}}'s tests" ON)
if({{NAME}}_BUILD_TESTS)
  enable_testing()
  plughost_add_plugin_test({{name}}_tests PLUGIN {{name}} SOURCES tests/plugin_test.cpp)
endif()
)";

const char* kSchema = R"({
  "type": "object",
  "description": "Configuration of the {{name}} plugin.",
  "additionalProperties": false,
  "properties": {
    "greeting": {
      "type": "string",
      "minLength": 1,
      "default": "hello",
      "description": "What GET /api/{{name}}/hello/:who says before the name."
    }
  }
}
)";

const char* kPlugin =
    R"(// {{name}}: a plughost plugin. This file is its table of contents: every route and
// connector it registers. The contract it builds on is plughost/abi.h; plugin.hpp wraps it.
#include <plughost/plugin.hpp>
#include <stdexcept>
#include <string>

namespace {{name}} {

using plughost::sdk::HttpError;
using plughost::sdk::Request;
using plughost::sdk::Response;

// {"message": "<greeting>, <who>"}
std::string greet(const std::string& greeting, std::string_view who) {
  rapidjson::Document d(rapidjson::kObjectType);
  std::string message = greeting + ", " + std::string(who);
  d.AddMember("message", rapidjson::Value(message.c_str(), d.GetAllocator()), d.GetAllocator());
  return plughost::sdk::to_json(d);
}

class Plugin : public plughost::sdk::Plugin {
  void init() override {
    std::string greeting = config()["greeting"].GetString();  // the schema's default applies

    route({"GET", "/api/{{name}}/hello/:who", "Greets someone", "public", {}, {}, {}},
          [greeting](const Request& rq, Response& rs) {
            std::string_view who = rq.param("who").value_or("");
            if (who.size() > 100) throw HttpError(400, "VALIDATION_ERROR", "name too long");
            rs.json_text(greet(greeting, who));
          });

    // Other plugins call it with invoke_connector("greeter", "{{name}}", "greet", "\"ada\"").
    connector({"greeter", "{{name}}", "Greets the JSON string it is given", {}},
              [greeting](std::string_view operation, std::string_view input) -> std::string {
                if (operation != "greet") throw std::invalid_argument("unknown operation");
                rapidjson::Document in;
                in.Parse(input.data(), input.size());
                if (in.HasParseError() || !in.IsString()) {
                  throw std::invalid_argument("input must be a JSON string");
                }
                return greet(greeting, in.GetString());
              });
  }
};

}  // namespace {{name}}

PLUGHOST_PLUGIN({{name}}::Plugin, "{{name}}", "0.1.0", "Greets people", "experimental")
)";

const char* kTest =
    R"(// {{name}} in the real host: a config is written, plughost runs it, HTTP goes over loopback.
#include <gtest/gtest.h>

#include <plughost/testing.hpp>

namespace {

using namespace plughost::testing;

std::string config(const std::string& plugin_config) {
  return "version: 1\n"
         "server: {listen: 127.0.0.1:0}\n"
         "auth: {enabled: false}\n"
         "plugins_dir: " PLUGHOST_TEST_PLUGIN_DIR "\n"
         "plugins:\n"
         "  {{name}}:\n"
         "    required: true\n"
         "    config: " + plugin_config + "\n";
}

TEST({{name}}, GreetsWithTheDefaultGreeting) {
  Host host(config("{}"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  auto r = http(host.port(), "GET", "/api/{{name}}/hello/ada");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::string(json(r)["message"].GetString()), "hello, ada");
}

TEST({{name}}, UsesTheConfiguredGreeting) {
  Host host(config("{greeting: bonjour}"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  EXPECT_EQ(std::string(json(http(host.port(), "GET", "/api/{{name}}/hello/ada"))["message"]
                            .GetString()),
            "bonjour, ada");
}

TEST({{name}}, RejectsTooLongNamesWithA400) {
  Host host(config("{}"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  EXPECT_EQ(http(host.port(), "GET", "/api/{{name}}/hello/" + std::string(101, 'a')).status, 400);
}

TEST({{name}}, CheckRejectsAnUnknownConfigKey) {
  std::string dir = make_temp_dir();
  write_file(dir + "/plughost.yaml", config("{greting: typo}"));
  CommandResult r = run_plughost({"check", "--config", dir + "/plughost.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("did you mean \"greeting\""), std::string::npos) << r.out << r.err;
}

}  // namespace
)";

const char* kReadme = R"(# {{name}}

A plughost plugin: `GET /api/{{name}}/hello/:who` answers `{"message": "<greeting>, <who>"}`,
and a connector of kind `greeter` named `{{name}}` does the same for other plugins.

## Build and test

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=/opt/plughost   # where the plughost SDK is installed
cmake --build build
ctest --test-dir build        # starts the real plughost (on PATH, or -DPLUGHOST_EXECUTABLE=…)
```

Copy `build/plughost_{{name}}.so` into the host's `plugins_dir` and enable it:

```yaml
plugins:
  {{name}}:
    config:
      greeting: hello
```

`plughost check` validates the `config:` block against `config.schema.json`.
)";

std::string render(std::string text, const std::string& name) {
  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& [key, value] :
       std::map<std::string, std::string>{{"{{name}}", name}, {"{{NAME}}", upper}}) {
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
      text.replace(at, key.size(), value);
      at += value.size();
    }
  }
  return text;
}

}  // namespace

bool valid_new_plugin_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string write_plugin_project(const std::string& name, const std::string& dir) {
  if (!valid_new_plugin_name(name)) {
    return "plugin name must match [a-z][a-z0-9_]* (at most 64 characters): \"" + name + "\"";
  }
  std::error_code ec;
  fs::path root(dir);
  if (fs::exists(root, ec) && !fs::is_empty(root, ec)) {
    return dir + " exists and is not empty";
  }
  const std::map<std::string, const char*> files = {{"CMakeLists.txt", kCMakeLists},
                                                    {"config.schema.json", kSchema},
                                                    {"src/plugin.cpp", kPlugin},
                                                    {"tests/plugin_test.cpp", kTest},
                                                    {"README.md", kReadme}};
  for (const auto& [relative, text] : files) {
    fs::path path = root / relative;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return "cannot create " + path.parent_path().string() + ": " + ec.message();
    std::ofstream out(path);
    out << render(text, name);
    if (!out) return "cannot write " + path.string();
  }
  return {};
}

}  // namespace plughost
