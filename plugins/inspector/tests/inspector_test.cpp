// The inspector plugin through the real host binary, on a real Django project (Debian's
// python3-django): status numbers from the project, real `check`/`showmigrations` runs,
// timeouts that kill the whole process group, the allow-list, form validation and CSRF.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <plughost/json.hpp>
#include <plughost/testing.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "sample_project.hpp"

namespace inspector_test {
namespace {

using plughost::testing::eventually;
using plughost::testing::Host;
using plughost::testing::http;
using plughost::testing::HttpResponse;
using plughost::testing::json;
using plughost::testing::make_temp_dir;

constexpr double kPatience = 90;  // seconds; a safety net for eventually(), never a wait

struct Options {
  std::string extra_config;  // more keys under the plugin's `config:`
  std::string auth = "{enabled: false}";
  std::string storage;  // sqlite file; default: one in the host's temp dir
};

// The test's world: a sample workspace and a host serving it.
class inspector_api : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = django_python();
    if (python_.empty()) GTEST_SKIP() << "no python with Django (apt-get install python3-django)";
    dir_ = make_temp_dir();
    workspace_ = create_sample_project(dir_, python_);
  }

  std::string config(const Options& o = {}) const {
    std::string storage = o.storage.empty() ? dir_ + "/host.db" : o.storage;
    return "version: 1\n"
           "auth: " +
           o.auth +
           "\n"
           "server: {listen: 127.0.0.1:0}\n"
           "log: {format: json, access: false}\n"
           "storage: {url: \"sqlite://" +
           storage +
           "\"}\n"
           "tasks: {workers: 2, poll_interval_seconds: 0.02}\n"
           "rate_limits: {enabled: false}\n"
           "plugins_dir: " PLUGHOST_TEST_PLUGIN_DIR
           "\n"
           "plugins:\n"
           "  inspector:\n"
           "    required: true\n"
           "    config:\n"
           "      scan_cron: \"\"\n"
           "      workspaces:\n"
           "        - {slug: atlas, name: Atlas, path: \"" +
           workspace_ + "\", python: \"" + python_ +
           "\",\n"
           "           doc_links: [{title: Atlas notes, url: \"https://example.test/atlas\"}]}\n"
           "      doc_links:\n"
           "        - {title: \"Integration guide\", url: \"https://djdesk.example/guide\","
           " icon: play, pane_target: hello}\n" +
           o.extra_config;
  }

  void start(const Options& o = {}) {
    host_ = std::make_unique<Host>(config(o));
    ASSERT_TRUE(host_->wait_ready()) << host_->output();
  }

  int port() const { return host_->port(); }

  HttpResponse get(const std::string& path, const std::map<std::string, std::string>& h = {}) {
    return http(port(), "GET", path, h);
  }
  HttpResponse post_form(const std::string& body, std::map<std::string, std::string> h = {}) {
    h["Content-Type"] = "application/x-www-form-urlencoded";
    return http(port(), "POST", "/api/task-runs/", h, body);
  }
  HttpResponse post_json(const std::string& body) {
    return http(port(), "POST", "/api/task-runs/", {{"Content-Type", "application/json"}}, body);
  }

  rapidjson::Document status() { return json(get("/api/workspaces/atlas/status/")); }

  // Waits until both start-up scans of the workspace completed.
  bool scans_completed() {
    return eventually(
        [&] {
          auto s = status();
          int done = 0;
          for (const auto& scan : s["scans"].GetArray()) {
            done += std::string(scan["status"].GetString()) == "completed";
          }
          return done >= 2;
        },
        kPatience);
  }

  // Waits until run `id` settled; returns GET /api/task-runs/<id>/.
  rapidjson::Document settled_run(int64_t id) {
    std::string path = "/api/task-runs/" + std::to_string(id) + "/";
    rapidjson::Document run;
    EXPECT_TRUE(eventually(
        [&] {
          run = json(get(path));
          std::string s = run["status"].GetString();
          return s == "succeeded" || s == "failed" || s == "cancelled";
        },
        kPatience))
        << host_->output();
    return run;
  }

  // Posts a run of `preset` and waits until it settled.
  rapidjson::Document run_preset(const std::string& preset) {
    auto r = post_form("workspace=atlas&preset=" + preset + "&confirm_safe=on");
    EXPECT_EQ(r.status, 201) << r.body;
    return settled_run(json(r)["task_run"]["id"].GetInt64());
  }

  std::string python_, dir_, workspace_;
  std::unique_ptr<Host> host_;
};

