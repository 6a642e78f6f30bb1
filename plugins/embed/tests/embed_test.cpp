// The embed endpoints over HTTP on the real host, answered by a test double of the rag and llm
// plugins: the widget script, key and site checks, CORS, the composed answers with their
// sources, sessions, limits and upstream failures.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <plughost/testing.hpp>

namespace {

namespace fs = std::filesystem;
using namespace plughost::testing;
using Headers = std::map<std::string, std::string>;

constexpr const char* kKey = "dce_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr const char* kSite = "http://shop.allowed.test:8080";

std::string str(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "<missing>";
}

// A host with the embed plugin and the fake sources, with `embeds` (YAML list items, 6-space
// indented) as the embed config.
class Site {
 public:
  explicit Site(const std::string& embeds) : dir_(make_temp_dir()) {
    fs::create_directories(dir_ + "/plugins");
    fs::create_symlink(PLUGHOST_TEST_PLUGIN_DIR "/plughost_embed.so",
                       dir_ + "/plugins/plughost_embed.so");
    fs::create_symlink(EMBED_FAKE_SOURCES_DIR "/plughost_embed_fake_sources.so",
                       dir_ + "/plugins/plughost_embed_fake_sources.so");
    host_ = std::make_unique<Host>(
        "version: 1\n"
        "server: {listen: 127.0.0.1:0}\n"
        "log: {format: json}\n"
        "storage: {url: \"sqlite://" +
        dir_ +
        "/embed.db\"}\n"
        "plugins_dir: " +
        dir_ +
        "/plugins\n"
        "plugins:\n"
        "  embed_fake_sources: {}\n"
        "  embed:\n"
        "    required: true\n"
        "    config:\n"
        "      embeds:\n" +
        embeds);
    ready_ = host_->wait_ready();
  }
  ~Site() {
    host_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool ready() const { return ready_; }
  Host& host() { return *host_; }
  int port() const { return host_->port(); }

  HttpResponse chat(const std::string& body, Headers h = {}) {
    if (!h.count("X-API-Key")) h["X-API-Key"] = kKey;
    if (!h.count("Origin")) h["Origin"] = kSite;
    h["Content-Type"] = "application/json";
    return http(port(), "POST", "/api/embed/help/chat/", h, body);
  }
  HttpResponse config(Headers h) { return http(port(), "GET", "/api/embed/help/config/", h, ""); }

 private:
  std::string dir_;
  std::unique_ptr<Host> host_;
  bool ready_ = false;
};

std::string embed_yaml(const std::string& extra = "",
                       const std::string& answer = "{source: rag, endpoint: docs}") {
  return std::string(
             "        - id: help\n"
             "          title: Help Desk\n"
             "          primary_color: \"#112233\"\n"
             "          api_key: \"") +
         kKey +
         "\"\n"
         "          allowed_origins: [\"http://*.allowed.test:*\", \"partner.example\"]\n"
         "          answer: " +
         answer + "\n" + extra +
         "        - id: off\n"
         "          enabled: false\n"
         "          api_key: \"" +
         kKey +
         "\"\n"
         "          answer: {source: rag, endpoint: docs}\n";
}

TEST(embed_http, WidgetScriptIsServedAndUnknownEmbedsAre404) {
  Site site(embed_yaml());
  ASSERT_TRUE(site.ready()) << site.host().output();
  auto r = http(site.port(), "GET", "/api/embed/help/widget.js", {}, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/javascript; charset=utf-8");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_NE(r.body.find("attachShadow"), std::string::npos);
  EXPECT_NE(r.body.find("data-key"), std::string::npos);
  for (std::string id : {"nope", "off"}) {
    auto missing = http(site.port(), "GET", "/api/embed/" + id + "/widget.js", {}, "");
    EXPECT_EQ(missing.status, 404) << id;
    EXPECT_EQ(missing.body, "// Embed not found\n");
    EXPECT_EQ(http(site.port(), "GET", "/api/embed/" + id + "/config/",
                   {{"X-API-Key", kKey}, {"Origin", kSite}}, "")
                  .status,
              404);
  }
}

TEST(embed_http, DemoPageIncludesTheWidgetOnlyWhenAsked) {
  Site site(embed_yaml("          demo_page: true\n"));
  ASSERT_TRUE(site.ready()) << site.host().output();
  auto page = http(site.port(), "GET", "/api/embed/help/demo/", {}, "");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(
      page.body.find(std::string("<script src=\"/api/embed/help/widget.js\" data-key=\"") + kKey),
      std::string::npos)
      << page.body;
  Site plain(embed_yaml());
  ASSERT_TRUE(plain.ready());
  EXPECT_EQ(http(plain.port(), "GET", "/api/embed/help/demo/", {}, "").status, 404);
}

TEST(embed_http, ConfigNeedsTheKeyAndAnAllowedSite) {
  Site site(embed_yaml());
  ASSERT_TRUE(site.ready()) << site.host().output();
  auto ok = site.config({{"X-API-Key", kKey}, {"Origin", kSite}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto d = json(ok);
  EXPECT_EQ(str(d, "title"), "Help Desk");
  EXPECT_EQ(str(d, "primary_color"), "#112233");
  EXPECT_EQ(str(d, "placeholder"), "Type your question...");
  EXPECT_EQ(d["rate_limit"].GetInt(), 60);
  EXPECT_EQ(ok.header("access-control-allow-origin"), kSite);

  // The key: wrong or missing 401; X-Embed-Key and ?key= work too.
  auto wrong = site.config({{"X-API-Key", std::string(kKey) + "0"}, {"Origin", kSite}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(str(json(wrong)["error"], "code"), "UNAUTHORIZED");
  EXPECT_EQ(site.config({{"Origin", kSite}}).status, 401);
  EXPECT_EQ(site.config({{"X-Embed-Key", kKey}, {"Origin", kSite}}).status, 200);
  EXPECT_EQ(http(site.port(), "GET", std::string("/api/embed/help/config/?key=") + kKey,
                 {{"Origin", kSite}}, "")
                .status,
            200);

  // The site: host glob, bare host, Referer when there is no Origin; refused otherwise, without
  // a CORS header, and a missing or opaque origin is refused too.
  EXPECT_EQ(site.config({{"X-API-Key", kKey}, {"Origin", "https://partner.example"}}).status, 200);
  EXPECT_EQ(
      site.config({{"X-API-Key", kKey}, {"Referer", "http://a.allowed.test:1/page?x=1"}}).status,
      200);
  for (std::string origin : {"http://evil.test", "http://allowed.test.evil.net:80", "null"}) {
    auto refused = site.config({{"X-API-Key", kKey}, {"Origin", origin}});
    EXPECT_EQ(refused.status, 403) << origin;
    EXPECT_EQ(str(json(refused)["error"], "code"), "FORBIDDEN");
    EXPECT_FALSE(refused.has("access-control-allow-origin")) << origin;
  }
  EXPECT_EQ(site.config({{"X-API-Key", kKey}}).status, 403);
}

TEST(embed_http, PreflightsAreAnsweredForAllowedSitesOnly) {
  Site site(embed_yaml());
  ASSERT_TRUE(site.ready()) << site.host().output();
  Headers h = {{"Origin", kSite},
               {"Access-Control-Request-Method", "POST"},
               {"Access-Control-Request-Headers", "content-type, x-api-key"}};
  auto r = http(site.port(), "OPTIONS", "/api/embed/help/chat/", h, "");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("access-control-allow-origin"), kSite);
  EXPECT_NE(r.header("access-control-allow-headers").find("X-API-Key"), std::string::npos);
  EXPECT_NE(r.header("access-control-allow-methods").find("POST"), std::string::npos);
  EXPECT_EQ(r.header("access-control-max-age"), "86400");
  h["Origin"] = "http://evil.test";
  auto refused = http(site.port(), "OPTIONS", "/api/embed/help/chat/", h, "");
  EXPECT_EQ(refused.status, 403);
  EXPECT_FALSE(refused.has("access-control-allow-origin"));
}

TEST(embed_http, ChatAnswersFromThePassagesAndCitesThem) {
  Site site(embed_yaml());
  ASSERT_TRUE(site.ready()) << site.host().output();
  auto r = site.chat(R"({"message":"How is the webhook signature computed?"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  std::string answer = str(d, "response");
  EXPECT_NE(answer.find("The signature is an HMAC-SHA256 of the raw body"), std::string::npos)
      << answer;
  EXPECT_EQ(str(d, "answer"), answer);
  ASSERT_TRUE(d["sources"].IsArray());
  ASSERT_GE(d["sources"].Size(), 1u);
  EXPECT_EQ(str(d["sources"][0], "title"), "Webhooks");
  EXPECT_EQ(str(d["sources"][0], "id"), "doc-webhooks");
  std::string session = str(d, "session_id");
  EXPECT_EQ(session.rfind("emb_", 0), 0u);
  EXPECT_EQ(r.header("access-control-allow-origin"), kSite);
  EXPECT_EQ(r.header("x-ratelimit-limit"), "60");

  // The same conversation continues; `question` is accepted for `message`.
  auto again = json(site.chat(R"({"question":"What happens over the rate limit?","session_id":")" +
                              session + "\"}"));
  EXPECT_EQ(str(again, "session_id"), session);
  EXPECT_NE(str(again, "response").find("429"), std::string::npos) << str(again, "response");
  EXPECT_EQ(str(again["sources"][0], "title"), "Rate limits");
  // A session id it never issued starts a new session.
  auto forged = json(
      site.chat(R"({"message":"webhook","session_id":"emb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})"));
  EXPECT_NE(str(forged, "session_id"), "emb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

  // The caller cannot pick another tenant's knowledge base: X-Tenant-ID is ignored (the fake
  // retriever knows only tenant "default" passages; any other tenant would fail the call).
  auto other_tenant = site.chat(R"({"message":"webhook signature"})", {{"X-Tenant-ID", "globex"}});
  EXPECT_EQ(other_tenant.status, 200) << other_tenant.body;

  // Nothing relevant: said plainly, no sources.
  auto none = json(site.chat(R"({"message":"zebra quantum marmalade"})"));
  EXPECT_EQ(str(none, "response").rfind("I could not find anything", 0), 0u);
  EXPECT_EQ(none["sources"].Size(), 0u);
}

TEST(embed_http, BadMessagesAre400AndNothingIsCounted) {
  Site site(embed_yaml("          rate_limit: 2\n"));
  ASSERT_TRUE(site.ready()) << site.host().output();
  const std::vector<std::string> bad = {R"({})", R"({"message":"   "})", R"({"message":42})", "[1]",
                                        "{\"message\":\"" + std::string(1001, 'x') + "\"}"};
  for (const std::string& body : bad) {
    auto r = site.chat(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(str(json(r)["error"], "code"), "VALIDATION_ERROR") << body;
  }
  EXPECT_EQ(site.chat("{not json").status, 400);
  // Refused before counting: the limit of 2 is still whole.
  EXPECT_EQ(site.chat(R"({"message":"webhook"})").status, 200);
}

TEST(embed_http, RateLimitIsPerSessionAndSessionsHaveAMessageBudget) {
  Site site(embed_yaml("          rate_limit: 3\n          max_queries_per_session: 5\n"));
  ASSERT_TRUE(site.ready()) << site.host().output();
  auto first = site.chat(R"({"message":"webhook"})");  // counted against the address
  ASSERT_EQ(first.status, 200);
  std::string s = str(json(first), "session_id");
  std::string body = R"({"message":"webhook","session_id":")" + s + "\"}";
  for (int i = 0; i < 3; ++i) ASSERT_EQ(site.chat(body).status, 200) << i;
  auto limited = site.chat(body);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(str(json(limited)["error"], "code"), "RATE_LIMITED");
  EXPECT_EQ(limited.header("x-ratelimit-remaining"), "0");
  int retry = std::atoi(limited.header("retry-after").c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  // Another conversation from the same address still has its own allowance.
  EXPECT_EQ(site.chat(R"({"message":"webhook"})").status, 200);

  // The budget: a session that sent max_queries_per_session messages is done.
  Site budget(embed_yaml("          max_queries_per_session: 2\n"));
  ASSERT_TRUE(budget.ready());
  auto a = budget.chat(R"({"message":"webhook"})");
  std::string sid = str(json(a), "session_id");
  std::string more = R"({"message":"webhook","session_id":")" + sid + "\"}";
  EXPECT_EQ(budget.chat(more).status, 200);
  auto spent = budget.chat(more);
  EXPECT_EQ(spent.status, 429);
  EXPECT_NE(str(json(spent)["error"], "message").find("message limit"), std::string::npos);
}

TEST(embed_http, LlmAnswersSeeTheContextAndTheConversation) {
  Site site(embed_yaml("", "{source: llm, llm: echo, endpoint: docs}"));
  ASSERT_TRUE(site.ready()) << site.host().output();
  auto one = json(site.chat(R"({"message":"webhook signature?"})"));
  EXPECT_EQ(str(one, "response"), "turns=2 context=yes last=webhook signature?");
  EXPECT_EQ(str(one["sources"][0], "title"), "Webhooks");
  // No passage shares a word with this one: no context, but the conversation so far.
  auto two =
      json(site.chat(R"({"message":"zebra?","session_id":")" + str(one, "session_id") + "\"}"));
  EXPECT_EQ(str(two, "response"), "turns=4 context=no last=zebra?");  // system + 2 earlier + this
}

TEST(embed_http, UpstreamFailuresAre502AndTheHostStaysUp) {
  Site site(embed_yaml("", "{source: llm, llm: broken}") +
            "        - id: lost\n"
            "          api_key: \"" +
            kKey +
            "\"\n"
            "          answer: {source: rag, endpoint: no-such-endpoint}\n");
  ASSERT_TRUE(site.ready()) << site.host().output();
  auto r = site.chat(R"({"message":"hello there"})");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(str(json(r)["error"], "code"), "UPSTREAM_ERROR");
  EXPECT_EQ(r.body.find("10.0.0.9"), std::string::npos);  // the detail is logged, not answered
  auto lost = http(site.port(), "POST", "/api/embed/lost/chat/",
                   {{"X-API-Key", kKey}, {"Origin", kSite}, {"Content-Type", "application/json"}},
                   R"({"message":"webhook"})");
  EXPECT_EQ(lost.status, 502);
  EXPECT_EQ(http(site.port(), "GET", "/healthz", {}, "").status, 200);
  EXPECT_EQ(site.host().output().find(kKey), std::string::npos);  // the key is never logged
}

TEST(embed_http, AnEmbedWithoutAKeyStopsTheHost) {
  Site site("        - id: nokey\n          answer: {source: rag, endpoint: docs}\n");
  EXPECT_FALSE(site.ready());
  EXPECT_NE(site.host().output().find("needs api_key or api_key_sha256"), std::string::npos)
      << site.host().output();
}

}  // namespace
