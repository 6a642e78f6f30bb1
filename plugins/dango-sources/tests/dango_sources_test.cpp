// Sources, config, status and file routes over HTTP against the real host; permissions through
// the accounts plugin.
#include <gtest/gtest.h>
#include <unistd.h>

#include "lab.hpp"

namespace {

using namespace dango_test;

TEST(dango_sources, ListsSourcesSortedCaseInsensitively) {
  Lab lab(
      LabSetup("[{name: Zeta, type: csv}, {name: alpha, type: csv, schedule: '0 3 * * *'},"
               " {name: Mid, type: json, enabled: false}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto r = lab.get("/api/sources");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  ASSERT_EQ(d.Size(), 3u);
  EXPECT_STREQ(d[0]["name"].GetString(), "alpha");
  EXPECT_STREQ(d[1]["name"].GetString(), "mid");
  EXPECT_STREQ(d[2]["name"].GetString(), "zeta");
  EXPECT_FALSE(d[1]["enabled"].GetBool());
  EXPECT_STREQ(d[1]["type"].GetString(), "json");
  EXPECT_STREQ(d[0]["status"].GetString(), "not_synced");
  EXPECT_TRUE(d[0]["last_sync"].IsNull());
  EXPECT_TRUE(d[0]["freshness"]["last_update"].IsNull());
  EXPECT_TRUE(d[0]["freshness"]["days_old"].IsNull());
  EXPECT_EQ(d[0]["row_count"].GetInt64(), 0);
  EXPECT_TRUE(d[0]["tables"].IsArray());
  EXPECT_STREQ(d[0]["schedule"].GetString(), "0 3 * * *");
  // The upload folders exist from the start.
  EXPECT_TRUE(fs::is_directory(lab.folder("zeta")));

  EXPECT_EQ(lab.get("/api/sources/nope/details").status, 404);
  EXPECT_EQ(lab.get("/api/sources/bad%20name/details").status, 400);
}

TEST(dango_sources, MasksSecretsInConfigAndDetails) {
  Lab lab(
      LabSetup("[{name: billing, type: csv, options: {api_key: sk_live_abcdef, password: abc,"
               " region: eu, auth: {client_secret: xyz12345, user: bob}, tokens: [tok_1234567]}}]",
               false, "warehouse: {url: \"sqlite://" + make_temp_dir() + "/wh.db\"}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto r = lab.get("/api/config");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("sk_live_abcdef"), std::string::npos);
  EXPECT_EQ(r.body.find("xyz12345"), std::string::npos);
  auto d = json(r);
  EXPECT_STREQ(d["warehouse"]["dialect"].GetString(), "sqlite");
  const auto& o = d["sources"][0]["options"];
  EXPECT_STREQ(o["api_key"].GetString(), "sk*ef");
  EXPECT_STREQ(o["password"].GetString(), "****");
  EXPECT_STREQ(o["region"].GetString(), "eu");
  EXPECT_STREQ(o["auth"]["client_secret"].GetString(), "xy*45");
  EXPECT_STREQ(o["auth"]["user"].GetString(), "bob");
  EXPECT_STREQ(o["tokens"][0].GetString(), "to*67");

  auto details = json(lab.get("/api/sources/billing/details"));
  EXPECT_STREQ(details["config"]["api_key"].GetString(), "sk*ef");
  EXPECT_STREQ(details["sync_mode"].GetString(), "incremental");
  EXPECT_TRUE(details["sync_history"].IsArray());

  auto status = json(lab.get("/api/status"));
  EXPECT_STREQ(status["status"].GetString(), "healthy");
  EXPECT_STREQ(status["warehouse"]["status"].GetString(), "healthy");
  EXPECT_EQ(status["total_sources"].GetInt64(), 1);
}

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lab_ = std::make_unique<Lab>(LabSetup{"[{name: up, type: csv}, {name: other, type: csv}]"});
    ASSERT_TRUE(lab_->ready()) << lab_->host().output();
    folder_ = lab_->folder("up");
    write_text(folder_ + "/a.csv", "id\n1\n2\n");
    write_text(folder_ + "/b.csv", "id\n3\n");
    ASSERT_EQ(lab_->sync_and_wait("up"), "success");
  }
  std::string del(const std::string& path, int& status) {
    std::string encoded;
    for (char c : path) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-') {
        encoded += c;
      } else {
        char buf[4];
        std::snprintf(buf, sizeof(buf), "%%%02X", static_cast<unsigned char>(c));
        encoded += buf;
      }
    }
    auto r = lab_->del("/api/sources/up/csv-files?file_path=" + encoded);
    status = r.status;
    return r.body;
  }
  std::unique_ptr<Lab> lab_;
  std::string folder_;
};

TEST_F(FilesTest, ListsFilesOnDiskAndInTheWarehouse) {
  write_text(folder_ + "/new.csv", "id\n9\n");
  auto d = json(lab_->get("/api/sources/up/csv-files"));
  EXPECT_EQ(d["total_files"].GetInt64(), 3);
  EXPECT_EQ(std::string(d["directory"].GetString()), folder_);
  const auto& files = d["files"];
  EXPECT_STREQ(files[0]["filename"].GetString(), "a.csv");
  EXPECT_TRUE(files[0]["in_database"].GetBool());
  EXPECT_EQ(files[0]["row_count"].GetInt64(), 2);
  EXPECT_TRUE(files[0]["on_disk"].GetBool());
  EXPECT_EQ(files[0]["size_bytes"].GetInt64(), 7);
  EXPECT_STREQ(files[2]["filename"].GetString(), "new.csv");
  EXPECT_FALSE(files[2]["in_database"].GetBool());
}

TEST_F(FilesTest, DeletesOnlyInsideTheSourceFolder) {
  const std::string outside = lab_->dir() + "/secret.csv";
  write_text(outside, "id\n1\n");
  write_text(lab_->folder("other") + "/o.csv", "id\n1\n");
  ASSERT_EQ(::symlink(outside.c_str(), (folder_ + "/link.csv").c_str()), 0);
  int status = 0;
  for (const std::string& path : {folder_ + "/../../../secret.csv", std::string("../other/o.csv"),
                                  outside, lab_->folder("other") + "/o.csv", folder_ + "/link.csv",
                                  std::string("/etc/passwd"), folder_ + "/sub/../a.csv"}) {
    std::string body = del(path, status);
    EXPECT_EQ(status, 403) << path << " " << body;
  }
  EXPECT_TRUE(fs::exists(outside));
  EXPECT_TRUE(fs::exists(lab_->folder("other") + "/o.csv"));
  EXPECT_TRUE(fs::is_symlink(folder_ + "/link.csv"));
  EXPECT_TRUE(fs::exists(folder_ + "/a.csv"));

  std::string body = del(folder_ + "/missing.csv", status);
  EXPECT_EQ(status, 404) << body;
  EXPECT_EQ(lab_->del("/api/sources/up/csv-files").status, 422);

  body = del(folder_ + "/a.csv", status);
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(json(lab_->get("/api/sources/up/csv-files"))["files"][0]["filename"].GetString(),
            std::string("b.csv"));
  EXPECT_FALSE(fs::exists(folder_ + "/a.csv"));
  EXPECT_EQ(scalar(lab_->warehouse(), "SELECT COUNT(*) FROM raw_up__up"), "1");
  EXPECT_NE(body.find("\"rows_deleted\":2"), std::string::npos) << body;
}

#ifdef DANGO_WITH_ACCOUNTS
TEST(dango_permissions, EnforcesTheSeedsPermissions) {
  LabSetup setup;
  setup.sources = "[{name: perm, type: csv}]";
  setup.with_accounts = true;
  Lab lab(setup);
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("perm") + "/a.csv", "id\n1\n");

