// DataChat over HTTP on the real host: the plugin on a fresh SQLite store answering from the
// demo shop it builds at start; permissions, validation, sessions and follow-ups, history
// pagination, context.tables, tenancy, the connectors, and the rate class.
#include <gtest/gtest.h>
#include <plughost/abi.h>

#include <filesystem>
#include <memory>
#include <plughost/json.hpp>
#include <plughost/testing.hpp>

#include "stub_llm.hpp"

namespace {

namespace fs = std::filesystem;
using plughost::testing::Host;
using plughost::testing::HttpResponse;
using plughost::testing::json;
using Headers = std::map<std::string, std::string>;

const char* kChat = "/api/datachat/chat/";
const char* kHistory = "/api/datachat/chat/history/";

class Lab {
 public:
  explicit Lab(const std::string& plugin_config = "{}",
               const std::string& rate_limits = "{enabled: false}")
      : dir_(plughost::testing::make_temp_dir()) {
    std::string plugins = dir_ + "/plugins";
    fs::create_directories(plugins);
    fs::create_symlink(PLUGHOST_TEST_PLUGIN_DIR "/plughost_datachat.so",
                       plugins + "/plughost_datachat.so");
    fs::create_symlink(DATACHAT_TEST_AUTH_DIR "/plughost_datachat_test_auth.so",
                       plugins + "/plughost_datachat_test_auth.so");
    std::string config = plugin_config;
    if (config == "{}") config = "{database: {demo_path: \"" + dir_ + "/demo.db\"}}";
    host_ = std::make_unique<Host>(
        "version: 1\n"
        "server: {listen: 127.0.0.1:0}\n"
        "log: {format: json, access: false}\n"
        "auth: {enabled: true}\n"
        "rate_limits: " +
        rate_limits +
        "\n"
        "storage: {url: \"sqlite://" +
        dir_ +
        "/store.db\", pool_size: 3}\n"
        "tasks: {workers: 1}\n"
        "plugins_dir: " +
        plugins +
        "\n"
        "plugins:\n"
        "  datachat_test_auth: {}\n"
        "  datachat:\n"
        "    config: " +
        config + "\n");
    ready_ = host_->wait_ready();
  }
  ~Lab() {
    host_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool ready() const { return ready_; }
  const std::string& dir() const { return dir_; }
  HttpResponse call(const std::string& method, const std::string& path,
                    const std::string& body = {}, const std::string& role = "editor",
                    Headers headers = {}) {
    if (!role.empty()) headers["Authorization"] = "Bearer " + role;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return plughost::testing::http(host_->port(), method, path, headers, body);
  }
  HttpResponse ask(const std::string& question, const std::string& extra = "",
                   Headers headers = {}) {
    rapidjson::Document d;
    d.SetObject();
    d.AddMember("question", rapidjson::Value(question.c_str(), d.GetAllocator()), d.GetAllocator());
    std::string body = plughost::sdk::to_json(d);
    if (!extra.empty()) body = body.substr(0, body.size() - 1) + "," + extra + "}";
    return call("POST", kChat, body, "editor", headers);
  }
  std::string output() { return host_->output(); }

 private:
  std::string dir_;
  std::unique_ptr<Host> host_;
  bool ready_ = false;
};

TEST(datachat_http, AnswersACountWithSqlDataAndIds) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto r = lab.ask("How many customers are there?", "", {{"X-Trace-ID", "trace-abc"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  EXPECT_EQ(d["data"]["rows"][0][0].GetInt(), 40);  // the demo shop's customers
  EXPECT_STREQ(d["answer"].GetString(), "There are 40 customers.");
  EXPECT_NE(std::string(d["sql"].GetString()).find("COUNT"), std::string::npos);
  EXPECT_EQ(d["data"]["columns"].Size(), 1u);
  EXPECT_GT(d["session_id"].GetStringLength(), 0u);
  EXPECT_GT(d["message_id"].GetStringLength(), 0u);
  EXPECT_STREQ(d["trace_id"].GetString(), "trace-abc");
  EXPECT_TRUE(d["error"].IsNull());
}

TEST(datachat_http, FollowUpsSeeTheSessionAndHistoryPages) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto first = json(lab.ask("How many orders are delivered?"));
  std::string session = first["session_id"].GetString();
  auto second = lab.ask("What about in Madrid?", "\"session_id\":\"" + session + "\"");
  ASSERT_EQ(second.status, 200) << second.body;
  auto d = json(second);
  std::string sql = d["sql"].GetString();
  EXPECT_NE(sql.find("delivered"), std::string::npos) << sql;
  EXPECT_NE(sql.find("Madrid"), std::string::npos) << sql;
  EXPECT_LT(d["data"]["rows"][0][0].GetInt(), first["data"]["rows"][0][0].GetInt());

  auto page1 =
      lab.call("GET", std::string(kHistory) + "?session_id=" + session + "&limit=3", {}, "editor");
  ASSERT_EQ(page1.status, 200) << page1.body;
  auto h = json(page1);
  ASSERT_EQ(h["messages"].Size(), 3u);
  EXPECT_TRUE(h["has_more"].GetBool());
  EXPECT_EQ(h["total"].GetInt(), 4);
  EXPECT_STREQ(h["messages"][0]["role"].GetString(), "user");
  EXPECT_STREQ(h["messages"][0]["content"].GetString(), "How many orders are delivered?");
  EXPECT_STREQ(h["messages"][1]["role"].GetString(), "assistant");
  EXPECT_STREQ(h["messages"][1]["id"].GetString(), first["message_id"].GetString());
  auto page2 =
      json(lab.call("GET", std::string(kHistory) + "?session_id=" + session + "&limit=3&page=2"));
  EXPECT_EQ(page2["messages"].Size(), 1u);
  EXPECT_FALSE(page2["has_more"].GetBool());
  EXPECT_STREQ(page2["messages"][0]["sql"].GetString(), sql.c_str());
}

TEST(datachat_http, RefusesHonestlyAndValidatesInput) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto d = json(lab.ask("How many employees do we have?"));
  EXPECT_STREQ(d["sql"].GetString(), "");
  EXPECT_NE(std::string(d["answer"].GetString()).find("employees"), std::string::npos);
  EXPECT_EQ(d["data"]["rows"].Size(), 0u);

  auto empty = lab.call("POST", kChat, R"({"question":"   "})");
  EXPECT_EQ(empty.status, 400);
  EXPECT_STREQ(json(empty)["error"]["code"].GetString(), "VALIDATION_ERROR");
  EXPECT_STREQ(json(empty)["error"]["details"][0]["field"].GetString(), "question");
  EXPECT_EQ(lab.ask(std::string(2001, 'x')).status, 400);
  EXPECT_EQ(
      lab.call("POST", kChat, R"({"question":"How many orders?","context":{"tables":"orders"}})")
          .status,
      400);
  EXPECT_EQ(lab.call("POST", kChat, "not json").status, 400);
  auto unknown = lab.ask("How many orders?", R"("session_id":"no-such-session")");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(lab.call("GET", std::string(kHistory) + "?page=0").status, 400);
  EXPECT_EQ(lab.call("GET", std::string(kHistory) + "?page=abc").status, 400);
  EXPECT_EQ(lab.call("GET", std::string(kHistory) + "?limit=101").status, 400);
}

TEST(datachat_http, ContextTablesRestrictWhatCanBeRead) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  // Customers are not exposed: the question cannot be answered from orders alone.
  auto d = json(lab.ask("How many orders did customers in Berlin place?",
                        R"("context":{"tables":["orders"]})"));
  EXPECT_STREQ(d["sql"].GetString(), "");
  auto ok = json(lab.ask("How many orders are delivered?", R"("context":{"tables":["orders"]})"));
  EXPECT_GT(ok["data"]["rows"][0][0].GetInt(), 0);
  auto none = json(lab.ask("How many orders?", R"("context":{"tables":["nope"]})"));
  EXPECT_STREQ(none["sql"].GetString(), "");
  EXPECT_NE(std::string(none["answer"].GetString()).find("None of the requested tables"),
            std::string::npos);
}

TEST(datachat_http, PermissionsTenantsAndUsersScopeSessions) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  EXPECT_EQ(lab.call("POST", kChat, R"({"question":"How many orders?"})", "").status, 401);
  // Any user may ask (the default roles grant datachat.ask to viewers); a role without the
  // grants may not.
  EXPECT_EQ(lab.call("POST", kChat, R"({"question":"How many orders?"})", "viewer").status, 200);
  EXPECT_EQ(lab.call("GET", kHistory, {}, "viewer").status, 200);
  EXPECT_EQ(lab.call("POST", kChat, R"({"question":"How many orders?"})", "guest").status, 403);
  EXPECT_EQ(lab.call("GET", kHistory, {}, "guest").status, 403);
  auto d = json(lab.ask("How many orders?", "", {{"X-Tenant-ID", "acme"}}));
  std::string session = d["session_id"].GetString();
  // Another tenant, or another user, does not see the session.
  EXPECT_EQ(lab.ask("And last week?", "\"session_id\":\"" + session + "\"").status, 404);
  EXPECT_EQ(lab.call("GET", std::string(kHistory) + "?session_id=" + session, {}, "editor").status,
            404);
  EXPECT_EQ(lab.call("GET", std::string(kHistory) + "?session_id=" + session, {}, "admin",
                     {{"X-Tenant-ID", "acme"}})
                .status,
            404);
  auto mine = json(lab.call("GET", kHistory, {}, "editor", {{"X-Tenant-ID", "acme"}}));
  EXPECT_EQ(mine["total"].GetInt(), 2);
}

