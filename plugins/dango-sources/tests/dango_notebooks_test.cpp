// Notebooks over HTTP against the real host, with two real users (a test authenticator maps
// "Bearer <user>" to a user of that name whose role is defined in the host config): templates,
// list with lock status, create/copy/delete, a contended lock (409 naming the holder), heartbeat,
// release and an admin's force-release.
#include <gtest/gtest.h>

#include <filesystem>
#include <plughost/testing.hpp>

namespace {

namespace fs = std::filesystem;
using namespace plughost::testing;

class NotebookLab {
 public:
  explicit NotebookLab(const std::string& extra = "") : dir_(make_temp_dir()) {
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
        "auth:\n"
        "  enabled: true\n"
        "  roles:\n"
        "    admin: ['*']\n"
        "    alice: [notebooks.view, notebooks.execute]\n"
        "    bob: [notebooks.view, notebooks.execute]\n"
        "    viewer: [notebooks.view]\n"
        "rate_limits: {enabled: false}\n"
        "plugins_dir: " +
        plugins +
        "\nplugins:\n"
        "  dango_test_auth: {}\n"
        "  dango-sources:\n"
        "    config: {data_dir: \"" +
        dir_ + "/data\"" + extra + "}\n";
    host_ = std::make_unique<Host>(yaml);
    ready_ = host_->wait_ready();
  }
  bool ready() const { return ready_; }
  Host& host() { return *host_; }
  std::string notebooks() const { return dir_ + "/data/notebooks"; }
  HttpResponse call(const std::string& user, const std::string& method, const std::string& target,
                    const std::string& body = "") {
    std::map<std::string, std::string> h{{"Authorization", "Bearer " + user}};
    if (!body.empty()) h["Content-Type"] = "application/json";
    return http(host_->port(), method, target, h, body);
  }

