// The embed plugin's pure parts: site patterns and answer composition.
#include <gtest/gtest.h>

#include "answer.hpp"
#include "embeds.hpp"

namespace {

using namespace embed;

TEST(embed_units, GlobMatchesWholeTextCaseInsensitively) {
  EXPECT_TRUE(glob_match("*.example.com", "shop.example.com"));
  EXPECT_TRUE(glob_match("*.example.com", "a.b.EXAMPLE.com"));
  EXPECT_FALSE(glob_match("*.example.com", "example.com"));
  EXPECT_FALSE(glob_match("*.example.com", "shop.example.com.evil.net"));
  EXPECT_TRUE(glob_match("http://127.0.0.1:*", "http://127.0.0.1:5173"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob_match("*", ""));
}

TEST(embed_units, OriginsMatchByOriginHostPortOrHost) {
  Embed e;
  e.allowed_origins = {"https://*.shop.test", "partner.example", "localhost:3000"};
  EXPECT_TRUE(origin_allowed(e, "https://eu.shop.test"));
  EXPECT_FALSE(origin_allowed(e, "http://eu.shop.test"));  // scheme is part of the origin
  EXPECT_TRUE(origin_allowed(e, "https://partner.example:8443"));
  EXPECT_TRUE(origin_allowed(e, "http://localhost:3000"));
  EXPECT_FALSE(origin_allowed(e, "http://localhost:3001"));
  EXPECT_FALSE(origin_allowed(e, "null"));
  EXPECT_FALSE(origin_allowed(e, ""));
  Embed any;
  EXPECT_TRUE(origin_allowed(any, "https://anything.test"));
  EXPECT_FALSE(origin_allowed(any, ""));
  EXPECT_EQ(origin_of_url("https://a.test:8443/x/y?z"), "https://a.test:8443");
  EXPECT_EQ(origin_of_url("not a url"), "");
}

TEST(embed_units, KeysCompareByHash) {
  rapidjson::Document d;
  d.Parse(
      R"({"embeds":[{"id":"a","api_key":"dce_aaaaaaaaaaaaaaaaaaaaaaaa","answer":{"endpoint":"x"}}]})");
  auto embeds = parse_embeds(d);
  ASSERT_EQ(embeds.size(), 1u);
  EXPECT_TRUE(key_matches(embeds["a"], "dce_aaaaaaaaaaaaaaaaaaaaaaaa"));
  EXPECT_FALSE(key_matches(embeds["a"], "dce_aaaaaaaaaaaaaaaaaaaaaaab"));
  EXPECT_FALSE(key_matches(embeds["a"], ""));
  rapidjson::Document dup;
  dup.Parse(
      R"({"embeds":[{"id":"a","api_key":"dce_aaaaaaaaaaaaaaaaaaaaaaaa","answer":{"endpoint":"x"}},
                          {"id":"a","api_key":"dce_aaaaaaaaaaaaaaaaaaaaaaaa","answer":{"endpoint":"x"}}]})");
  EXPECT_THROW(parse_embeds(dup), std::invalid_argument);
}

TEST(embed_units, AnswersQuoteTheSentencesThatShareTheQuestionsWords) {
  std::vector<Passage> passages = {
      {"1", "Install", "# Installing\nRun apt install. Then start the host.", 2},
      {"2", "Webhooks",
       "Webhooks are signed. The signature uses HMAC-SHA256 over the body. Bad "
       "signatures get 401.",
       1}};
  auto a = compose_answer("How are webhook signatures checked?", passages);
  EXPECT_EQ(
      a.text,
      "Webhooks are signed. The signature uses HMAC-SHA256 over the body. Bad signatures get 401.");
  ASSERT_EQ(a.sources.size(), 1u);
  EXPECT_EQ(a.sources[0], 1u);
  EXPECT_TRUE(compose_answer("zebra?", passages).text.empty());
  EXPECT_TRUE(compose_answer("what is it?", passages).text.empty());  // stop words only
  // Markdown markers go; a heading counts as a sentence and gets its full stop.
  auto h = compose_answer("installing", passages);
  EXPECT_EQ(h.text, "Installing. Run apt install.");
  EXPECT_EQ(content_words("Signatures signed computed"),
            content_words("signature signing compute"));
}

}  // namespace