const rapidjson::Value* find_by(const rapidjson::Value& list, const char* key,
                                const std::string& value) {
  for (const auto& item : list.GetArray()) {
    if (item[key].GetString() == value) return &item;
  }
  return nullptr;
}

std::vector<std::string> strings(const rapidjson::Value& list) {
  std::vector<std::string> out;
  for (const auto& s : list.GetArray()) out.emplace_back(s.GetString());
  return out;
}

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

TEST_F(inspector_api, StatusNumbersMatchTheSampleProject) {
  start();
  ASSERT_TRUE(scans_completed()) << host_->output();
  auto s = status();
  EXPECT_EQ(std::string(s["workspace"].GetString()), "atlas");

  ASSERT_EQ(s["apps"].Size(), 2u) << plughost::sdk::to_json(s["apps"]);
  const auto* catalog = find_by(s["apps"], "label", "studio.catalog");
  const auto* ops = find_by(s["apps"], "label", "studio.ops");
  ASSERT_TRUE(catalog && ops);
  EXPECT_EQ((*catalog)["models"].GetInt(), 3);
  EXPECT_EQ((*catalog)["pending_migrations"].GetInt(), 1);
  EXPECT_EQ((*ops)["models"].GetInt(), 1);
  EXPECT_EQ((*ops)["pending_migrations"].GetInt(), 0);

  const auto& nodes = s["schema"]["nodes"];
  ASSERT_EQ(nodes.Size(), 4u);
  const auto* dataset = find_by(nodes, "name", "Dataset");
  ASSERT_TRUE(dataset);
  EXPECT_EQ(strings((*dataset)["fields"]), (std::vector<std::string>{"id", "slug", "owner_id"}));
  auto relations = strings((*dataset)["relations"]);
  EXPECT_TRUE(contains(relations, "Owner") && contains(relations, "Snapshot") &&
              contains(relations, "Monitor"))
      << plughost::sdk::to_json(*dataset);
  const auto* owner = find_by(nodes, "name", "Owner");
  ASSERT_TRUE(owner);
  EXPECT_EQ(strings((*owner)["relations"]), std::vector<std::string>{"Dataset"});

  const auto* pending = find_by(s["insights"], "title", "Pending migrations");
  ASSERT_TRUE(pending);
  EXPECT_EQ(std::string((*pending)["value"].GetString()), "1");
  EXPECT_EQ(std::string((*pending)["delta"].GetString()), "first sync");
  const auto* models = find_by(s["insights"], "title", "Models");
  ASSERT_TRUE(models);
  EXPECT_EQ(std::string((*models)["value"].GetString()), "4");

  ASSERT_EQ(s["scans"].Size(), 2u);
  for (const auto& scan : s["scans"].GetArray()) {
    std::string kind = scan["kind"].GetString();
    EXPECT_EQ(std::string(scan["kind_label"].GetString()),
              kind == "schema" ? "Schema ingest" : "Migration diff");
    EXPECT_EQ(scan["progress"].GetInt(), 100);
    EXPECT_TRUE(scan["started_at"].IsString() && scan["completed_at"].IsString());
  }
  const auto* schema_scan = find_by(s["scans"], "kind", "schema");
  EXPECT_EQ(std::string((*schema_scan)["summary"].GetString()),
            "Discovered 4 models across 2 apps");
  const auto* migration_scan = find_by(s["scans"], "kind", "migrations");
  EXPECT_EQ(std::string((*migration_scan)["summary"].GetString()), "Found 1 pending migration");

  ASSERT_EQ(s["doc_links"].Size(), 2u);
  EXPECT_EQ(std::string(s["doc_links"][0]["title"].GetString()), "Integration guide");
  EXPECT_EQ(std::string(s["doc_links"][1]["url"].GetString()), "https://example.test/atlas");
  EXPECT_EQ(plughost::sdk::to_json(s["docs"]), plughost::sdk::to_json(s["doc_links"]));
  EXPECT_TRUE(s["data_lab"]["templates"].IsArray());
  EXPECT_FALSE(s["data_lab"]["live_enabled"].GetBool());
  EXPECT_GE(s["activity"].Size(), 2u);
  EXPECT_EQ(s["tasks"].Size(), 0u);
}

