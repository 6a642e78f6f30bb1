// Unit tests of the retrieval core, in process: text handling, the hashed embedder, BM25,
// filters, both vector stores (with HNSW persistence on a real temp directory), fusion and the
// connector JSON contracts.
#include <gtest/gtest.h>

#include <filesystem>
#include <plughost/testing.hpp>

#include "bm25.hpp"
#include "exact_store.hpp"
#include "hnsw_store.hpp"
#include "retrieval.hpp"
#include "sources.hpp"
#include "text.hpp"

namespace {

using namespace rag;
namespace fs = std::filesystem;

double dot(const Vector& a, const Vector& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

TEST(rag_text, FrontMatterGivesValuesListsAndBody) {
  FrontMatter fm =
      parse_front_matter("---\ntitle: \"Refunds\"\ntags: [a, 'b c']\n---\n# Body\ntext\n");
  EXPECT_EQ(fm.values["title"], "Refunds");
  EXPECT_EQ(fm.lists["tags"], (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(fm.body, "# Body\ntext\n");
  EXPECT_EQ(parse_front_matter("no block").body, "no block");
}

TEST(rag_text, HtmlToTextDropsScriptsAndDecodesEntities) {
  std::string title;
  std::string text = html_to_text(
      "<html><head><title>Help</title><style>p{}</style></head><body><p>A &amp; B</p>"
      "<script>var x = 1;</script><p>C&lt;D</p></body></html>",
      &title);
  EXPECT_EQ(title, "Help");
  EXPECT_NE(text.find("A & B"), std::string::npos);
  EXPECT_NE(text.find("C<D"), std::string::npos);
  EXPECT_EQ(text.find("var x"), std::string::npos);
  EXPECT_EQ(text.find("p{}"), std::string::npos);
}

TEST(rag_text, ChunksRespectSizeAndOverlap) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "word" + std::to_string(i) + (i % 10 == 9 ? ".\n\n" : " ");
  auto chunks = chunk_text(text, 200, 40);
  ASSERT_GT(chunks.size(), 5u);
  for (const auto& c : chunks) EXPECT_LE(c.size(), 200u) << c;
  // consecutive chunks share words
  for (size_t i = 1; i < chunks.size(); ++i) {
    std::string last_word = chunks[i - 1].substr(chunks[i - 1].rfind(' ') + 1);
    EXPECT_NE(chunks[i].find(last_word), std::string::npos) << i;
  }
  EXPECT_NE(chunks.back().find("word199"), std::string::npos);
  EXPECT_TRUE(chunk_text("   ", 100, 10).empty());
}

TEST(rag_text, KeywordTokensDropStopWordsAndFoldPlurals) {
  EXPECT_EQ(keyword_tokens("What are the Refunds for orders?"),
            (std::vector<std::string>{"refund", "order"}));
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string back;
  ASSERT_TRUE(base64_decode(base64_encode(std::string("\0\1\2xyz", 6)), back));
  EXPECT_EQ(back, std::string("\0\1\2xyz", 6));
}

TEST(rag_embedder, HashedVectorsAreUnitLengthDeterministicAndSimilarForRelatedText) {
  HashedEmbedder e(256);
  Vector a = e.embed_one("refund policy for returned goods");
  Vector b = e.embed_one("refunds of returned products");
  Vector c = e.embed_one("opening hours of the flagship store");
  EXPECT_EQ(a.size(), 256u);
  EXPECT_NEAR(dot(a, a), 1.0, 1e-5);
  EXPECT_EQ(a, e.embed_one("refund policy for returned goods"));
  EXPECT_GT(dot(a, b), dot(a, c) + 0.1);
}

TEST(rag_embedder, ConnectorContractAnswersVectorsAndDimensions) {
  HashedEmbedder e(64);
  rapidjson::Document d;
  d.Parse(run_embedder_connector(e, "embed", R"({"texts":["a b","c"]})").c_str());
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(d["dimensions"].GetInt(), 64);
  EXPECT_EQ(d["vectors"].Size(), 2u);
  EXPECT_THROW(run_embedder_connector(e, "embed", R"({"texts":[1]})"), std::invalid_argument);
  EXPECT_THROW(run_embedder_connector(e, "train", "{}"), std::invalid_argument);
}

TEST(rag_bm25, RanksRarerMatchingTermsHigherAndForgetsRemovedIds) {
  Bm25Index idx;
  idx.add(1, "the cat sat on the mat");
  idx.add(2, "dogs chase cats in the park");
  idx.add(3, "stock market report for the quarter");
  auto hits = idx.search("cat park", 3);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, 2);  // matches both terms
  idx.remove(2);
  hits = idx.search("park", 3);
  EXPECT_TRUE(hits.empty());
  EXPECT_EQ(idx.size(), 2u);
  hits = idx.search("cat", 3, [](int64_t id) { return id != 1; });
  EXPECT_TRUE(hits.empty());
}

TEST(rag_filter, EqualityListsAndListValuedMetadata) {
  rapidjson::Document f;
  f.Parse(R"({"category":["support","billing"],"year":2024})");
  Filter filter;
  std::string error;
  ASSERT_TRUE(parse_filter(f, filter, error)) << error;
  EXPECT_TRUE(matches(filter, flatten_metadata_json(R"({"category":"billing","year":2024})")));
  EXPECT_TRUE(
      matches(filter, flatten_metadata_json(R"({"category":["x","support"],"year":"2024"})")));
  EXPECT_FALSE(matches(filter, flatten_metadata_json(R"({"category":"sales","year":2024})")));
  EXPECT_FALSE(matches(filter, flatten_metadata_json(R"({"category":"support"})")));
  f.Parse(R"({"a":{"b":1}})");
  EXPECT_FALSE(parse_filter(f, filter, error));
  EXPECT_NE(error.find("\"a\""), std::string::npos);
  f.Parse(R"({"a":[]})");
  EXPECT_FALSE(parse_filter(f, filter, error));
}

std::vector<StoreItem> sample_items(size_t n, size_t dims) {
  HashedEmbedder e(dims);
  std::vector<StoreItem> items;
  for (size_t i = 0; i < n; ++i) {
    std::string cat = i % 3 == 0 ? "a" : "b";
    items.push_back({static_cast<int64_t>(i + 1), e.embed_one("item number " + std::to_string(i)),
                     "{\"cat\":\"" + cat + "\"}"});
  }
  return items;
}

void check_store(VectorStore& store) {
  auto items = sample_items(300, 64);
  store.upsert("c1", items);
  EXPECT_EQ(store.count("c1"), 300u);
  auto hits = store.query("c1", items[41].vector, 3, Filter{});
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].id, 42);
  EXPECT_NEAR(hits[0].score, 1.0, 1e-4);
  Filter only_a;
  only_a.terms = {{"cat", {"a"}}};
  hits = store.query("c1", items[41].vector, 5, only_a);  // item 42 is cat "b"
  ASSERT_EQ(hits.size(), 5u);
  for (const auto& h : hits) EXPECT_EQ((h.id - 1) % 3, 0) << h.id;
  store.remove("c1", {42});
  hits = store.query("c1", items[41].vector, 1, Filter{});
  EXPECT_NE(hits[0].id, 42);
  EXPECT_EQ(store.count("c1"), 299u);
  EXPECT_THROW(store.upsert("c1", {{999, Vector(10, 0.1f), "{}"}}), std::invalid_argument);
  EXPECT_EQ(store.count("other"), 0u);
  store.drop("c1");
  EXPECT_EQ(store.count("c1"), 0u);
}

