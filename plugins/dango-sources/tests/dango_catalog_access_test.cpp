// GET /api/catalog/summary by permission, against the real host with custom roles from the host
// config (`auth.roles`; a test authenticator maps "Bearer <role>" to a user holding that role):
// a role with source.view but not governance.view gets the restricted view — every source, its
// tables, columns and freshness, and the models, but no quality signals (PII columns, pending
// drift) — while a role with governance.view gets them, and one without source.view gets 403.
#include <gtest/gtest.h>

#include <plughost/json.hpp>
#include <string>

#include "lab.hpp"

namespace {

using namespace dango_test;
using plughost::sdk::to_json;

class AccessLab {
 public:
  AccessLab() : dir_(make_temp_dir()) {
    std::string plugins = dir_ + "/plugins";
    fs::create_directories(plugins);
    fs::create_symlink(PLUGHOST_TEST_PLUGIN_DIR "/plughost_dango-sources.so",
                       plugins + "/plughost_dango-sources.so");
    fs::create_symlink(DANGO_TEST_SOURCE_DIR "/plughost_dango_test_auth.so",
                       plugins + "/plughost_dango_test_auth.so");
    std::string yaml =
        "version: 1\n"
        "server: {listen: 127.0.0.1:0, threads: 4}\n"
        "log: {format: json, access: false}\n"
        "storage: {url: \"sqlite://" +
        dir_ +
        "/host.db\", pool_size: 4}\n"
        "tasks: {workers: 2, poll_interval_seconds: 0.02}\n"
        "auth:\n"
        "  enabled: true\n"
        "  roles:\n"
        "    admin: ['*']\n"
        "    analyst: [source.view]\n"
        "    steward: [source.view, governance.view]\n"
        "    notebooker: [notebooks.view]\n"
        "rate_limits: {enabled: false}\n"
        "plugins_dir: " +
        plugins +
        "\nplugins:\n"
        "  dango_test_auth: {}\n"
        "  dango-sources:\n"
        "    config: {data_dir: \"" +
        dir_ + "/data\", sources: [{name: customers, type: csv}], dbt: {project_dir: \"" +
        DANGO_FIXTURES_DIR + "/dbt_shop\"}}\n";
    host_ = std::make_unique<Host>(yaml);
    ready_ = host_->wait_ready();
  }
  ~AccessLab() {
    host_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool ready() const { return ready_; }
  Host& host() { return *host_; }
  std::string folder() const { return dir_ + "/data/uploads/customers"; }
  HttpResponse call(const std::string& role, const std::string& method, const std::string& target,
                    const std::string& body = "") {
    std::map<std::string, std::string> h{{"Authorization", "Bearer " + role}};
    if (!body.empty()) h["Content-Type"] = "application/json";
    return http(host_->port(), method, target, h, body);
  }

 private:
  std::string dir_;
  std::unique_ptr<Host> host_;
  bool ready_ = false;
};

TEST(dango_catalog_access, SummaryHidesQualitySignalsWithoutGovernanceView) {
  AccessLab lab;
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder() + "/c.csv",
             "id,email,country\n1,ada@example.com,UK\n2,grace@example.org,US\n");
  auto sync = lab.call("admin", "POST", "/api/sources/customers/sync", "{}");
  ASSERT_EQ(sync.status, 200) << sync.body;
  ASSERT_TRUE(eventually(
      [&] {
        auto d = json(lab.call("admin", "GET", "/api/sources/customers/details"));
        return d["sync_history"].Size() > 0 &&
               std::string(d["sync_history"][0]["status"].GetString()) == "success";
      },
      30));

  // The analyst's role really lacks governance.view: the governance routes refuse it.
  EXPECT_EQ(lab.call("analyst", "GET", "/api/governance/pii").status, 403);
  EXPECT_EQ(lab.call("steward", "GET", "/api/governance/pii").status, 200);

  auto restricted = lab.call("analyst", "GET", "/api/catalog/summary");
  ASSERT_EQ(restricted.status, 200) << restricted.body;
  auto r = json(restricted);
  EXPECT_TRUE(r["restricted"].GetBool());
  ASSERT_EQ(r["sources"].Size(), 1u);
  const auto& src = r["sources"][0];
  // What stays: the source, its schema, freshness and tables with their columns and row counts.
  EXPECT_STREQ(src["name"].GetString(), "customers");
  EXPECT_STREQ(src["schema"].GetString(), "raw_customers");
  EXPECT_STREQ(src["last_sync_status"].GetString(), "success");
  EXPECT_STREQ(src["freshness"]["status"].GetString(), "fresh");
  ASSERT_EQ(src["tables"].Size(), 1u);
  EXPECT_EQ(src["tables"][0]["row_count"].GetInt64(), 2);
  bool has_email = false;
  for (const auto& c : src["tables"][0]["columns"].GetArray()) {
    has_email = has_email || std::string(c["name"].GetString()) == "email";
  }
  EXPECT_TRUE(has_email) << to_json(src);
  EXPECT_EQ(r["models"].Size(), 5u);
  // What is hidden: the quality signals (PII findings, pending breaking drift).
  EXPECT_FALSE(src.HasMember("quality")) << to_json(src);
  EXPECT_EQ(restricted.body.find("pii"), std::string::npos) << restricted.body;

  auto full = lab.call("steward", "GET", "/api/catalog/summary");
  ASSERT_EQ(full.status, 200) << full.body;
  auto f = json(full);
  EXPECT_FALSE(f["restricted"].GetBool());
  const auto& fs = f["sources"][0];
  ASSERT_TRUE(fs.HasMember("quality")) << to_json(fs);
  EXPECT_EQ(fs["quality"]["pending_breaking_drift"].GetInt64(), 0);
  ASSERT_EQ(fs["quality"]["pii_columns"].Size(), 1u) << to_json(fs);
  EXPECT_NE(std::string(fs["quality"]["pii_columns"][0].GetString()).find("email"),
            std::string::npos);
  // Everything the analyst saw, the steward sees too.
  EXPECT_EQ(to_json(fs["tables"]), to_json(src["tables"]));
  EXPECT_EQ(f["models"].Size(), r["models"].Size());

  // Without source.view, no summary at all.
  EXPECT_EQ(lab.call("notebooker", "GET", "/api/catalog/summary").status, 403);
  EXPECT_EQ(lab.call("nobody-known", "GET", "/api/catalog/summary").status, 403);
}

}  // namespace