TEST_F(inspector_api, PendingMigrationDeltaFollowsTheWorkspaceDatabase) {
  Options o;
  o.storage = dir_ + "/shared.db";  // the second host sees the first one's scans
  start(o);
  ASSERT_TRUE(scans_completed()) << host_->output();
  host_.reset();
  auto migrate = run_command({python_, "manage.py", "migrate", "catalog"}, workspace_);
  ASSERT_EQ(migrate.exit_code, 0) << migrate.output;

  start(o);
  ASSERT_TRUE(eventually(
      [&] {
        auto s = status();
        const auto* p = find_by(s["insights"], "title", "Pending migrations");
        return p && std::string((*p)["value"].GetString()) == "0";
      },
      kPatience))
      << plughost::sdk::to_json(status());
  auto s = status();
  const auto* p = find_by(s["insights"], "title", "Pending migrations");
  EXPECT_EQ(std::string((*p)["delta"].GetString()), "-1 vs last sync");
  EXPECT_EQ((*find_by(s["apps"], "label", "studio.catalog"))["pending_migrations"].GetInt(), 0);
}

TEST_F(inspector_api, CheckRunsForRealFromAFormPost) {
  start();
  auto r = post_form("workspace=atlas&preset=check&confirm_safe=on&notes=nightly+check");
  ASSERT_EQ(r.status, 201) << r.body;
  auto created = json(r);
  EXPECT_EQ(std::string(created["task_run"]["status"].GetString()), "requested");
  EXPECT_EQ(std::string(created["workspace"].GetString()), "atlas");
  EXPECT_TRUE(created.HasMember("apps") && created.HasMember("scans") && created.HasMember("docs"));
  int64_t id = created["task_run"]["id"].GetInt64();

  rapidjson::Document run = settled_run(id);
  ASSERT_EQ(std::string(run["status"].GetString()), "succeeded") << plughost::sdk::to_json(run);
  EXPECT_EQ(std::string(run["preset"].GetString()), "check");
  EXPECT_EQ(std::string(run["label"].GetString()), "Run system checks");
  EXPECT_EQ(run["progress"].GetInt(), 100);
  std::string log = run["log"].GetString();
  EXPECT_NE(log.find("] Executing `python manage.py check` inside " + workspace_),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("System check identified no issues"), std::string::npos) << log;
  EXPECT_NE(log.find("] Command finished with exit code 0."), std::string::npos) << log;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(std::regex_match(line, std::regex(R"(\[\d\d:\d\d:\d\d\] .*)"))) << line;
  }
  const auto& command = run["metadata"]["command"];
  EXPECT_EQ(std::string(command["raw"].GetString()), "python manage.py check");
  EXPECT_EQ(std::string(command["safe_prefix"].GetString()), "python manage.py check");
  EXPECT_EQ(std::string(command["workspace_path"].GetString()), workspace_);
  EXPECT_EQ(command["exit_code"].GetInt(), 0);
  EXPECT_FALSE(command["timed_out"].GetBool());
  EXPECT_GE(command["output_lines"].GetInt(), 1);
  EXPECT_GT(command["duration_seconds"].GetDouble(), 0.0);
  EXPECT_FALSE(command.HasMember("error"));
  EXPECT_EQ(std::string(run["metadata"]["notes"].GetString()), "nightly check");

  auto s = status();
  ASSERT_GE(s["tasks"].Size(), 1u);
  EXPECT_EQ(s["tasks"][0]["id"].GetInt64(), id);
  EXPECT_EQ(std::string(s["tasks"][0]["status"].GetString()), "succeeded");
  bool finished_line = false;
  for (const auto& l : s["log_excerpt"].GetArray()) {
    finished_line |=
        std::string(l["message"].GetString()) == "Command finished with exit code 0." &&
        std::string(l["level"].GetString()) == "success";
  }
  EXPECT_TRUE(finished_line) << plughost::sdk::to_json(s["log_excerpt"]);
}

TEST_F(inspector_api, ShowmigrationsRunsForRealFromAJsonPost) {
  start();
  auto r = post_json(
      R"({"workspace":"atlas","preset":"showmigrations","confirm_safe":true,"notes":"json"})");
  ASSERT_EQ(r.status, 201) << r.body;
  int64_t id = json(r)["task_run"]["id"].GetInt64();
  rapidjson::Document run = settled_run(id);
  ASSERT_EQ(std::string(run["status"].GetString()), "succeeded") << plughost::sdk::to_json(run);
  std::string log = run["log"].GetString();
  EXPECT_NE(log.find("[X] 0001_initial"), std::string::npos) << log;
  EXPECT_NE(log.find("[ ] 0002_snapshot"), std::string::npos) << log;
  EXPECT_EQ(run["metadata"]["command"]["exit_code"].GetInt(), 0);
  EXPECT_EQ(run["metadata"]["command"]["output_lines"].GetInt(), 5);  // 2 apps, 3 migrations
}