TEST(rag_store, ExactStoreFindsNeighboursFiltersAndRemoves) {
  ExactStore store;
  check_store(store);
}

TEST(rag_store, HnswStoreFindsNeighboursFiltersAndRemoves) {
  HnswStore store(HnswSettings{});
  check_store(store);
}

TEST(rag_store, HnswIndexSurvivesARestartThroughItsFiles) {
  std::string dir = plughost::testing::make_temp_dir();
  auto items = sample_items(50, 32);
  {
    HnswStore store(HnswSettings{dir, 16, 100, 32});
    store.upsert("docs", items);
    store.remove("docs", {7});
    store.flush("docs");
  }
  EXPECT_TRUE(fs::exists(dir + "/docs.hnsw"));
  HnswStore reopened(HnswSettings{dir, 16, 100, 32});
  EXPECT_EQ(reopened.count("docs"), 49u);
  auto hits = reopened.query("docs", items[9].vector, 1, Filter{});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, 10);
  Filter f;
  f.terms = {{"cat", {"a"}}};
  for (const auto& h : reopened.query("docs", items[9].vector, 4, f)) EXPECT_EQ((h.id - 1) % 3, 0);
  // a deleted id cannot come back into an HNSW collection
  EXPECT_THROW(reopened.upsert("docs", {items[6]}), std::invalid_argument);
  fs::remove_all(dir);
}

