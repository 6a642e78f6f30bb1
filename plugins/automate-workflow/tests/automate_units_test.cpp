// Unit tests of the plugin's pure parts: slugs, canonical JSON, graph validation and order.
#include <gtest/gtest.h>
#include <sodium.h>

#include <plughost/json.hpp>

#include "basics.hpp"
#include "expression.hpp"
#include "graph.hpp"
#include "signature.hpp"
#include "templates.hpp"

namespace automate {
namespace {

rapidjson::Document parse(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  return d;
}

TEST(automate_units, SlugifyLowersAndJoinsWordsWithDashes) {
  EXPECT_EQ(slugify("Order Processor!"), "order-processor");
  EXPECT_EQ(slugify("  --Slack  Notification-- "), "slack-notification");
  EXPECT_EQ(slugify("!!!"), "workflow");
}

TEST(automate_units, CanonicalJsonSortsKeysAtEveryLevel) {
  auto d = parse(R"({"b":1,"a":{"z":[{"y":1,"x":2}],"c":null}})");
  EXPECT_EQ(canonical_json(d), R"({"a":{"c":null,"z":[{"x":2,"y":1}]},"b":1})");
  ASSERT_GE(sodium_init(), 0);
  EXPECT_EQ(sha256_hex(canonical_json(d)),
            sha256_hex(canonical_json(parse(R"({"a":{"z":[{"x":2,"y":1}],"c":null},"b":1})"))));
}

TEST(automate_units, RunOrderPutsSourcesBeforeTargets) {
  auto g = parse(R"({"nodes":[{"id":"c","type":"t"},{"id":"a","type":"t"},{"id":"b","type":"t"}],
                     "edges":[{"source":"a","target":"b"},{"source":"b","target":"c"}]})");
  ASSERT_TRUE(validate_graph(g, {"t"}).empty());
  EXPECT_EQ(run_order(g), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(automate_units, ValidateGraphNamesEveryProblem) {
  auto g = parse(R"({"nodes":[{"id":"a","type":"t"},{"id":"a","type":"nope"},{"id":"b"}],
                     "edges":[{"source":"a","target":"zz"}]})");
  auto problems = validate_graph(g, {"t"});
  std::vector<std::string> fields;
  for (const auto& p : problems) fields.push_back(p.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"graph.nodes[1].id", "graph.nodes[1].type",
                                              "graph.nodes[2].type", "graph.edges[0].target"}));
}

TEST(automate_units, ValidateGraphRejectsCycles) {
  auto g = parse(R"({"nodes":[{"id":"a","type":"t"},{"id":"b","type":"t"}],
                     "edges":[{"source":"a","target":"b"},{"source":"b","target":"a"}]})");
  auto problems = validate_graph(g, {"t"});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "graph.edges");
}

TEST(automate_units, WebhookSignatureIsHmacSha256OfTheRawBody) {
  ASSERT_GE(sodium_init(), 0);
  // RFC 4231 test case 2.
  const char* mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  EXPECT_EQ(webhook_signature("Jefe", "what do ya want for nothing?"), mac);
  EXPECT_TRUE(verify_webhook_signature("Jefe", "what do ya want for nothing?", mac));
  EXPECT_TRUE(
      verify_webhook_signature("Jefe", "what do ya want for nothing?",
                               "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"));
  EXPECT_FALSE(verify_webhook_signature("Jefe", "what do ya want for nothing!", mac));
  EXPECT_FALSE(verify_webhook_signature("Jefe", "what do ya want for nothing?", ""));
  EXPECT_EQ(signature_from_headers(std::string_view("sha256=ab"), std::nullopt), "ab");
  EXPECT_EQ(signature_from_headers(std::string_view("ab"), std::string_view("cd")), std::nullopt);
  EXPECT_EQ(signature_from_headers(std::nullopt, std::string_view("cd")), "cd");
}