  // Public: status and config. Bare "None": any signed-in caller.
  EXPECT_EQ(lab.get("/api/status").status, 200);
  EXPECT_EQ(lab.get("/api/config").status, 200);
  for (const char* path : {"/api/sources", "/api/sources/perm/details", "/api/sources/perm/logs",
                           "/api/logs", "/api/sources/perm/csv-files"}) {
    auto r = lab.get(path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_STREQ(json(r)["error_code"].GetString(), "DANGO-S001") << path;
  }
  auto anonymous_sync = lab.post("/api/sources/perm/sync");
  EXPECT_EQ(anonymous_sync.status, 401);

  auto login = http(
      lab.port(), "POST", "/api/auth/login", {{"Content-Type", "application/json"}},
      std::string("{\"email\":\"") + kAdminEmail + "\",\"password\":\"" + kAdminPassword + "\"}");
  ASSERT_EQ(login.status, 200) << login.body;
  std::string sc = login.header("set-cookie");
  std::string admin = sc.substr(sc.find("dango_session="), sc.find(';', sc.find("dango_session=")) -
                                                               sc.find("dango_session="));
  std::string viewer = sign_in_as(lab, admin, "viewer@example.com", "viewer");
  std::string editor = sign_in_as(lab, admin, "editor@example.com", "editor");
  Headers json_write = {{"Content-Type", "application/json"}, {"X-Requested-With", "t"}};

  auto as = [&](const std::string& cookie, const std::string& method, const std::string& path,
                const std::string& body = "") {
    Headers h = json_write;
    h["Cookie"] = cookie;
    return http(lab.port(), method, path, h, body);
  };
  EXPECT_EQ(as(viewer, "GET", "/api/sources").status, 200);
  auto denied = as(viewer, "POST", "/api/sources/perm/sync", "{}");
  EXPECT_EQ(denied.status, 403);
  EXPECT_STREQ(json(denied)["error_code"].GetString(), "DANGO-S002");
  EXPECT_STREQ(json(denied)["message"].GetString(), "Permission denied: source.sync");
  EXPECT_EQ(as(viewer, "POST", "/api/sync/trigger", "{\"sources\":[\"perm\"]}").status, 403);
  EXPECT_EQ(as(viewer, "GET", "/api/sync/status/1").status, 403);
  auto no_delete = as(viewer, "DELETE", "/api/sources/perm/csv-files?file_path=a.csv");
  EXPECT_EQ(no_delete.status, 403);
  EXPECT_STREQ(json(no_delete)["message"].GetString(), "Permission denied: csv.delete");
  EXPECT_TRUE(fs::exists(lab.folder("perm") + "/a.csv"));

  // A cookie write without the CSRF header is refused even for an editor.
  auto no_csrf = http(lab.port(), "POST", "/api/sources/perm/sync",
                      {{"Cookie", editor}, {"Content-Type", "application/json"}}, "{}");
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_STREQ(json(no_csrf)["error_code"].GetString(), "DANGO-S002");

  auto ok = as(editor, "POST", "/api/sources/perm/sync", "{}");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(as(editor, "DELETE", "/api/sources/perm/csv-files?file_path=a.csv").status, 200);
}
#endif

}  // namespace
