// The plughost command line: verbs, --json, exit codes, and `check` output compared with golden
// files that operators read.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <cstring>
#include <string>

#include "support.hpp"

namespace itest {
namespace {

std::string good_config() {
  std::string dir = make_temp_dir();
  std::string path = dir + "/plughost.yaml";
  write_file(path,
             "version: 1\n"
             "auth: {enabled: false}\n"
             "server:\n"
             "  listen: 127.0.0.1:0\n"
             "plugins_dir: " FIXTURE_PLUGIN_DIR
             "\n"
             "plugins:\n"
             "  fixture_good:\n"
             "    config: {greeting: hi}\n"
             "  fixture_c: {}\n"
             "  fixture_init_throws:\n"
             "    enabled: false\n");
  return path;
}

TEST(Cli, VersionPrintsVersionAndAbi) {
  auto r = run_plughost({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("plugin ABI 1."), std::string::npos) << r.out;
  auto j = run_plughost({"version", "--json"});
  rapidjson::Document d;
  d.Parse(j.out.c_str());
  ASSERT_FALSE(d.HasParseError()) << j.out;
  EXPECT_EQ(std::string(d["abi"].GetString()).rfind("1.", 0), 0u);
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_plughost({}).exit_code, 2);
  EXPECT_EQ(run_plughost({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_plughost({"check", "--bogus"}).exit_code, 2);
  EXPECT_EQ(run_plughost({"check", "--config"}).exit_code, 2);
  auto r = run_plughost({"routes", "extra"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unexpected argument extra"), std::string::npos);
}

TEST(Cli, HelpForEveryVerb) {
  for (const char* verb : {"run", "check", "plugins", "routes", "version"}) {
    auto r = run_plughost({verb, "--help"});
    EXPECT_EQ(r.exit_code, 0) << verb;
    EXPECT_NE(r.out.find(std::string("usage: plughost ") + verb), std::string::npos) << r.out;
  }
  EXPECT_EQ(run_plughost({"--help"}).exit_code, 0);
}

TEST(Cli, CheckPassesAValidConfig) {
  auto r = run_plughost({"check", "--config", good_config()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("check: 0 errors; 2 plugins inspected"), std::string::npos) << r.out;
}

TEST(Cli, CheckMissingFileExitsOne) {
  auto r = run_plughost({"check", "--config", "/nonexistent/plughost.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("/nonexistent/plughost.yaml"), std::string::npos) << r.out;
}

// Golden: every problem of a bad config in one run, in operator-facing form.
TEST(Cli, CheckReportsEveryProblemAsGolden) {
  setenv("PLUGHOST_TEST_PLUGINS", FIXTURE_PLUGIN_DIR, 1);
  auto r = run_plughost({"check", "--config", "bad.yaml"}, GOLDEN_DIR);
  EXPECT_EQ(r.exit_code, 1);
  std::string expected = read_file(std::string(GOLDEN_DIR) + "/bad.expected");
  // The plugin directory is machine-specific; the golden file says ${PLUGINS}.
  std::string out = r.out;
  for (size_t at; (at = out.find(FIXTURE_PLUGIN_DIR)) != std::string::npos;) {
    out.replace(at, std::strlen(FIXTURE_PLUGIN_DIR), "${PLUGINS}");
  }
  EXPECT_EQ(out, expected) << "stderr:\n" << r.err;
}

TEST(Cli, PluginsListsEveryPluginAsJson) {
  auto r = run_plughost({"plugins", "--json", "--config", good_config()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  ASSERT_TRUE(!d.HasParseError() && d.IsArray()) << r.out;
  std::map<std::string, std::string> status, version;
  for (const auto& p : d.GetArray()) {
    status[p["name"].GetString()] = p["status"].GetString();
    version[p["name"].GetString()] = p["version"].GetString();
  }
  EXPECT_EQ(status["fixture_good"], "running");
  EXPECT_EQ(version["fixture_good"], "1.2.3");
  EXPECT_EQ(status["fixture_init_throws"], "disabled");
  EXPECT_EQ(version["fixture_init_throws"], "0.0.1");  // read without init
  EXPECT_EQ(status["fixture_wrong_major"], "failed");  // found, inspected, refused
  EXPECT_EQ(status["fixture_conflict"], "found");
}

TEST(Cli, RoutesListsTheTable) {
  auto r = run_plughost({"routes", "--config", good_config()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("/api/good/items/:id"), std::string::npos) << r.out;
  auto j = run_plughost({"routes", "--json", "--config", good_config()});
  rapidjson::Document d;
  d.Parse(j.out.c_str());
  ASSERT_TRUE(!d.HasParseError() && d.IsArray()) << j.out;
  bool found = false;
  for (const auto& route : d.GetArray()) {
    if (std::string(route["path"].GetString()) == "/api/good/echo") {
      found = true;
      EXPECT_EQ(std::string(route["method"].GetString()), "POST");
      EXPECT_EQ(std::string(route["plugin"].GetString()), "fixture_good");
      EXPECT_EQ(std::string(route["permission"].GetString()), "good.write");
    }
  }
  EXPECT_TRUE(found) << j.out;
}

}  // namespace
}  // namespace itest

namespace itest {
namespace {

TEST(Cli, NewPluginRefusesBadNamesMissingArgumentsAndNonEmptyDirectories) {
  std::string dir = make_temp_dir();
  EXPECT_EQ(run_plughost({"new-plugin", "Bad-Name", dir + "/x"}).exit_code, 2);
  EXPECT_EQ(run_plughost({"new-plugin", "ok_name"}).exit_code, 2);
  std::filesystem::create_directories(dir + "/full");
  write_file(dir + "/full/file.txt", "taken");
  auto taken = run_plughost({"new-plugin", "ok_name", dir + "/full"});
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_NE(taken.err.find("not empty"), std::string::npos) << taken.err;
  auto ok = run_plughost({"new-plugin", "ok_name", dir + "/fresh"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  std::string plugin = read_file(dir + "/fresh/src/plugin.cpp");
  EXPECT_NE(plugin.find("PLUGHOST_PLUGIN(ok_name::Plugin, \"ok_name\""), std::string::npos);
  EXPECT_EQ(plugin.find("{{"), std::string::npos);  // every placeholder filled
}

}  // namespace
}  // namespace itest
