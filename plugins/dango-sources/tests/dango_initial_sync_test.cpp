// Initial sync over HTTP against the real host: a one-time deploy token, per-source progress,
// skipping the source that syncs (held open by the blocking test source) and cancelling; and the
// upstream answers (deploy journal, Metabase, proxies) with 502 when an upstream is missing or
// silent.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "lab.hpp"

namespace {

using namespace dango_test;

std::string source_status(const rapidjson::Document& state, const std::string& name) {
  for (const auto& s : state["sources"].GetArray()) {
    if (name == s["name"].GetString()) return s["status"].GetString();
  }
  return "<absent>";
}

TEST(dango_initial_sync, DeployTokenStartsOnceAndSourcesCanBeSkippedOrCancelled) {
  Lab lab(
      LabSetup("[{name: one, type: blocking}, {name: two, type: blocking},"
               " {name: three, type: csv}]",
               false, "initial_sync: {deploy_token: \"tok-123\", sources: [one, two, three]}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  const Headers token{{"X-Deploy-Token", "tok-123"}};
  EXPECT_EQ(lab.post("/api/initial-sync/start", "{}", {{"X-Deploy-Token", "nope"}}).status, 401);
  auto idle = json(lab.get("/api/initial-sync/status", token));
  EXPECT_STREQ(idle["status"].GetString(), "idle");

  auto started = lab.post("/api/initial-sync/start", "{}", token);
  ASSERT_EQ(started.status, 200) << started.body;
  EXPECT_EQ(json(started)["state"]["total_sources"].GetInt64(), 3);
  auto again = lab.post("/api/initial-sync/start", "{}", token);
  EXPECT_EQ(again.status, 401);
  EXPECT_STREQ(json(again)["message"].GetString(), "The deploy token was already used");

  ASSERT_TRUE(eventually(
      [&] { return json(lab.get("/api/test-source/state"))["entered"].GetInt() == 1; }, 20))
      << lab.get("/api/initial-sync/status", token).body << lab.get("/api/logs").body
      << lab.host().output();
  auto first = json(lab.get("/api/initial-sync/status", token));
  EXPECT_STREQ(first["status"].GetString(), "running");
  EXPECT_STREQ(first["current_source"].GetString(), "one");
  EXPECT_EQ(source_status(first, "two"), "pending");
  EXPECT_EQ(first["progress_percent"].GetInt64(), 0);

  // Skip "one": its sync is asked to stop; once its read returns, "two" starts.
  ASSERT_EQ(lab.post("/api/initial-sync/skip-source").status, 200);
  lab.post("/api/test-source/release");
  ASSERT_TRUE(eventually(
      [&] { return json(lab.get("/api/test-source/state"))["entered"].GetInt() == 2; }, 20))
      << lab.get("/api/initial-sync/status", token).body << lab.get("/api/logs").body;
  ASSERT_TRUE(eventually(
      [&] {
        auto s = json(lab.get("/api/initial-sync/status", token));
        return source_status(s, "one") == "skipped" && source_status(s, "two") == "syncing";
      },
      20))
      << lab.get("/api/initial-sync/status", token).body;
  // Cancel the whole run while "two" syncs.
  ASSERT_EQ(lab.post("/api/initial-sync/cancel").status, 200);
  lab.post("/api/test-source/release");
  rapidjson::Document end;
  ASSERT_TRUE(eventually(
      [&] {
        end = json(lab.get("/api/initial-sync/status", token));
        return std::string(end["status"].GetString()) != "running";
      },
      20));
  EXPECT_STREQ(end["status"].GetString(), "cancelled");
  EXPECT_EQ(source_status(end, "one"), "skipped");
  EXPECT_EQ(source_status(end, "two"), "cancelled");
  EXPECT_EQ(source_status(end, "three"), "cancelled");
  EXPECT_TRUE(end["finished_at"].IsString());
  // Nothing of the stopped syncs was loaded.
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_one__items"), "<none>");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_two__items"), "<none>");
  EXPECT_EQ(lab.post("/api/initial-sync/cancel").status, 409);
  EXPECT_EQ(lab.post("/api/initial-sync/skip-source").status, 409);
}

TEST(dango_initial_sync, AnAdminRunsItToTheEnd) {
  Lab lab(LabSetup("[{name: alpha, type: csv}, {name: beta, type: csv}]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  write_text(lab.folder("alpha") + "/a.csv", "id\n1\n2\n");
  write_text(lab.folder("beta") + "/b.csv", "id\n1\n");
  // Auth is off in this lab: the caller is an admin; no deploy token is configured.
  EXPECT_EQ(lab.post("/api/initial-sync/start", "{}", {{"X-Deploy-Token", "x"}}).status, 401);
  ASSERT_EQ(lab.post("/api/initial-sync/start").status, 200);
  rapidjson::Document end;
  ASSERT_TRUE(eventually(
      [&] {
        end = json(lab.get("/api/initial-sync/status"));
        return std::string(end["status"].GetString()) != "running";
      },
      20));
  EXPECT_STREQ(end["status"].GetString(), "completed");
  EXPECT_EQ(end["progress_percent"].GetInt64(), 100);
  EXPECT_EQ(end["sources"][0]["rows_loaded"].GetInt64(), 2);
  EXPECT_EQ(source_status(end, "beta"), "success");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_beta__beta"), "1");
}

TEST(dango_upstreams, NotConfiguredIs502InTheEnvelope) {
  Lab lab(LabSetup("[]"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  for (const char* path :
       {"/api/deployments/history", "/api/metabase-config", "/metabase/api/health",
        "/dbt-docs/index.html", "/manifest.json", "/styles.css"}) {
    auto r = lab.get(path);
    EXPECT_EQ(r.status, 502) << path;
    EXPECT_STREQ(json(r)["error_code"].GetString(), "DANGO-G002") << path;
  }
}

TEST(dango_upstreams, AnswersFromTheJournalMetabaseAndDbtDocs) {
  StubServer metabase([](const StubRequest& r) {
    if (r.path == "/api/database") {
      return StubReply(200, R"({"data":[{"id":1,"name":"sample"},{"id":7,"name":"dango"}]})");
    }
    if (r.path == "/api/user/current")
      return StubReply(200, "{\"id\":1,\"q\":\"" + r.query + "\"}");
    return StubReply(404, "{}");
  });
  StubServer docs([](const StubRequest& r) {
    return StubReply(200, "<html>" + r.path + "</html>", "text/html");
  });
  std::string dir = make_temp_dir();
  write_file(
      dir + "/journal.jsonl",
      "{\"id\":\"d1\",\"status\":\"success\"}\nnot json\n{\"id\":\"d2\",\"status\":\"failed\"}\n");
  Lab lab(LabSetup("[]", false,
                   "deployments: {journal_file: \"" + dir +
                       "/journal.jsonl\"}, metabase: {url: \"" + metabase.url() +
                       "\", api_key: k-secret}, dbt_docs: {url: \"" + docs.url() + "\"}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto history = json(lab.get("/api/deployments/history"));
  ASSERT_EQ(history["count"].GetInt64(), 2);
  EXPECT_STREQ(history["deployments"][0]["id"].GetString(), "d2");
  EXPECT_EQ(history["skipped_lines"].GetInt64(), 1);

  auto mb = lab.get("/api/metabase-config");
  ASSERT_EQ(mb.status, 200) << mb.body;
  EXPECT_EQ(json(mb)["database_id"].GetInt64(), 7);
  EXPECT_EQ(mb.body.find("k-secret"), std::string::npos);
  EXPECT_EQ(metabase.requests()[0].header("x-api-key"), "k-secret");

  auto proxied =
      lab.get("/metabase/api/user/current?a=1&b=two%20words", {{"Cookie", "dango_session=abc"}});
  ASSERT_EQ(proxied.status, 200) << proxied.body;
  // The host hands query parameters over unordered: both travel, re-encoded.
  std::string query = json(proxied)["q"].GetString();
  EXPECT_NE(query.find("a=1"), std::string::npos) << query;
  EXPECT_NE(query.find("b=two%20words"), std::string::npos) << query;
  EXPECT_TRUE(metabase.requests().back().header("cookie").empty());  // Dango's cookie stays here
  EXPECT_EQ(lab.get("/metabase/nothing").status, 404);
  auto page = lab.get("/dbt-docs/index.html");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, "<html>/index.html</html>");
  EXPECT_EQ(lab.get("/manifest.json").body, "<html>/manifest.json</html>");
}

// A stand-in Metabase for single sign-on: POST /api/session with the right account issues the
// current session id; /api/user/current answers only that session.
struct SsoMetabase {
  std::mutex mu;
  std::string valid = "sess-1";
  int logins = 0;
  StubServer server{[this](const StubRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    if (r.path == "/api/session" && r.method == "POST") {
      if (r.body != R"({"username":"bi@example.com","password":"mb-secret"})") {
        return StubReply(401, R"({"errors":{"password":"did not match"}})");
      }
      ++logins;
      return StubReply(200, "{\"id\":\"" + valid + "\"}");
    }
    if (r.path == "/api/user/current") {
      std::string s = r.header("x-metabase-session");
      if (s != valid && s != "own-session") return StubReply(401, "\"Unauthenticated\"");
      return StubReply(200, "{\"session\":\"" + s + "\"}");
    }
    return StubReply(404, "{}");
  }};
  int login_count() {
    std::lock_guard<std::mutex> lock(mu);
    return logins;
  }
  void expire(const std::string& next) {
    std::lock_guard<std::mutex> lock(mu);
    valid = next;
  }
};

std::string sso_config(const std::string& url, const std::string& password = "mb-secret") {
  return "metabase: {url: \"" + url + "\", sso: {email: bi@example.com, password: " + password +
         "}}";
}

TEST(dango_upstreams, MetabaseSingleSignOnBridgesCallersIntoOneCachedSession) {
  SsoMetabase metabase;
  Lab lab(LabSetup("[]", false, sso_config(metabase.server.url())));  // auth off: all bridged
  ASSERT_TRUE(lab.ready()) << lab.host().output();

  // No Metabase session: one is made with the account and handed to the browser as a cookie.
  auto first = lab.get("/metabase/api/user/current");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_STREQ(json(first)["session"].GetString(), "sess-1");
  std::string cookie = first.header("set-cookie");
  EXPECT_NE(cookie.find("metabase.SESSION=sess-1"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  // The next caller reuses the cached session: no second login.
  EXPECT_EQ(lab.get("/metabase/api/user/current").status, 200);
  EXPECT_EQ(metabase.login_count(), 1);
  // A browser with its own Metabase session keeps it, and is not bridged.
  auto own = lab.get("/metabase/api/user/current", {{"Cookie", "metabase.SESSION=own-session"}});
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_STREQ(json(own)["session"].GetString(), "own-session");
  EXPECT_FALSE(own.has("set-cookie"));
  // Metabase expires the session: the proxy logs in again once and the call still succeeds.
  metabase.expire("sess-2");
  auto renewed = lab.get("/metabase/api/user/current");
  ASSERT_EQ(renewed.status, 200) << renewed.body;
  EXPECT_STREQ(json(renewed)["session"].GetString(), "sess-2");
  EXPECT_NE(renewed.header("set-cookie").find("metabase.SESSION=sess-2"), std::string::npos);
  EXPECT_EQ(metabase.login_count(), 2);
  // The account's password is never answered or logged.
  auto config = lab.get("/api/config");
  EXPECT_EQ(config.body.find("mb-secret"), std::string::npos) << config.body;
  EXPECT_EQ(lab.host().output().find("mb-secret"), std::string::npos);
}

TEST(dango_upstreams, AMetabaseThatRefusesTheSsoAccountIsReachedWithoutASession) {
  SsoMetabase metabase;
  Lab lab(LabSetup("[]", false, sso_config(metabase.server.url(), "wrong")));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto r = lab.get("/metabase/api/user/current");
  EXPECT_EQ(r.status, 401) << r.body;  // Metabase's own answer, passed on
  EXPECT_FALSE(r.has("set-cookie"));
  EXPECT_TRUE(lab.host().wait_for_output("Metabase refused the single sign-on account"));
  EXPECT_EQ(lab.host().output().find("wrong"), std::string::npos);
}

#ifdef DANGO_WITH_ACCOUNTS
TEST(dango_upstreams, OnlySignedInCallersAreBridgedWhenAuthIsOn) {
  SsoMetabase metabase;
  LabSetup setup("[]", true, sso_config(metabase.server.url()));
  Lab lab(setup);
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  auto anonymous = lab.get("/metabase/api/user/current");
  EXPECT_EQ(anonymous.status, 401);  // Metabase's login stands
  EXPECT_EQ(metabase.login_count(), 0);
  auto signed_in = lab.get("/metabase/api/user/current", {{"Cookie", admin_cookie(lab)}});
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  EXPECT_STREQ(json(signed_in)["session"].GetString(), "sess-1");
  EXPECT_EQ(metabase.login_count(), 1);
}
#endif

TEST(dango_upstreams, ASilentMetabaseIs502WithinTheTimeout) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  StubServer silent([&](const StubRequest&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return StubReply(200, "{}");
  });
  {
    Lab lab(LabSetup("[]", false,
                     "upstream_timeout_seconds: 0.5, metabase: {url: \"" + silent.url() +
                         "\", database_id: 3}"));
    ASSERT_TRUE(lab.ready()) << lab.host().output();
    auto r = lab.get("/api/metabase-config");
    EXPECT_EQ(r.status, 502);
    EXPECT_NE(std::string(json(r)["message"].GetString()).find("unreachable"), std::string::npos)
        << r.body;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
}

}  // namespace