TEST(datachat_http, RateClassDatachatLimitsAsks) {
  Lab lab("{}",
          "{enabled: true, exempt_loopback: false, classes: {datachat: {limit: 2, window_seconds: "
          "60}}}");
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto first = lab.ask("How many orders?");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("x-ratelimit-limit"), "2");
  EXPECT_EQ(lab.ask("How many orders?").status, 200);
  EXPECT_EQ(lab.ask("How many orders?").status, 429);
}

TEST(datachat_http, ServesAnyConfiguredSqliteUrlAndItsLiveSchema) {
  std::string dir = plughost::testing::make_temp_dir();
  std::string db = dir + "/zoo.db";
  ASSERT_EQ(std::system(("sqlite3 " + db +
                         " \"CREATE TABLE animals (id INTEGER PRIMARY KEY, "
                         "species TEXT, weight REAL); INSERT INTO animals (species, weight) VALUES "
                         "('lion', 190), ('lion', 170), ('zebra', 350);\"")
                            .c_str()),
            0);
  Lab lab("{database: {url: \"sqlite://" + db + "\"}}");
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto d = json(lab.ask("Average weight of lions"));
  ASSERT_TRUE(d["data"]["rows"].IsArray()) << plughost::sdk::to_json(d);
  ASSERT_EQ(d["data"]["rows"].Size(), 1u) << d["sql"].GetString();
  EXPECT_DOUBLE_EQ(d["data"]["rows"][0][0].GetDouble(), 180.0);
  EXPECT_FALSE(fs::exists(lab.dir() + "/demo.db"));
  fs::remove_all(dir);
}

}  // namespace

