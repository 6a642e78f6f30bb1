// Test support for the automate-workflow HTTP tests: a started host with the plugin and a
// test authenticator ("Bearer <role>") on a fresh SQLite file, and assertion helpers.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <plughost/testing.hpp>
#include <string>
#include <vector>

namespace automate_test {

namespace fs = std::filesystem;
using plughost::testing::Host;
using plughost::testing::HttpResponse;
using plughost::testing::json;
using Headers = std::map<std::string, std::string>;

inline const char* kWorkflows = "/api/automate/workflows/";

// A started host with the plugin (its `config:` given) and the test authenticator.
class Lab {
 public:
  // On PostgreSQL (PLUGHOST_TEST_POSTGRES_URL, one database for the whole run) every tenant a
  // test names gets a per-Lab prefix, so tests never see each other's rows.
  explicit Lab(const std::string& plugin_config = "{}") : dir_(plughost::testing::make_temp_dir()) {
    const char* pg = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
    std::string storage = "sqlite://" + dir_ + "/automate.db";
    if (pg && *pg) {
      storage = pg;
      tenant_prefix_ = fs::path(dir_).filename().string() + "-";
    }
    std::string plugins = dir_ + "/plugins";
    fs::create_directories(plugins);
    fs::create_symlink(PLUGHOST_TEST_PLUGIN_DIR "/plughost_automate-workflow.so",
                       plugins + "/plughost_automate-workflow.so");
    fs::create_symlink(AUTOMATE_TEST_AUTH_DIR "/plughost_automate_test_auth.so",
                       plugins + "/plughost_automate_test_auth.so");
    host_ = std::make_unique<Host>(
        "version: 1\n"
        "server: {listen: 127.0.0.1:0}\n"
        "log: {format: json, access: false}\n"
        "auth:\n"
        "  enabled: true\n"
        "  roles:\n"
        "    admin: ['*']\n"
        "    editor: [workflows.read, workflows.write, events.write, events.read]\n"
        "    viewer: [workflows.read]\n"
        "rate_limits: {enabled: false}\n"
        "storage: {url: \"" +
        storage + "\", pool_size: 3}\n" + "tasks: {workers: 2, poll_interval_seconds: 0.05}\n" +
        "plugins_dir: " + plugins +
        "\n"
        "plugins:\n"
        "  automate_test_auth: {}\n"
        "  automate-workflow:\n"
        "    config: " +
        plugin_config + "\n");
    ready_ = host_->wait_ready();
  }
  ~Lab() {
    host_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool ready() const { return ready_; }
  std::string output() { return host_->output(); }

  HttpResponse call(const std::string& method, const std::string& path,
                    const std::string& body = {}, const std::string& role = "admin",
                    const std::string& tenant = {}, Headers headers = {}) {
    if (!role.empty()) headers["Authorization"] = "Bearer " + role;
    if (!tenant_prefix_.empty()) {
      headers["X-Tenant-ID"] = tenant_prefix_ + (tenant.empty() ? "default" : tenant);
    } else if (!tenant.empty()) {
      headers["X-Tenant-ID"] = tenant;
    }
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return plughost::testing::http(host_->port(), method, path, headers, body);
  }

  // Creates a workflow and returns its JSON (fails the test unless 201).
  rapidjson::Document create(const std::string& body, const std::string& tenant = {}) {
    auto r = call("POST", kWorkflows, body, "admin", tenant);
    EXPECT_EQ(r.status, 201) << r.body;
    return json(r);
  }

 private:
  std::string dir_;
  std::string tenant_prefix_;
  std::unique_ptr<Host> host_;
  bool ready_ = false;
};

inline std::string named(const std::string& name) {
  return R"({"name":")" + name + R"("})";
}

inline std::vector<std::string> detail_fields(const rapidjson::Document& d) {
  std::vector<std::string> out;
  for (const auto& e : d["error"]["details"].GetArray()) out.push_back(e["field"].GetString());
  return out;
}

inline void expect_validation_error(const HttpResponse& r, const std::vector<std::string>& fields) {
  ASSERT_EQ(r.status, 400) << r.body;
  auto d = json(r);
  EXPECT_STREQ(d["error"]["code"].GetString(), "VALIDATION_ERROR");
  EXPECT_EQ(detail_fields(d), fields) << r.body;
}

}  // namespace automate_test
