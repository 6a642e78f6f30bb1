// The OpenAI-compatible client against a stub chat-completions server on 127.0.0.1 started by
// the test: request shape (model, messages with the schema, bearer key), chat output, SQL
// extraction, CANNOT_ANSWER, and upstream errors.
#include <gtest/gtest.h>

#include <plughost/json.hpp>

#include "openai_client.hpp"
#include "stub_llm.hpp"

namespace datachat {
namespace {

using datachat_test::completion;
using datachat_test::StubLlm;

Schema shop() {
  Schema s;
  s.dialect = "sqlite";
  Table t;
  t.name = "orders";
  t.columns = {{"id", "integer", true, {}, false},
               {"status", "text", false, {"paid", "open"}, true}};
  s.tables.push_back(t);
  return s;
}

TEST(datachat_openai, ChatSendsTheMessagesAndTheKeyAndReturnsContent) {
  StubLlm stub;
  stub.reply(200, completion("Hello there"));
  OpenAiClient client({stub.url(), "local-model", "sk-test-123", 5, 0, 64});
  rapidjson::Document in;
  in.Parse(R"({"messages":[{"role":"user","content":"hi"}],"temperature":0.5})");
  rapidjson::Document out;
  out.Parse(client.chat_json(in).c_str());
  EXPECT_STREQ(out["content"].GetString(), "Hello there");
  EXPECT_STREQ(out["model"].GetString(), "stub-model");
  EXPECT_EQ(out["usage"]["total_tokens"].GetInt(), 42);
  auto req = stub.last_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/v1/chat/completions");
  EXPECT_EQ(req.header("authorization"), "Bearer sk-test-123");
  EXPECT_NE(req.body.find("\"model\":\"local-model\""), std::string::npos);
  EXPECT_NE(req.body.find("\"content\":\"hi\""), std::string::npos);
}

TEST(datachat_openai, TranslateSqlPromptsWithTheSchemaAndExtractsTheQuery) {
  StubLlm stub;
  stub.reply(
      200,
      completion("Here you go:\n```sql\nSELECT COUNT(*) FROM orders WHERE status = 'paid';\n```"));
  OpenAiClient client({stub.url(), "m", "", 5, 0, 64});
  TranslateRequest rq;
  rq.question = "How many paid orders?";
  rq.schema = shop();
  rq.history = {{"How many orders?", "SELECT COUNT(*) FROM orders"}};
  Translation t = client.translate_sql(rq);
  EXPECT_EQ(t.sql, "SELECT COUNT(*) FROM orders WHERE status = 'paid'");
  auto req = stub.last_request();
  EXPECT_NE(req.body.find("orders(id integer primary key"), std::string::npos);
  EXPECT_NE(req.body.find("How many paid orders?"), std::string::npos);
  EXPECT_NE(req.body.find("SELECT COUNT(*) FROM orders\""), std::string::npos);  // earlier turn
  EXPECT_FALSE(req.headers.count("authorization"));
}

TEST(datachat_openai, CannotAnswerAndEmptyRepliesAreRefusals) {
  StubLlm stub;
  stub.reply(200, completion("CANNOT_ANSWER: no employee table"));
  OpenAiClient client({stub.url(), "m", "", 5, 0, 64});
  TranslateRequest rq;
  rq.question = "How many employees?";
  rq.schema = shop();
  Translation t = client.translate_sql(rq);
  EXPECT_TRUE(t.sql.empty());
  EXPECT_EQ(t.cannot_answer, "no employee table");
  stub.reply(200, completion("I am not sure."));
  t = client.translate_sql(rq);
  EXPECT_TRUE(t.sql.empty());
  EXPECT_FALSE(t.cannot_answer.empty());
}

TEST(datachat_openai, UpstreamFailuresThrowWithTheStatus) {
  StubLlm stub;
  stub.reply(503, R"({"error":"overloaded"})");
  OpenAiClient client({stub.url(), "m", "", 5, 0, 64});
  TranslateRequest rq;
  rq.question = "How many orders?";
  rq.schema = shop();
  try {
    client.translate_sql(rq);
    FAIL() << "expected UpstreamError";
  } catch (const UpstreamError& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 503"), std::string::npos);
  }
  OpenAiClient nowhere({"http://127.0.0.1:1/v1", "m", "", 2, 0, 64});
  EXPECT_THROW(nowhere.translate_sql(rq), UpstreamError);
  rapidjson::Document bad;
  bad.Parse(R"({"messages":[{"role":"robot","content":"x"}]})");
  EXPECT_THROW(client.chat_json(bad), std::invalid_argument);
}

}  // namespace
}  // namespace datachat