TEST(automate_units, TemplatesReadPathsOnlyAndNameMissingKeys) {
  auto context = parse(R"({"event":{"type":"t","payload":{"n":2,"s":"x","list":[5,6]}},
                           "steps":{"a":{"output":{"ok":true}}}})");
  rapidjson::Document out;
  auto& a = out.GetAllocator();
  auto render = [&](const char* config) {
    return plughost::sdk::to_json(render_templates(parse(config), context, a));
  };
  EXPECT_EQ(render(R"({"v":"{{ event.payload.n }}"})"), R"({"v":2})");
  EXPECT_EQ(render(R"({"v":"n={{event.payload.n}} s={{ event.payload.s }}"})"),
            R"({"v":"n=2 s=x"})");
  EXPECT_EQ(render(R"(["{{ event.payload.list.1 }}","{{ previous.a.ok }}"])"), R"([6,true])");
  EXPECT_EQ(render(R"({"k":"{{ steps.a.output.ok }} {{ event.type }}"})"), R"({"k":"true t"})");
  EXPECT_THROW(render(R"({"v":"{{ event.payload.missing }}"})"), TemplateError);
  EXPECT_THROW(render(R"({"v":"{{ env.HOME }}"})"), TemplateError);
  EXPECT_THROW(render(R"({"v":"{{ event.payload.n + 1 }}"})"), TemplateError);
  EXPECT_THROW(render(R"({"v":"{{ event.type"})"), TemplateError);
  try {
    render(R"({"v":"{{ event.payload.missing }}"})");
  } catch (const TemplateError& e) {
    EXPECT_STREQ(e.what(), "missing key 'event.payload.missing'");
  }
}

// Found by tests/fuzz/workflow_template_fuzz.cpp: a string without {{ }} was copied as a C string,
// so a step config value holding "\u0000" lost everything after it.
TEST(automate_units, TemplatesKeepStringsWithNulBytesWhole) {
  auto context = parse(R"({"event":{"type":"t","payload":{}},"steps":{}})");
  rapidjson::Document out;
  auto& a = out.GetAllocator();
  EXPECT_EQ(plughost::sdk::to_json(
                render_templates(parse(R"({"v":"a\u0000b","w":["\u0000"]})"), context, a)),
            R"({"v":"a\u0000b","w":["\u0000"]})");
  EXPECT_EQ(plughost::sdk::to_json(
                render_templates(parse(R"({"v":"{{ event.type }}\u0000x"})"), context, a)),
            R"({"v":"t\u0000x"})");
}

TEST(automate_units, ExpressionsCompareCombineAndReadPaths) {
  auto context = parse(R"({"event":{"type":"order.created","payload":{"amount":120,"price":9.5,
                           "tier":"pro","tags":["vip","eu"],"meta":{"k":1},"none":null}},
                           "steps":{"a":{"output":{"ok":true,"n":0}}}})");
  auto eval = [&](const char* text) { return Expression::parse(text).evaluate(context); };
  EXPECT_TRUE(eval("event.payload.amount > 100"));
  EXPECT_FALSE(eval("event.payload.amount <= 100"));
  EXPECT_TRUE(eval("event.payload.amount == 120.0 and event.payload.price < 10"));
  EXPECT_TRUE(eval("{{ event.type }} == 'order.created'"));
  EXPECT_TRUE(eval("event.payload.tier != \"free\" && !(event.payload.amount < 0)"));
  EXPECT_TRUE(eval("'vip' in event.payload.tags and 'us' not in event.payload.tags"));
  EXPECT_TRUE(eval("'created' in event.type and 'k' in event.payload.meta"));
  EXPECT_TRUE(eval("false or true and true"));  // and binds tighter than or
  EXPECT_FALSE(eval("(false or true) and false"));
  EXPECT_TRUE(eval("previous.a.ok and not steps.a.output.n"));
  EXPECT_TRUE(eval("event.payload.none == null"));
  EXPECT_FALSE(eval("event.payload.none"));
  EXPECT_TRUE(eval("-1 < 0"));
  EXPECT_TRUE(eval("event.payload.tier in ['pro', 'team'] and 3 not in [1, 2]"));
  EXPECT_THROW(eval("event.payload.missing > 1"), TemplateError);
  EXPECT_THROW(eval("event.payload.tier > 1"), ExpressionError);  // string vs number
  EXPECT_THROW(eval("1 in 2"), ExpressionError);
}

TEST(automate_units, ExpressionSyntaxIsClosed) {
  for (const char* bad : {"", "1 +", "a.b == 1", "event.type ==", "(true", "true)", "'open",
                          "event.payload.x()", "os.system('id')", "event.type = 'x'",
                          "__import__('os')", "{{ event.type", "1 2", "[event.type]", "[1, 2"}) {
    EXPECT_THROW(Expression::parse(bad), ExpressionError) << bad;
  }
  std::string deep(200, '(');
  deep += "true" + std::string(200, ')');
  EXPECT_THROW(Expression::parse(deep), ExpressionError);
  EXPECT_THROW(Expression::parse(std::string(5000, '1')), ExpressionError);
  EXPECT_NO_THROW(Expression::parse("not not not true"));
}

}  // namespace
}  // namespace automate
