// The plugin in the real host over HTTP: ingestion at start and on demand (incremental), the
// query and health routes with their errors, tenancy, access policies, the retriever connector,
// the OpenAI-compatible embedder and an HTTP source against a local stub server, a SQL source on
// a SQLite file, and indexes that survive a restart.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <plughost/json.hpp>
#include <plughost/testing.hpp>

namespace {

namespace fs = std::filesystem;
using plughost::testing::eventually;
using plughost::testing::Host;
using plughost::testing::HttpResponse;
using plughost::testing::json;
using plughost::testing::StubReply;
using plughost::testing::StubRequest;
using plughost::testing::StubServer;
using plughost::testing::write_file;
using Headers = std::map<std::string, std::string>;

// A host with the rag plugin (its `config:` given as flow YAML/JSON) and the test probe.
class Lab {
 public:
  explicit Lab(const std::string& plugin_config, std::string dir = {},
               bool host_default_roles = false, const std::string& rate_limits = "{enabled: false}")
      : dir_(dir.empty() ? plughost::testing::make_temp_dir() : std::move(dir)),
        host_default_roles_(host_default_roles) {
    std::string plugins = dir_ + "/plugins";
    if (!fs::exists(plugins)) {
      fs::create_directories(plugins);
      fs::create_symlink(PLUGHOST_TEST_PLUGIN_DIR "/plughost_rag.so", plugins + "/plughost_rag.so");
      fs::create_symlink(RAG_TEST_PROBE_DIR "/plughost_rag_test_probe.so",
                         plugins + "/plughost_rag_test_probe.so");
    }
    // Without explicit roles the host's defaults apply (viewer: rag.query; editor: + rag.manage).
    std::string roles = host_default_roles_
                            ? ""
                            : "  roles: {admin: ['*'], editor: [rag.query, rag.manage], viewer: "
                              "[rag.query]}\n";
    host_ = std::make_unique<Host>(
        "version: 1\n"
        "server: {listen: 127.0.0.1:0}\n"
        "log: {format: json, access: false}\n"
        "auth:\n"
        "  enabled: true\n" +
        roles + "rate_limits: " + rate_limits + "\n" + "storage: {url: \"" + storage_url() +
        "\", pool_size: 3}\n" + "tasks: {workers: 2, poll_interval_seconds: 0.05}\n" +
        "plugins_dir: " + plugins + "\n" +
        "plugins:\n"
        "  rag_test_probe: {}\n"
        "  rag:\n"
        "    config: " +
        plugin_config + "\n");
    ready_ = host_->wait_ready();
  }
  bool ready() const { return ready_; }
  // SQLite in the Lab's directory, or the PostgreSQL of tests/scripts/with_postgres.sh (each
  // rag_postgres_* ctest gets a fresh database).
  std::string storage_url() const {
    const char* pg = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
    return pg && *pg ? pg : "sqlite://" + dir_ + "/rag.db";
  }
  const std::string& dir() const { return dir_; }
  std::string output() { return host_->output(); }
  bool wait_for_output(const std::string& s) { return host_->wait_for_output(s); }
  void stop() { host_.reset(); }

  HttpResponse call(const std::string& method, const std::string& path,
                    const std::string& body = {}, const std::string& role = "admin",
                    Headers headers = {}) {
    if (!role.empty()) headers["Authorization"] = "Bearer " + role;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return plughost::testing::http(host_->port(), method, path, headers, body);
  }
  HttpResponse query(const std::string& slug, const std::string& body,
                     const std::string& role = "admin", Headers headers = {}) {
    return call("POST", "/api/rag/endpoints/" + slug + "/query/", body, role, std::move(headers));
  }
  // Polls health until the endpoint reports `documents` documents after a sync.
  bool wait_documents(const std::string& slug, int documents, const std::string& role = "admin") {
    return eventually(
        [&] {
          auto r = call("GET", "/api/rag/endpoints/" + slug + "/health/", {}, role);
          if (r.status != 200) return false;
          auto d = json(r);
          return d["last_sync"].IsString() && d["document_count"].GetInt() == documents;
        },
        20);
  }