 private:
  std::string dir_;
  std::unique_ptr<Host> host_;
  bool ready_ = false;
};

TEST(dango_notebooks, CreatesFromTemplatesListsCopiesAndDeletes) {
  NotebookLab lab;
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto made =
      lab.call("alice", "POST", "/api/notebooks", R"({"name":"churn","template":"explore"})");
  ASSERT_EQ(made.status, 201) << made.body;
  std::string text = read_file(lab.notebooks() + "/churn.py");
  EXPECT_NE(text.find("marimo.App"), std::string::npos);
  EXPECT_NE(text.find("information_schema.tables"), std::string::npos);
  ASSERT_EQ(lab.call("alice", "POST", "/api/notebooks", R"({"name":"checks","template":"quality"})")
                .status,
            201);
  EXPECT_EQ(lab.call("alice", "POST", "/api/notebooks", R"({"name":"blank1"})").status, 201);

  auto dup = lab.call("bob", "POST", "/api/notebooks", R"({"name":"churn"})");
  EXPECT_EQ(dup.status, 400);
  EXPECT_STREQ(json(dup)["error_code"].GetString(), "DANGO-NB003");
  auto bad_name = lab.call("bob", "POST", "/api/notebooks", R"({"name":"../etc/passwd"})");
  EXPECT_EQ(bad_name.status, 400);
  EXPECT_STREQ(json(bad_name)["error_code"].GetString(), "DANGO-NB001");
  auto bad_template = lab.call("bob", "POST", "/api/notebooks", R"({"name":"x","template":"ml"})");
  EXPECT_EQ(bad_template.status, 400);
  EXPECT_STREQ(json(bad_template)["error_code"].GetString(), "DANGO-NB002");
  EXPECT_EQ(lab.call("viewer", "POST", "/api/notebooks", R"({"name":"v"})").status, 403);

  auto list = json(lab.call("viewer", "GET", "/api/notebooks"));
  ASSERT_EQ(list["count"].GetInt64(), 3);
  EXPECT_STREQ(list["notebooks"][0]["name"].GetString(), "blank1");
  EXPECT_STREQ(list["notebooks"][1]["name"].GetString(), "checks");
  EXPECT_STREQ(list["notebooks"][2]["created_by"].GetString(), "alice");
  EXPECT_FALSE(list["notebooks"][2]["locked"].GetBool());
  EXPECT_EQ(list["templates"].Size(), 3u);

  auto copy = lab.call("bob", "POST", "/api/notebooks/churn/copy", "{}");
  ASSERT_EQ(copy.status, 201) << copy.body;
  EXPECT_STREQ(json(copy)["name"].GetString(), "churn_copy");
  EXPECT_EQ(read_file(lab.notebooks() + "/churn_copy.py"), text);
  EXPECT_STREQ(json(lab.call("bob", "POST", "/api/notebooks/churn/copy", "{}"))["name"].GetString(),
               "churn_copy_2");

  // Only the creator (or notebooks.manage) deletes.
  auto not_mine = lab.call("bob", "DELETE", "/api/notebooks/churn");
  EXPECT_EQ(not_mine.status, 403);
  EXPECT_STREQ(json(not_mine)["error_code"].GetString(), "DANGO-NB005");
  EXPECT_EQ(lab.call("bob", "DELETE", "/api/notebooks/churn_copy").status, 200);
  EXPECT_FALSE(fs::exists(lab.notebooks() + "/churn_copy.py"));
  EXPECT_EQ(lab.call("admin", "DELETE", "/api/notebooks/churn").status, 200);
  auto gone = lab.call("alice", "DELETE", "/api/notebooks/churn");
  EXPECT_EQ(gone.status, 404);
  EXPECT_STREQ(json(gone)["error_code"].GetString(), "DANGO-NB004");
}

TEST(dango_notebooks, TwoUsersContendForTheEditingLock) {
  NotebookLab lab(", notebooks: {editor_url: \"http://marimo.local:2718/?file={name}.py\"}");
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  ASSERT_EQ(lab.call("alice", "POST", "/api/notebooks", R"({"name":"sales"})").status, 201);

  auto mine = lab.call("alice", "POST", "/api/notebooks/sales/lock", "{}");
  ASSERT_EQ(mine.status, 200) << mine.body;
  auto lock = json(mine);
  EXPECT_STREQ(lock["lock"]["locked_by"].GetString(), "alice");
  EXPECT_STREQ(lock["editor"]["url"].GetString(), "http://marimo.local:2718/?file=sales.py");
  EXPECT_EQ(lock["lock_minutes"].GetInt64(), 15);
  std::string first_expiry = lock["lock"]["expires_at"].GetString();

  auto theirs = lab.call("bob", "POST", "/api/notebooks/sales/lock", "{}");
  EXPECT_EQ(theirs.status, 409);
  EXPECT_STREQ(json(theirs)["error_code"].GetString(), "DANGO-NB006");
  EXPECT_STREQ(json(theirs)["locked_by"].GetString(), "alice");
  EXPECT_NE(std::string(json(theirs)["message"].GetString()).find("alice"), std::string::npos);
  EXPECT_EQ(lab.call("bob", "POST", "/api/notebooks/sales/heartbeat", "{}").status, 409);
  EXPECT_EQ(lab.call("bob", "POST", "/api/notebooks/sales/release", "{}").status, 409);
  EXPECT_EQ(lab.call("bob", "DELETE", "/api/notebooks/sales/lock").status, 403);

  auto list = json(lab.call("bob", "GET", "/api/notebooks"));
  EXPECT_TRUE(list["notebooks"][0]["locked"].GetBool());
  EXPECT_STREQ(list["notebooks"][0]["locked_by"].GetString(), "alice");
  EXPECT_FALSE(list["notebooks"][0]["locked_by_me"].GetBool());

  auto beat = lab.call("alice", "POST", "/api/notebooks/sales/heartbeat", "{}");
  ASSERT_EQ(beat.status, 200) << beat.body;
  EXPECT_GE(std::string(json(beat)["lock"]["expires_at"].GetString()), first_expiry);

  // The admin takes it away; Bob can then lock it, and Alice is the one refused.
  auto forced = lab.call("admin", "DELETE", "/api/notebooks/sales/lock");
  ASSERT_EQ(forced.status, 200) << forced.body;
  EXPECT_STREQ(json(forced)["released_from"].GetString(), "alice");
  EXPECT_EQ(lab.call("alice", "POST", "/api/notebooks/sales/heartbeat", "{}").status, 409);
  ASSERT_EQ(lab.call("bob", "POST", "/api/notebooks/sales/lock", "{}").status, 200);
  auto refused = lab.call("alice", "POST", "/api/notebooks/sales/lock", "{}");
  EXPECT_EQ(refused.status, 409);
  EXPECT_STREQ(json(refused)["locked_by"].GetString(), "bob");
  // Deleting a notebook someone else is editing is refused too, even for its creator.
  EXPECT_EQ(lab.call("alice", "DELETE", "/api/notebooks/sales").status, 409);
  ASSERT_EQ(lab.call("bob", "POST", "/api/notebooks/sales/release", "{}").status, 200);
  ASSERT_EQ(lab.call("alice", "POST", "/api/notebooks/sales/lock", "{}").status, 200);
}

}  // namespace