TEST_F(inspector_api, FailingCommandReportsItsExitCodeAsTheError) {
  start();
  auto run = run_preset("sqlmigrate");  // `sqlmigrate core 0003`: no app "core" here
  EXPECT_EQ(std::string(run["status"].GetString()), "failed");
  const auto& command = run["metadata"]["command"];
  EXPECT_EQ(command["exit_code"].GetInt(), 1);
  EXPECT_EQ(std::string(command["error"].GetString()), "Command finished with exit code 1.");
  EXPECT_NE(std::string(run["log"].GetString()).find("No installed app with label 'core'"),
            std::string::npos)
      << run["log"].GetString();
}

TEST_F(inspector_api, TimeoutKillsTheWholeProcessGroup) {
  std::string pid_file = dir_ + "/probe.pids";
  Options o;
  o.extra_config =
      "      scan_on_start: false\n"  // no scans competing for the CPU while the probe starts
      "      safe_commands: [\"python manage.py slow_probe\"]\n"
      "      presets:\n"
      "        - {key: slow-probe, label: Slow probe, timeout_seconds: 5,\n"
      "           command: \"python manage.py slow_probe --pid-file " +
      pid_file + "\"}\n";
  start(o);
  auto run = run_preset("slow-probe");
  EXPECT_EQ(std::string(run["status"].GetString()), "failed");
  const auto& command = run["metadata"]["command"];
  EXPECT_TRUE(command["timed_out"].GetBool());
  EXPECT_EQ(command["exit_code"].GetInt(), -9);
  EXPECT_EQ(std::string(command["error"].GetString()), "Command timed out before completion.");
  std::string log = run["log"].GetString();
  EXPECT_NE(log.find("] Timeout reached (5s). Terminating command."), std::string::npos) << log;
  EXPECT_NE(log.find("probe started"), std::string::npos) << log;

  std::ifstream in(pid_file);
  int child = 0, grandchild = 0;
  ASSERT_TRUE(in >> child >> grandchild) << "the probe wrote no pid file";
  EXPECT_TRUE(eventually([&] { return !process_alive(child) && !process_alive(grandchild); }, 10))
      << "child " << child << " alive: " << process_alive(child) << ", grandchild " << grandchild
      << " alive: " << process_alive(grandchild);
}

TEST_F(inspector_api, OutputCapIsNotedInTheLog) {
  Options o;
  o.extra_config =
      "      max_output_lines: 10\n"
      "      safe_commands: [\"python manage.py help\"]\n"
      "      presets: [{key: help, label: Help, command: \"python manage.py help\"}]\n";
  start(o);
  auto run = run_preset("help");
  EXPECT_EQ(std::string(run["status"].GetString()), "succeeded");
  std::string log = run["log"].GetString();
  EXPECT_NE(log.find("Output limit reached"), std::string::npos) << log;
  EXPECT_GT(run["metadata"]["command"]["output_lines"].GetInt(), 10);
  EXPECT_TRUE(run["metadata"]["command"]["output_truncated"].GetBool());
  size_t lines = std::count(log.begin(), log.end(), '\n') + 1;
  EXPECT_EQ(lines, 13u);  // Executing, 10 kept lines, the cap notice, the exit line
}

TEST_F(inspector_api, PresetsOutsideTheAllowListAreRejected) {
  Options o;
  o.extra_config =
      "      presets: [{key: migrate, label: Apply migrations, command: \"python manage.py "
      "migrate\"}]\n";
  start(o);
  auto r = post_form("workspace=atlas&preset=flush&confirm_safe=on");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(
      r.body,
      R"({"errors":{"preset":["Select a valid choice. That choice is not one of the available choices."]}})");

  auto run = run_preset("migrate");  // configured, but its command is not allow-listed
  EXPECT_EQ(std::string(run["status"].GetString()), "failed");
  EXPECT_EQ(std::string(run["metadata"]["command"]["error"].GetString()),
            "Command is not part of INSPECTOR_SAFE_COMMANDS.");
  std::string log = run["log"].GetString();
  EXPECT_EQ(log.find("Executing"), std::string::npos) << log;
  auto applied = run_command({python_, "manage.py", "showmigrations", "catalog"}, workspace_);
  EXPECT_NE(applied.output.find("[ ] 0002_snapshot"), std::string::npos) << applied.output;
}