 private:
  std::string dir_;
  bool host_default_roles_;
  std::unique_ptr<Host> host_;
  bool ready_ = false;
};

std::string corpus_dir() {
  std::string dir = plughost::testing::make_temp_dir() + "/corpus";
  fs::create_directories(dir);
  write_file(dir + "/refunds.md",
             "---\ncategory: support\n---\n# Refund policy\n\nReturns are accepted within 30 days "
             "of delivery and refunded to the original payment method.\n");
  write_file(dir + "/shipping.md",
             "---\ncategory: logistics\n---\n# Shipping\n\nStandard parcels arrive in three to "
             "five working days; express parcels the next day.\n");
  write_file(dir + "/hours.txt",
             "Store hours\n\nOur stores open Monday to Saturday from 9 to 8.\n");
  return dir;
}

std::string folder_endpoint(const std::string& dir, const std::string& extra = "") {
  return "{slug: docs, sources: [{type: folder, path: \"" + dir + "\", metadata: {team: help}}]" +
         extra + "}";
}

TEST(rag_http, IngestsAtStartAndAnswersQueriesWithMetadataAndTraceId) {
  std::string corpus = corpus_dir();
  Lab lab("{data_dir: \"" + corpus + "/../idx\", endpoints: [" + folder_endpoint(corpus) + "]}");
  ASSERT_TRUE(lab.ready()) << lab.output();
  ASSERT_TRUE(lab.wait_documents("docs", 3)) << lab.output();

  auto r = lab.query("docs",
                     R"({"query":"how long do I have to return an item for a refund?","top_k":2})",
                     "viewer", {{"X-Trace-ID", "trace-42"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  EXPECT_STREQ(d["query"].GetString(), "how long do I have to return an item for a refund?");
  ASSERT_EQ(d["results"].Size(), 2u);
  const auto& top = d["results"][0];
  EXPECT_STREQ(top["id"].GetString(), "refunds.md#0");
  EXPECT_STREQ(top["source_id"].GetString(), "refunds.md");
  EXPECT_NE(std::string(top["content"].GetString()).find("30 days"), std::string::npos);
  EXPECT_STREQ(top["metadata"]["category"].GetString(), "support");
  EXPECT_STREQ(top["metadata"]["team"].GetString(), "help");
  EXPECT_STREQ(top["metadata"]["title"].GetString(), "Refund policy");
  EXPECT_GT(top["score"].GetDouble(), d["results"][1]["score"].GetDouble());
  EXPECT_TRUE(d["latency_ms"].IsNumber());
  EXPECT_STREQ(d["trace_id"].GetString(), "trace-42");
  EXPECT_EQ(d["total_count"].GetInt(), 2);

  // Filters: equality, and a list meaning any of.
  d = json(lab.query("docs", R"({"query":"parcels refund","filters":{"category":"logistics"}})"));
  ASSERT_EQ(d["results"].Size(), 1u);
  EXPECT_STREQ(d["results"][0]["source_id"].GetString(), "shipping.md");
  d = json(lab.query(
      "docs",
      R"({"query":"parcels refund stores","filters":{"category":["logistics","support"]}})"));
  EXPECT_EQ(d["results"].Size(), 2u);

  // Each mode answers; the default top_k is 5 (3 documents here).
  for (const char* mode : {"bm25", "vector", "hnsw", "hybrid"}) {
    d = json(lab.query("docs",
                       std::string(R"({"query":"when do stores open","mode":")") + mode + "\"}"));
    ASSERT_TRUE(d.HasMember("results")) << mode;
    ASSERT_GE(d["results"].Size(), 1u) << mode;
    EXPECT_STREQ(d["results"][0]["source_id"].GetString(), "hours.txt") << mode;
  }

  auto h = json(lab.call("GET", "/api/rag/endpoints/docs/health/", {}, "viewer"));
  EXPECT_STREQ(h["status"].GetString(), "healthy");
  EXPECT_TRUE(h["healthy"].GetBool());
  EXPECT_STREQ(h["endpoint"].GetString(), "docs");
  EXPECT_STREQ(h["provider"].GetString(), "hnsw");
  EXPECT_EQ(h["document_count"].GetInt(), 3);
  EXPECT_EQ(h["chunk_count"].GetInt(), 3);
  EXPECT_TRUE(h["latency_ms"].IsNumber());
  EXPECT_TRUE(fs::exists(corpus + "/../idx/docs.hnsw"));

  auto list = json(lab.call("GET", "/api/rag/endpoints/", {}, "viewer"));
  ASSERT_EQ(list["count"].GetInt(), 1);
  EXPECT_STREQ(list["results"][0]["slug"].GetString(), "docs");
  // The log carries the query's SHA-256, never its text.
  EXPECT_EQ(lab.output().find("how long do I have to return"), std::string::npos);
  EXPECT_NE(lab.output().find("query_sha256="), std::string::npos);
}

TEST(rag_http, RejectsBadInputWithTheEnvelope) {
  std::string corpus = corpus_dir();
  Lab lab("{data_dir: \"" + corpus + "/../idx\", sync_at_start: false, endpoints: [" +
          folder_endpoint(corpus) +
          ", {slug: off, status: disabled}, {slug: fixing, status: maintenance}, "
          "{slug: other, tenant: acme}]}");
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto expect_error = [&](const HttpResponse& r, int status, const char* code,
                          const std::string& message, const char* field) {
    ASSERT_EQ(r.status, status) << r.body;
    auto d = json(r);
    EXPECT_STREQ(d["error"]["code"].GetString(), code) << r.body;
    EXPECT_EQ(d["error"]["message"].GetString(), message) << r.body;
    if (field) {
      ASSERT_EQ(d["error"]["details"].Size(), 1u) << r.body;
      EXPECT_STREQ(d["error"]["details"][0]["field"].GetString(), field);
    }
    EXPECT_TRUE(d["error"]["trace_id"].IsString());
  };
  expect_error(lab.query("docs", R"({"query":"  "})"), 400, "VALIDATION_ERROR", "Query is required",
               "query");
  expect_error(lab.query("docs", R"({"top_k":3})"), 400, "VALIDATION_ERROR", "Query is required",
               "query");
  expect_error(lab.query("docs", R"({"query":"x","top_k":0})"), 400, "VALIDATION_ERROR",
               "top_k must be an integer between 1 and 100", "top_k");
  expect_error(lab.query("docs", R"({"query":"x","top_k":101})"), 400, "VALIDATION_ERROR",
               "top_k must be an integer between 1 and 100", "top_k");
  expect_error(lab.query("docs", R"({"query":"x","top_k":"5"})"), 400, "VALIDATION_ERROR",
               "top_k must be an integer between 1 and 100", "top_k");
  expect_error(lab.query("docs", R"({"query":"x","filters":["a"]})"), 400, "VALIDATION_ERROR",
               "filters must be an object of field: value or field: [values]", "filters");
  expect_error(lab.query("docs", R"({"query":"x","mode":"exact"})"), 400, "VALIDATION_ERROR",
               "This endpoint's vector store is hnsw, not exact", "mode");
  expect_error(lab.query("docs", R"({"query":"x","mode":"fuzzy"})"), 400, "VALIDATION_ERROR",
               "mode must be one of hybrid, bm25, vector, hnsw, exact", "mode");
  auto bad_json = lab.query("docs", "{not json");
  EXPECT_EQ(bad_json.status, 400) << bad_json.body;
  expect_error(lab.query("nope", R"({"query":"x"})"), 404, "NOT_FOUND",
               "RAG endpoint 'nope' not found", nullptr);
  expect_error(lab.call("GET", "/api/rag/endpoints/nope/health/"), 404, "NOT_FOUND",
               "RAG endpoint 'nope' not found", nullptr);
  expect_error(lab.query("off", R"({"query":"x"})"), 503, "UNAVAILABLE", "Endpoint is disabled",
               nullptr);
  expect_error(lab.query("fixing", R"({"query":"x"})"), 503, "UNAVAILABLE",
               "Endpoint is maintenance", nullptr);
  EXPECT_STREQ(json(lab.call("GET", "/api/rag/endpoints/off/health/"))["status"].GetString(),
               "disabled");
  // Tenancy: an endpoint is seen only by its tenant.
  EXPECT_EQ(lab.query("other", R"({"query":"x"})").status, 404);
  EXPECT_EQ(lab.query("other", R"({"query":"x"})", "admin", {{"X-Tenant-ID", "acme"}}).status, 200);
  EXPECT_EQ(lab.query("docs", R"({"query":"x"})", "admin", {{"X-Tenant-ID", "acme"}}).status, 404);
  // Identity: no credentials 401, a viewer may not start a sync.
  EXPECT_EQ(lab.query("docs", R"({"query":"x"})", "").status, 401);
  EXPECT_EQ(lab.call("POST", "/api/rag/endpoints/docs/sync/", "{}", "viewer").status, 403);
  EXPECT_EQ(lab.call("POST", "/api/rag/endpoints/docs/sync/", "{}", "").status, 401);
  // Nothing ingested yet (sync_at_start false): health says so.
  auto h = json(lab.call("GET", "/api/rag/endpoints/docs/health/"));
  EXPECT_STREQ(h["status"].GetString(), "degraded");
  EXPECT_TRUE(h["last_sync"].IsNull());
}

TEST(rag_http, SyncIsIncrementalAndRemovedFilesLeaveTheIndex) {
  std::string corpus = corpus_dir();
  Lab lab("{data_dir: \"" + corpus + "/../idx\", endpoints: [" + folder_endpoint(corpus) + "]}");
  ASSERT_TRUE(lab.ready()) << lab.output();
  ASSERT_TRUE(lab.wait_documents("docs", 3)) << lab.output();
  ASSERT_TRUE(lab.wait_for_output("3 added, 0 updated, 0 removed, 0 unchanged"));

  write_file(corpus + "/refunds.md",
             "---\ncategory: support\n---\n# Refund policy\n\nReturns are now accepted within 60 "
             "days of delivery.\n");
  fs::remove(corpus + "/hours.txt");
  write_file(corpus + "/warranty.html",
             "<title>Warranty</title><p>Electronics carry a two year warranty.</p>");
  auto r = lab.call("POST", "/api/rag/endpoints/docs/sync/", "{}", "editor");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_STREQ(json(r)["status"].GetString(), "queued");
  ASSERT_TRUE(lab.wait_for_output("1 added, 1 updated, 1 removed, 1 unchanged")) << lab.output();

  auto d = json(lab.query("docs", R"({"query":"refund days","mode":"bm25","top_k":1})"));
  ASSERT_EQ(d["results"].Size(), 1u);
  EXPECT_NE(std::string(d["results"][0]["content"].GetString()).find("60 days"), std::string::npos);
  for (const char* mode : {"bm25", "vector"}) {
    d = json(lab.query(
        "docs", std::string(R"({"query":"stores open Monday Saturday","top_k":10,"mode":")") +
                    mode + "\"}"));
    for (const auto& hit : d["results"].GetArray()) {
      EXPECT_STRNE(hit["source_id"].GetString(), "hours.txt") << mode;
    }
  }
  d = json(lab.query("docs", R"({"query":"warranty for electronics","top_k":1})"));
  ASSERT_EQ(d["results"].Size(), 1u);
  EXPECT_STREQ(d["results"][0]["source_id"].GetString(), "warranty.html");
  EXPECT_EQ(json(lab.call("GET", "/api/rag/endpoints/docs/health/"))["document_count"].GetInt(), 3);

  // A source that fails keeps its documents (nothing is lost) and the health says why.
  fs::rename(corpus, corpus + ".moved");
  ASSERT_EQ(lab.call("POST", "/api/rag/endpoints/docs/sync/", "{}", "editor").status, 202);
  ASSERT_TRUE(eventually(
      [&] {
        auto h = json(lab.call("GET", "/api/rag/endpoints/docs/health/"));
        return h["last_error"].IsString();
      },
      20));
  auto h = json(lab.call("GET", "/api/rag/endpoints/docs/health/"));
  EXPECT_STREQ(h["status"].GetString(), "degraded");
  EXPECT_EQ(h["document_count"].GetInt(), 3);
  EXPECT_NE(std::string(h["last_error"].GetString()).find("does not exist"), std::string::npos);
}

TEST(rag_http, AccessPolicyAndRetrieverConnector) {
  std::string corpus = corpus_dir();
  Lab lab("{data_dir: \"" + corpus + "/../idx\", endpoints: [" +
          folder_endpoint(corpus, ", policy: {allowed_groups: [editor], denied_users: [admin]}") +
          "]}");
  ASSERT_TRUE(lab.ready()) << lab.output();
  ASSERT_TRUE(lab.wait_documents("docs", 3, "editor")) << lab.output();
  auto denied = lab.query("docs", R"({"query":"refund"})", "viewer");
  ASSERT_EQ(denied.status, 403) << denied.body;
  EXPECT_STREQ(json(denied)["error"]["message"].GetString(), "Access denied");
  EXPECT_EQ(lab.query("docs", R"({"query":"refund"})", "admin").status, 403);
  auto allowed = lab.query("docs", R"({"query":"refund","top_k":2})", "editor");
  ASSERT_EQ(allowed.status, 200) << allowed.body;

  // Another plugin calling retriever/rag gets the same body as the HTTP route.
  auto via = lab.call(
      "POST", "/test/retrieve",
      R"({"endpoint":"docs","query":"refund","top_k":2,"filters":{},"tenant":"default","trace_id":"t1"})",
      "");
  ASSERT_EQ(via.status, 200) << via.body;
  auto a = json(allowed), b = json(via);
  ASSERT_EQ(a["results"].Size(), b["results"].Size());
  for (rapidjson::SizeType i = 0; i < a["results"].Size(); ++i) {
    EXPECT_STREQ(a["results"][i]["id"].GetString(), b["results"][i]["id"].GetString());
    EXPECT_EQ(a["results"][i]["score"], b["results"][i]["score"]);
  }
  EXPECT_STREQ(b["trace_id"].GetString(), "t1");
  EXPECT_STREQ(b["query"].GetString(), "refund");
  auto missing = lab.call("POST", "/test/retrieve", R"({"endpoint":"nope","query":"x"})", "");
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(json(missing)["connector_error"].GetInt(), 2);  // PH_ERR_NOT_FOUND
  auto empty = lab.call("POST", "/test/retrieve", R"({"endpoint":"docs","query":""})", "");
  EXPECT_EQ(json(empty)["connector_error"].GetInt(), 1);  // PH_ERR_INVALID_ARGUMENT
}

// Vectors the stub "model" returns: letter frequencies a..p, so related texts are close.
std::string stub_embeddings(const std::string& body) {
  rapidjson::Document in;
  in.Parse(body.c_str());
  std::string out = R"({"object":"list","data":[)";
  for (rapidjson::SizeType i = 0; i < in["input"].Size(); ++i) {
    std::string text = in["input"][i].GetString();
    int counts[16] = {0};
    for (char c : text) {
      char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (l >= 'a' && l <= 'p') ++counts[l - 'a'];
    }
    out += std::string(i ? "," : "") + R"({"object":"embedding","index":)" + std::to_string(i) +
           R"(,"embedding":[)";
    for (int k = 0; k < 16; ++k) out += (k ? "," : "") + std::to_string(counts[k] + 1);
    out += "]}";
  }
  return out + R"(],"model":"stub"})";
}

TEST(rag_http, OpenAICompatibleEmbedderAndHttpSourceAgainstAStub) {
  std::atomic<int> fail_embeddings{0};
  StubServer stub([&](const StubRequest& rq) -> StubReply {
    const std::string &method = rq.method, &path = rq.path, &body = rq.body;
    if (method == "POST" && path == "/v1/embeddings") {
      if (fail_embeddings) return StubReply(500, R"({"error":"overloaded"})", "application/json");
      return StubReply(200, stub_embeddings(body), "application/json");
    }
    if (path == "/pages/faq.html") {
      return StubReply(
          200, "<html><title>FAQ</title><body><p>Gift cards never expire.</p></body></html>",
          "text/html");
    }
    if (path == "/pages/notes.md") {
      return StubReply(200, "# Notes\n\nBulk orders get volume pricing.\n", "text/markdown");
    }
    return StubReply(404, "missing", "text/plain");
  });
  std::string dir = plughost::testing::make_temp_dir();
  Lab lab("{data_dir: \"" + dir + "/idx\", embedders: {stub: {type: openai, base_url: \"" +
          stub.url() +
          "/v1\", api_key: sk-test-secret-123, model: stub-model}}, endpoints: [{slug: web, "
          "embedder: stub, "
          "vector_store: exact, search_mode: vector, sources: [{type: http, name: site, urls: [\"" +
          stub.url() + "/pages/faq.html\", \"" + stub.url() + "/pages/notes.md\"]}]}]}");
  ASSERT_TRUE(lab.ready()) << lab.output();
  ASSERT_TRUE(lab.wait_documents("web", 2)) << lab.output();
  auto d = json(lab.query("web", R"({"query":"gift cards expire","top_k":2})"));
  ASSERT_EQ(d["results"].Size(), 2u) << plughost::sdk::to_json(d);
  EXPECT_STREQ(d["mode"].GetString(), "vector");
  EXPECT_STREQ(d["results"][0]["metadata"]["source"].GetString(), "site");
  std::string ids = std::string(d["results"][0]["source_id"].GetString()) +
                    d["results"][1]["source_id"].GetString();
  EXPECT_NE(ids.find("/pages/faq.html"), std::string::npos);
  EXPECT_NE(ids.find("/pages/notes.md"), std::string::npos);
  bool bearer_sent = false;
  for (const auto& r : stub.requests()) {
    if (r.path == "/v1/embeddings")
      bearer_sent = r.header("authorization") == "Bearer sk-test-secret-123";
  }
  EXPECT_TRUE(bearer_sent);
  EXPECT_EQ(lab.output().find("sk-test-secret-123"), std::string::npos);
  // The provider failing answers 502 in the envelope, within the request.
  fail_embeddings = 1;
  auto r = lab.query("web", R"({"query":"gift cards"})");
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_STREQ(json(r)["error"]["code"].GetString(), "UPSTREAM_ERROR");
  EXPECT_NE(std::string(json(r)["error"]["message"].GetString()).find("HTTP 500"),
            std::string::npos);
  EXPECT_STREQ(json(lab.call("GET", "/api/rag/endpoints/web/health/"))["status"].GetString(),
               "unhealthy");
}

TEST(rag_http, HostDefaultRolesLetViewersQueryAndEditorsSync) {
  std::string corpus = corpus_dir();
  Lab lab("{data_dir: \"" + corpus + "/../idx\", sync_at_start: false, endpoints: [" +
              folder_endpoint(corpus) + "]}",
          {}, true);
  ASSERT_TRUE(lab.ready()) << lab.output();
  EXPECT_EQ(lab.query("docs", R"({"query":"refund"})", "viewer").status, 200);
  EXPECT_EQ(lab.call("POST", "/api/rag/endpoints/docs/sync/", "{}", "viewer").status, 403);
  EXPECT_EQ(lab.call("POST", "/api/rag/endpoints/docs/sync/", "{}", "editor").status, 202);
  EXPECT_TRUE(lab.wait_documents("docs", 3, "editor"));
}

TEST(rag_http, ExternalProviderAnswersQueriesAndHealth) {
  std::atomic<bool> down{false};
  std::mutex mu;
  std::string last_query;
  StubServer stub([&](const StubRequest& rq) -> StubReply {
    const std::string &method = rq.method, &path = rq.path, &body = rq.body;
    if (down) return StubReply(503, "maintenance window", "text/plain");
    if (method == "POST" && path == "/rag/query") {
      std::lock_guard<std::mutex> lock(mu);
      last_query = body;
      return StubReply(200,
                       R"({"results":[{"id":"kb-7","text":"Refunds take 5 days.","score":0.91,)"
                       R"("metadata":{"category":"support"}}]})",
                       "application/json");
    }
    if (method == "GET" && path == "/rag/health") {
      return StubReply(200, R"({"status":"ok"})", "application/json");
    }
    return StubReply(404, "missing", "text/plain");
  });
  std::string dir = plughost::testing::make_temp_dir();
  Lab lab("{data_dir: \"" + dir + "/idx\", endpoints: [{slug: kb, external: {base_url: \"" +
          stub.url() + "/rag\", namespace: support, api_key: ext-key-9}}]}");
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto r = lab.query("kb", R"({"query":"refund time","top_k":3,"filters":{"category":"support"}})",
                     "admin", {{"X-Trace-ID", "ext-1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  ASSERT_EQ(d["results"].Size(), 1u);
  EXPECT_STREQ(d["results"][0]["id"].GetString(), "kb-7");
  EXPECT_STREQ(d["results"][0]["content"].GetString(), "Refunds take 5 days.");
  EXPECT_STREQ(d["results"][0]["metadata"]["category"].GetString(), "support");
  {
    std::lock_guard<std::mutex> lock(mu);
    rapidjson::Document sent;
    sent.Parse(last_query.c_str());
    ASSERT_TRUE(sent.IsObject()) << last_query;
    EXPECT_STREQ(sent["query"].GetString(), "refund time");
    EXPECT_EQ(sent["top_k"].GetInt(), 3);
    EXPECT_STREQ(sent["namespace"].GetString(), "support");
    EXPECT_STREQ(sent["trace_id"].GetString(), "ext-1");
    EXPECT_STREQ(sent["filters"]["category"].GetString(), "support");
  }
  ASSERT_FALSE(stub.requests().empty());
  EXPECT_EQ(stub.requests().front().header("authorization"), "Bearer ext-key-9");
  auto h = json(lab.call("GET", "/api/rag/endpoints/kb/health/"));
  EXPECT_STREQ(h["status"].GetString(), "healthy");
  EXPECT_STREQ(h["provider"].GetString(), "external");
  down = true;
  r = lab.query("kb", R"({"query":"refund time"})");
  ASSERT_EQ(r.status, 502) << r.body;
  EXPECT_NE(
      std::string(json(r)["error"]["message"].GetString()).find("HTTP 503: maintenance window"),
      std::string::npos);
  h = json(lab.call("GET", "/api/rag/endpoints/kb/health/"));
  EXPECT_STREQ(h["status"].GetString(), "unhealthy");
  EXPECT_FALSE(h["healthy"].GetBool());
}

TEST(rag_http, QueriesUseTheRagRateClass) {
  std::string corpus = corpus_dir();
  Lab lab("{data_dir: \"" + corpus + "/../idx\", sync_at_start: false, endpoints: [" +
              folder_endpoint(corpus) + "]}",
          {}, false,
          "{enabled: true, exempt_loopback: false, classes: {rag: {limit: 2, window_seconds: 60}, "
          "standard: {limit: 100, window_seconds: 60}}}");
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto first = lab.query("docs", R"({"query":"refund"})");
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("x-ratelimit-limit"), "2");
  EXPECT_EQ(lab.query("docs", R"({"query":"refund"})").status, 200);
  auto third = lab.query("docs", R"({"query":"refund"})");
  EXPECT_EQ(third.status, 429) << third.body;
  EXPECT_STREQ(json(third)["error"]["code"].GetString(), "RATE_LIMITED");
  // Health is in the standard class, not counted against queries.
  EXPECT_EQ(lab.call("GET", "/api/rag/endpoints/docs/health/").status, 200);
}

TEST(rag_http, SqlSourceRowsBecomeDocumentsWithColumnMetadata) {
  std::string dir = plughost::testing::make_temp_dir();
  std::string db_path = dir + "/warehouse.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE articles (article_id INTEGER, headline TEXT, body TEXT, "
                         "region TEXT, year INTEGER);"
                         "INSERT INTO articles VALUES (1, 'Solar', 'Solar panels on every "
                         "warehouse roof.', 'north', 2023),"
                         "(2, 'Trucks', 'Electric trucks for city deliveries.', 'south', 2024),"
                         "(3, 'Wind', 'A wind farm powers the north depot.', 'north', 2024);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Lab lab("{data_dir: \"" + dir +
          "/idx\", endpoints: [{slug: warehouse, sources: [{type: sql, name: dw, url: \"sqlite://" +
          db_path +
          "\", query: \"SELECT article_id, headline, body, region, year FROM articles\", "
          "id_column: article_id, "
          "text_column: body, title_column: headline}]}]}");
  ASSERT_TRUE(lab.ready()) << lab.output();
  ASSERT_TRUE(lab.wait_documents("warehouse", 3)) << lab.output();
  auto d = json(
      lab.query("warehouse", R"({"query":"energy","filters":{"region":"north","year":[2024]}})"));
  ASSERT_EQ(d["results"].Size(), 1u) << plughost::sdk::to_json(d);
  EXPECT_STREQ(d["results"][0]["source_id"].GetString(), "3");
  EXPECT_STREQ(d["results"][0]["metadata"]["title"].GetString(), "Wind");
  EXPECT_EQ(d["results"][0]["metadata"]["year"].GetInt(), 2024);
}

TEST(rag_http, IndexesSurviveARestartWithoutReingesting) {
  std::string corpus = corpus_dir();
  std::string config_tail = "endpoints: [" + folder_endpoint(corpus) +
                            ", {slug: exact, vector_store: exact, "
                            "sources: [{type: folder, path: \"" +
                            corpus + "\"}]}]}";
  std::string dir;
  {
    Lab first("{data_dir: \"" + corpus + "/../idx\", " + config_tail);
    ASSERT_TRUE(first.ready()) << first.output();
    ASSERT_TRUE(first.wait_documents("docs", 3));
    ASSERT_TRUE(first.wait_documents("exact", 3));
    dir = first.dir();
    first.stop();
    Lab second("{data_dir: \"" + corpus + "/../idx\", sync_at_start: false, sync_schedule: \"\", " +
                   config_tail,
               dir);
    ASSERT_TRUE(second.ready()) << second.output();
    for (const char* slug : {"docs", "exact"}) {
      auto d = json(
          second.query(slug, R"({"query":"when do parcels arrive","mode":"vector","top_k":1})"));
      ASSERT_EQ(d["results"].Size(), 1u) << slug;
      EXPECT_STREQ(d["results"][0]["source_id"].GetString(), "shipping.md") << slug;
    }
    EXPECT_EQ(second.output().find("rag: synced"), std::string::npos);
  }
}

}  // namespace
