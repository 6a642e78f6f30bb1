#include "plugin/loader.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "plugin/host_api.hpp"

namespace plughost {
namespace {

const std::string kHostAbi =
    "host ABI " + std::to_string(PH_ABI_MAJOR) + "." + std::to_string(PH_ABI_MINOR);

// A PluginSet over the fixture plugins directory with the given plugins enabled, in order.
class LoaderTest : public ::testing::Test {
 protected:
  LoaderTest() : log_(LogLevel::kError, LogFormat::kText, std::tmpfile()) {
    config_.file = "test.yaml";
    config_.plugins_dir = FIXTURE_PLUGIN_DIR;
  }
  ~LoaderTest() override { set_.reset(); }

  void enable(const std::string& name, bool required = false, std::string json = "{}") {
    PluginConfig pc;
    pc.name = name;
    pc.required = required;
    pc.config_json = std::move(json);
    pc.mark = {static_cast<int>(config_.plugins.size()) + 3, 3};
    config_.plugins.push_back(pc);
  }

  bool start() {
    set_ = std::make_unique<PluginSet>(log_, config_);
    return set_->start(diagnostics_);
  }

  const PluginRecord& record(const std::string& name) {
    for (const auto& r : set_->plugins()) {
      if (r->name == name) return *r;
    }
    ADD_FAILURE() << "no record for " << name;
    static PluginRecord none;
    return none;
  }