TEST(rag_store, ConnectorContractRoundTrip) {
  ExactStore store;
  std::string up = upsert_request("col", {{5, {1, 0, 0}, R"({"k":"v"})"}, {6, {0, 1, 0}, "{}"}});
  EXPECT_EQ(run_store_connector(store, "upsert", up), R"({"upserted":2})");
  EXPECT_EQ(run_store_connector(store, "count", R"({"collection":"col"})"), R"({"count":2})");
  auto matches = parse_matches(
      run_store_connector(store, "query", query_request("col", {1, 0.1f, 0}, 1, R"({"k":"v"})")));
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].id, 5);
  EXPECT_EQ(run_store_connector(store, "delete", R"({"collection":"col","ids":[5]})"),
            R"({"deleted":1})");
  EXPECT_THROW(run_store_connector(store, "count", R"({"collection":"../x"})"),
               std::invalid_argument);
  EXPECT_THROW(run_store_connector(store, "compact", R"({"collection":"col"})"),
               std::invalid_argument);
}

TEST(rag_index, HybridFusesKeywordAndVectorRankings) {
  auto embedder = std::make_shared<HashedEmbedder>(256);
  EndpointIndex index("t", embedder, std::make_shared<ExactStore>());
  std::vector<Chunk> chunks;
  std::vector<std::string> texts;
  const char* contents[] = {"Refunds are paid within five days.",
                            "Shipping is free above 50 euros.",
                            "Opening hours: 9 to 8 on weekdays."};
  for (int i = 0; i < 3; ++i) {
    Chunk c;
    c.label = i + 1;
    c.document_id = "d" + std::to_string(i);
    c.chunk_id = c.document_id + "#0";
    c.content = contents[i];
    c.metadata_json = i == 1 ? R"({"category":"logistics"})" : R"({"category":"support"})";
    texts.push_back(indexed_text(c));
    chunks.push_back(c);
  }
  index.add(chunks, embedder->embed(texts));
  for (SearchMode m : {SearchMode::kKeyword, SearchMode::kVector, SearchMode::kHybrid}) {
    auto hits = index.search("when are refunds paid", m, 2, Filter{});
    ASSERT_FALSE(hits.empty()) << search_mode_name(m);
    EXPECT_EQ(hits[0].document_id, "d0") << search_mode_name(m);
  }
  Filter logistics;
  logistics.terms = {{"category", {"logistics"}}};
  auto hits = index.search("when are refunds paid", SearchMode::kHybrid, 5, logistics);
  for (const auto& h : hits) EXPECT_EQ(h.document_id, "d1");
  index.remove({1});
  EXPECT_EQ(index.chunk_count(), 2u);
  hits = index.search("refunds", SearchMode::kKeyword, 5, Filter{});
  EXPECT_TRUE(hits.empty());
}

TEST(rag_sources, FolderReadsMarkdownHtmlTextAndPdf) {
  std::string dir = plughost::testing::make_temp_dir();
  fs::create_directories(dir + "/sub");
  plughost::testing::write_file(dir + "/a.md", "---\ncategory: x\n---\n# Alpha\nalpha text\n");
  plughost::testing::write_file(dir + "/sub/b.html", "<title>Beta</title><p>beta text</p>");
  plughost::testing::write_file(dir + "/c.txt", "gamma text");
  plughost::testing::write_file(dir + "/skip.bin", "zzz");
  SourceSpec spec;
  spec.name = "f";
  spec.type = "folder";
  spec.path = dir;
  spec.extensions = {".md", ".html", ".txt", ".pdf"};
  spec.metadata_json = R"({"team":"docs"})";
  SourceLoad load = load_source(spec);
  ASSERT_TRUE(load.ok) << load.error;
  ASSERT_EQ(load.documents.size(), 3u);
  EXPECT_EQ(load.documents[0].id, "a.md");
  EXPECT_EQ(load.documents[0].title, "Alpha");
  auto meta = flatten_metadata_json(load.documents[0].metadata_json);
  EXPECT_EQ(meta["category"], std::vector<std::string>{"x"});
  EXPECT_EQ(meta["team"], std::vector<std::string>{"docs"});
  EXPECT_EQ(meta["source"], std::vector<std::string>{"f"});
  EXPECT_EQ(load.documents[2].id, "sub/b.html");
  EXPECT_EQ(load.documents[2].title, "Beta");

  // A PDF that pdftotext cannot read fails the whole source (its old documents stay).
  plughost::testing::write_file(dir + "/broken.pdf", "not a pdf");
  load = load_source(spec);
  EXPECT_FALSE(load.ok);
  EXPECT_NE(load.error.find("broken.pdf"), std::string::npos);
  spec.path = dir + "/missing";
  EXPECT_FALSE(load_source(spec).ok);
  fs::remove_all(dir);
}

}  // namespace