namespace {

using datachat_test::completion;
using datachat_test::StubLlm;

TEST(datachat_http, ConnectorsKeepTheirContracts) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  // datachat/ask answers exactly the POST chat/ body.
  auto ask = json(
      lab.call("POST", "/test/connectors/datachat/datachat/ask",
               R"({"question":"How many products are there?","tenant":"t1","user":"bot"})", ""));
  ASSERT_TRUE(ask.HasMember("output")) << plughost::sdk::to_json(ask);
  const auto& out = ask["output"];
  EXPECT_EQ(out["data"]["rows"][0][0].GetInt(), 15);
  for (const char* key : {"answer", "sql", "data", "session_id", "message_id", "trace_id"}) {
    EXPECT_TRUE(out.HasMember(key)) << key;
  }
  auto bad =
      json(lab.call("POST", "/test/connectors/datachat/datachat/ask", R"({"question":""})", ""));
  EXPECT_EQ(bad["code"].GetInt(), PH_ERR_INVALID_ARGUMENT);

  // llm/offline: translate_sql with the schema given, chat unsupported.
  std::string schema =
      R"({"dialect":"sqlite","tables":[{"name":"tickets","columns":[{"name":"id","type":"integer","primary_key":true},)"
      R"({"name":"priority","type":"text","values":["high","low"]}],"foreign_keys":[]}]})";
  auto tr = json(lab.call("POST", "/test/connectors/llm/offline/translate_sql",
                          R"({"question":"How many high tickets?","schema":)" + schema +
                              R"(,"history":[],"dialect":"sqlite"})",
                          ""));
  std::string sql = tr["output"]["sql"].GetString();
  EXPECT_NE(sql.find("COUNT"), std::string::npos) << sql;
  EXPECT_NE(sql.find("'high'"), std::string::npos) << sql;
  auto no = json(lab.call("POST", "/test/connectors/llm/offline/translate_sql",
                          R"({"question":"How many invoices?","schema":)" + schema + "}", ""));
  EXPECT_TRUE(no["output"].HasMember("cannot_answer"));
  auto chat = json(lab.call("POST", "/test/connectors/llm/offline/chat",
                            R"({"messages":[{"role":"user","content":"hi"}]})", ""));
  EXPECT_EQ(chat["code"].GetInt(), PH_ERR_UNSUPPORTED);
}