TEST_F(inspector_api, PathTraversalSlugsAreRejected) {
  start();
  auto r = get("/api/workspaces/..%5C..%5Cetc/status/");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.body, R"({"detail":"Not found."})");
  EXPECT_EQ(get("/api/workspaces/%2e%2e/status/").status, 400);
  EXPECT_EQ(get("/api/workspaces/nope/status/").status, 404);
  auto post = post_form("workspace=..%2F..%2Fetc&preset=check&confirm_safe=on");
  ASSERT_EQ(post.status, 400);
  EXPECT_EQ(std::string(json(post)["errors"]["workspace"][0].GetString()),
            "Select a valid choice. That choice is not one of the available choices.");
  EXPECT_EQ(get("/api/task-runs/999/").status, 404);
  EXPECT_EQ(get("/api/task-runs/abc/").status, 404);
}

TEST_F(inspector_api, ConfirmSafeFollowsDjangoCheckboxRules) {
  start();
  const std::string kMissing = "Confirmation is required to dispatch a task.";
  for (const std::string body :
       {"workspace=atlas&preset=check", "workspace=atlas&preset=check&confirm_safe=",
        "workspace=atlas&preset=check&confirm_safe=FALSE"}) {
    auto r = post_form(body);
    ASSERT_EQ(r.status, 400) << body;
    auto errors = json(r);
    EXPECT_EQ(errors["errors"].MemberCount(), 1u) << r.body;
    EXPECT_EQ(std::string(errors["errors"]["confirm_safe"][0].GetString()), kMissing) << body;
  }
  auto json_false = post_json(R"({"workspace":"atlas","preset":"check","confirm_safe":false})");
  EXPECT_EQ(json_false.status, 400) << json_false.body;
  EXPECT_EQ(post_form("workspace=atlas&preset=check&confirm_safe=0").status, 201);

  auto empty = post_form("");
  ASSERT_EQ(empty.status, 400);
  EXPECT_EQ(
      empty.body,
      R"({"errors":{"workspace":["This field is required."],"preset":["This field is required."],"confirm_safe":["Confirmation is required to dispatch a task."]}})");
  auto long_notes =
      post_form("workspace=atlas&preset=check&confirm_safe=on&notes=" + std::string(281, 'n'));
  ASSERT_EQ(long_notes.status, 400);
  EXPECT_EQ(std::string(json(long_notes)["errors"]["notes"][0].GetString()),
            "Ensure this value has at most 280 characters (it has 281).");
}

TEST_F(inspector_api, CsrfDoubleSubmitIsEnforcedForCookieClients) {
  start();
  auto page = get("/api/workspaces/atlas/status/");
  std::string cookie = page.header("set-cookie");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cookie, m, std::regex("csrftoken=([0-9a-f]+)"))) << cookie;
  std::string token = m[1];
  const std::string body = "workspace=atlas&preset=check&confirm_safe=on";

  auto missing = post_form(body, {{"Cookie", "csrftoken=" + token}});
  EXPECT_EQ(missing.status, 403);
  EXPECT_EQ(missing.body, R"({"detail":"CSRF Failed: CSRF token missing or incorrect."})");
  auto wrong = post_form(body, {{"Cookie", "csrftoken=" + token}, {"X-CSRFToken", token + "00"}});
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  auto ok = post_form(body, {{"Cookie", "csrftoken=" + token}, {"X-CSRFToken", token}});
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(
      get("/api/workspaces/atlas/status/", {{"Cookie", "csrftoken=" + token}}).header("set-cookie"),
      "");  // a client that has the cookie keeps it
}

TEST_F(inspector_api, HostErrorsUseDjangoDetailBodies) {
  Options o;
  o.auth = "{enabled: true}";  // no authenticator: every caller is anonymous
  start(o);
  auto r = get("/api/workspaces/atlas/status/");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":"Authentication credentials were not provided."})");
}

TEST_F(inspector_api, UnusableWorkspacePathDisablesThePluginNamingIt) {
  std::string yaml = config();
  yaml.replace(yaml.find(workspace_), workspace_.size(), dir_ + "/missing");
  yaml.replace(yaml.find("required: true"), 14, "required: false");
  Host host(yaml);
  ASSERT_TRUE(host.wait_ready()) << host.output();
  std::string out = host.output();
  EXPECT_NE(out.find("workspace \\\"atlas\\\""), std::string::npos) << out;
  EXPECT_NE(out.find("Workspace path does not exist."), std::string::npos) << out;
  EXPECT_EQ(http(host.port(), "GET", "/api/workspaces/atlas/status/").status, 404);
}

}  // namespace
}  // namespace inspector_test