  Logger log_;
  Config config_;
  std::unique_ptr<PluginSet> set_;
  std::vector<Diagnostic> diagnostics_;
};

TEST_F(LoaderTest, LoadsAGoodPluginAndRegistersItsRoutes) {
  enable("fixture_good");
  ASSERT_TRUE(start());
  EXPECT_TRUE(diagnostics_.empty());
  const PluginRecord& r = record("fixture_good");
  EXPECT_EQ(r.status, PluginStatus::kRunning);
  EXPECT_EQ(r.version, "1.2.3");
  EXPECT_EQ(r.stability, "stable");
  EXPECT_EQ(r.abi_major, 1u);
  EXPECT_NE(r.config_schema.find("greeting"), std::string::npos);
  auto m = set_->registry().router().match("GET", "/api/good/items/5");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->plugin, "fixture_good");
  ASSERT_EQ(set_->registry().connectors().size(), 1u);
  EXPECT_EQ(set_->registry().connectors()[0].name, "upper");
}

TEST_F(LoaderTest, AppliesSchemaDefaultsToPluginConfig) {
  enable("fixture_good");
  ASSERT_TRUE(start());
  // The plugin reads config()["greeting"] unconditionally; it only works with the default applied.
  EXPECT_EQ(record("fixture_good").status, PluginStatus::kRunning);
}

TEST_F(LoaderTest, LoadsAPluginWrittenInC) {
  enable("fixture_c");
  ASSERT_TRUE(start());
  EXPECT_EQ(record("fixture_c").status, PluginStatus::kRunning);
  EXPECT_EQ(set_->registry().router().match("GET", "/api/c/hello").kind, RouteMatch::Kind::kFound);
}

TEST_F(LoaderTest, RejectsPluginWithDifferentMajorAbi) {
  enable("fixture_wrong_major");
  enable("fixture_good");
  EXPECT_TRUE(start());  // not required: the host carries on
  const PluginRecord& r = record("fixture_wrong_major");
  EXPECT_EQ(r.status, PluginStatus::kFailed);
  EXPECT_NE(r.error.find("plugin ABI 2.0"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(kHostAbi), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("plughost_fixture_wrong_major.so"), std::string::npos) << r.error;
  EXPECT_EQ(record("fixture_good").status, PluginStatus::kRunning);
  ASSERT_EQ(diagnostics_.size(), 1u);
  EXPECT_EQ(diagnostics_[0].line, 3);
}

TEST_F(LoaderTest, RejectsPluginWithNewerMinorAbi) {
  enable("fixture_newer_minor");
  start();
  const PluginRecord& r = record("fixture_newer_minor");
  EXPECT_EQ(r.status, PluginStatus::kFailed);
  EXPECT_NE(r.error.find(std::string("plugin ABI 1.99 is newer than ") + kHostAbi),
            std::string::npos)
      << r.error;
}

TEST_F(LoaderTest, InitThatThrowsDisablesPluginAndLeavesNoRoutes) {
  enable("fixture_init_throws");
  enable("fixture_good");
  EXPECT_TRUE(start());
  const PluginRecord& r = record("fixture_init_throws");
  EXPECT_EQ(r.status, PluginStatus::kFailed);
  EXPECT_NE(r.error.find("database unreachable at init"), std::string::npos) << r.error;
  EXPECT_EQ(set_->registry().router().match("GET", "/api/throws/never").kind,
            RouteMatch::Kind::kNotFound);
  EXPECT_FALSE(set_->all_running());
}

TEST_F(LoaderTest, RequiredPluginFailureFailsStart) {
  enable("fixture_init_throws", /*required=*/true);
  EXPECT_FALSE(start());
}

TEST_F(LoaderTest, LibraryWithoutEntrySymbolIsNotAPlugin) {
  enable("fixture_no_entry");
  start();
  const PluginRecord& r = record("fixture_no_entry");
  EXPECT_EQ(r.status, PluginStatus::kFailed);
  EXPECT_NE(r.error.find("not a plughost plugin"), std::string::npos) << r.error;
}

TEST_F(LoaderTest, FileThatIsNotALibraryIsReported) {
  enable("fixture_garbage");
  start();
  const PluginRecord& r = record("fixture_garbage");
  EXPECT_EQ(r.status, PluginStatus::kFailed);
  EXPECT_NE(r.error.find("cannot load library"), std::string::npos) << r.error;
}

TEST_F(LoaderTest, MissingPluginIsReported) {
  enable("fixture_nowhere");
  start();
  EXPECT_NE(record("fixture_nowhere").error.find("not found"), std::string::npos);
}

TEST_F(LoaderTest, ConflictingRouteFailsTheLaterPluginNamingBoth) {
  enable("fixture_good");
  enable("fixture_conflict");
  start();
  const PluginRecord& r = record("fixture_conflict");
  EXPECT_EQ(r.status, PluginStatus::kFailed);
  EXPECT_NE(r.error.find("'fixture_conflict'"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("'fixture_good'"), std::string::npos) << r.error;
  auto m = set_->registry().router().match("GET", "/api/good/items/1");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->plugin, "fixture_good");
}

TEST_F(LoaderTest, InvalidPluginConfigIsReportedAndPluginNotStarted) {
  enable("fixture_good", false, R"({"greting":"hi"})");
  start();
  EXPECT_EQ(record("fixture_good").status, PluginStatus::kFailed);
  ASSERT_FALSE(diagnostics_.empty());
  EXPECT_NE(diagnostics_[0].message.find("greting"), std::string::npos);
}

TEST_F(LoaderTest, DisabledPluginIsNotLoaded) {
  enable("fixture_good");
  config_.plugins.back().enabled = false;
  start();
  EXPECT_EQ(record("fixture_good").status, PluginStatus::kDisabled);
  EXPECT_FALSE(record("fixture_good").library.is_loaded());
}

TEST_F(LoaderTest, FoundButUnconfiguredPluginsAreListed) {
  start();
  EXPECT_EQ(record("fixture_c").status, PluginStatus::kFound);
}

TEST_F(LoaderTest, StopShutsDownAndUnloads) {
  enable("fixture_good");
  ASSERT_TRUE(start());
  set_->stop();
  EXPECT_EQ(record("fixture_good").status, PluginStatus::kStopped);
  EXPECT_FALSE(record("fixture_good").library.is_loaded());
  EXPECT_TRUE(set_->registry().routes().empty());
}

TEST_F(LoaderTest, RegistrationOutsideInitIsRefused) {
  enable("fixture_good");
  ASSERT_TRUE(start());
  ph_host* host = record("fixture_good").host.get();
  ASSERT_NE(host, nullptr);
  char msg[128] = {0};
  ph_error err{sizeof(ph_error), msg, sizeof(msg)};
  ph_route route{};
  route.struct_size = sizeof(route);
  route.method = "GET";
  route.path = "/late";
  route.handler = [](void*, const ph_request*, ph_response*, ph_error*) { return 0; };
  EXPECT_EQ(host_api_table()->register_route(host, &route, &err), PH_ERR_WRONG_STATE);
  EXPECT_STRNE(msg, "");
}

TEST_F(LoaderTest, ConnectorsAreCallableAcrossPlugins) {
  enable("fixture_good");
  ASSERT_TRUE(start());
  const ph_host_api* api = host_api_table();
  ph_host* host = record("fixture_good").host.get();
  ph_buffer* out = api->buffer_new(host);
  char msg[128] = {0};
  ph_error err{sizeof(ph_error), msg, sizeof(msg)};
  std::string in = "abc";
  ASSERT_EQ(
      api->invoke_connector(host, "text", "upper", {"apply", 5}, {in.data(), in.size()}, out, &err),
      PH_OK);
  ph_str v = api->buffer_view(out);
  EXPECT_EQ(std::string(v.data, v.size), "\"ABC\"");
  api->buffer_free(out);
  out = api->buffer_new(host);
  EXPECT_EQ(
      api->invoke_connector(host, "text", "upper", {"bogus", 5}, {in.data(), in.size()}, out, &err),
      PH_ERR_INTERNAL);
  EXPECT_STREQ(msg, "unknown operation");
  EXPECT_EQ(
      api->invoke_connector(host, "text", "lower", {"apply", 5}, {in.data(), in.size()}, out, &err),
      PH_ERR_NOT_FOUND);
  api->buffer_free(out);
}

}  // namespace
}  // namespace plughost