std::string openai_config(const StubLlm& stub, const std::string& dir, double timeout = 10) {
  return "{database: {demo_path: \"" + dir +
         "/demo.db\"}, translator: openai, timeout_seconds: " + std::to_string(timeout) +
         ", llm: {base_url: \"" + stub.url() + "\", model: stub, api_key: sk-never-logged-123}}";
}

TEST(datachat_http, SqlFromTheModelStillRunsReadOnlyWithCaps) {
  StubLlm stub;
  std::string dir = plughost::testing::make_temp_dir();
  Lab lab(openai_config(stub, dir, 0.3));
  ASSERT_TRUE(lab.ready()) << lab.output();

  stub.reply(200, completion("```sql\nSELECT COUNT(*) AS n FROM orders\n```"));
  auto ok = json(lab.ask("How many orders?"));
  EXPECT_EQ(ok["data"]["rows"][0][0].GetInt(), 400);
  EXPECT_EQ(stub.last_request().header("authorization"), "Bearer sk-never-logged-123");

  stub.reply(200, completion("DELETE FROM orders"));
  auto del = json(lab.ask("Remove the orders"));
  EXPECT_FALSE(del["error"].IsNull());
  EXPECT_NE(std::string(del["answer"].GetString()).find("won't run"), std::string::npos);
  stub.reply(200, completion("WITH x AS (SELECT 1) SELECT * FROM orders; DROP TABLE orders"));
  EXPECT_FALSE(json(lab.ask("Anything"))["error"].IsNull());
  stub.reply(200, completion("SELECT id FROM orders UNION SELECT id FROM customers"));
  EXPECT_FALSE(json(lab.ask("Both ids"))["error"].IsNull());
  stub.reply(200, completion("SELECT COUNT(*) FROM customers"));
  auto limited = json(lab.ask("How many customers?", R"("context":{"tables":["orders"]})"));
  EXPECT_FALSE(limited["error"].IsNull());

  // 400^4 rows to count: far beyond the 0.3 s cap (UNION, hence recursive CTEs, is refused).
  stub.reply(200, completion("SELECT COUNT(*) FROM orders a, orders b, orders c, orders d"));
  auto slow = json(lab.ask("Count forever"));
  EXPECT_NE(std::string(slow["answer"].GetString()).find("stopped"), std::string::npos)
      << slow["answer"].GetString();

  stub.reply(200, completion("SELECT COUNT(*) FROM orders"));
  EXPECT_EQ(json(lab.ask("How many orders now?"))["data"]["rows"][0][0].GetInt(), 400);

  stub.reply(500, R"({"error":"model crashed"})");
  auto down = lab.ask("How many orders?");
  EXPECT_EQ(down.status, 502);
  EXPECT_STREQ(json(down)["error"]["code"].GetString(), "UPSTREAM_ERROR");
  EXPECT_EQ(lab.output().find("sk-never-logged-123"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
