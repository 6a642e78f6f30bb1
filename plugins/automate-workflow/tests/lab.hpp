// Test support for the automate-workflow HTTP tests: a started host with the plugin and a
// test authenticator ("Bearer <role>") on a fresh SQLite file, and assertion helpers.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <plughost/json.hpp>
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

struct LabOptions {
  bool fake_connectors = false;  // load the test plugin with fake retriever/rag + datachat
  std::string tasks = "{workers: 2, poll_interval_seconds: 0.05}";
};

// A started host with the plugin (its `config:` given) and the test authenticator.
class Lab {
 public:
  // On PostgreSQL (PLUGHOST_TEST_POSTGRES_URL, one database for the whole run) every tenant a
  // test names gets a per-Lab prefix, so tests never see each other's rows.
  explicit Lab(const std::string& plugin_config = "{}", LabOptions options = {})
      : dir_(plughost::testing::make_temp_dir()) {
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
    if (options.fake_connectors) {
      fs::create_symlink(AUTOMATE_TEST_AUTH_DIR "/plughost_automate_test_connectors.so",
                         plugins + "/plughost_automate_test_connectors.so");
    }
    yaml_ =
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
        storage + "\", pool_size: 3}\n" + "tasks: " + options.tasks + "\n" +
        "plugins_dir: " + plugins +
        "\n"
        "plugins:\n"
        "  automate_test_auth: {}\n" +
        (options.fake_connectors ? "  automate_test_connectors: {}\n" : "") +
        "  automate-workflow:\n"
        "    config: " +
        plugin_config + "\n";
    start();
  }
  ~Lab() {
    host_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Starts the host again on the same storage (after kill()).
  bool start() {
    host_ = std::make_unique<Host>(yaml_);
    ready_ = host_->wait_ready();
    return ready_;
  }
  // SIGKILL: no shutdown, no drain.
  void kill() {
    host_->signal(SIGKILL);
    host_->wait_exit();
  }
  bool ready() const { return ready_; }
  // The SQLite file the host stores into (unused on PostgreSQL).
  std::string sqlite_path() const { return dir_ + "/automate.db"; }
  int port() const { return host_->port(); }
  // The tenant header value for `tenant` (prefixed on PostgreSQL).
  std::string tenant_header(const std::string& tenant = {}) const {
    return tenant_prefix_ + (tenant.empty() ? "default" : tenant);
  }
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
  std::string yaml_;
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

inline std::string executions_path(const std::string& query = {}) {
  return "/api/automate/executions/" + query;
}

// Waits until the tenant has `n` executions, none QUEUED or RUNNING; returns the list.
inline rapidjson::Document finished_executions(Lab& lab, int n, const std::string& tenant = {},
                                               double seconds = 30) {
  rapidjson::Document list;
  bool done = plughost::testing::eventually(
      [&] {
        auto r = lab.call("GET", executions_path("?page_size=100"), {}, "admin", tenant);
        list = json(r);
        if (!list.IsObject() || !list.HasMember("count") || list["count"].GetInt() != n) {
          return false;
        }
        for (const auto& e : list["results"].GetArray()) {
          std::string s = e["status"].GetString();
          if (s == "QUEUED" || s == "RUNNING") return false;
        }
        return true;
      },
      seconds);
  EXPECT_TRUE(done) << plughost::sdk::to_json(list);
  return list;
}

// The execution's detail (with steps).
inline rapidjson::Document execution(Lab& lab, const std::string& id) {
  return json(lab.call("GET", executions_path(id + "/")));
}

// The step of `detail` for node `key` (fails the test when absent).
inline const rapidjson::Value& step_of(const rapidjson::Document& detail, const std::string& key) {
  static const rapidjson::Value kNone;
  for (const auto& s : detail["steps"].GetArray()) {
    if (key == s["node_key"].GetString()) return s;
  }
  ADD_FAILURE() << "no step " << key << " in " << plughost::sdk::to_json(detail);
  return kNone;
}

}  // namespace automate_test
