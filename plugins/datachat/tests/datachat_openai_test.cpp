// The OpenAI-compatible client against a stub chat-completions server on 127.0.0.1 started by
// the test: request shape (model, messages with the schema, bearer key), chat output, SQL
// extraction, CANNOT_ANSWER, and upstream errors.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <plughost/json.hpp>

#include "openai_client.hpp"

namespace datachat {
namespace {

// Answers every request with `status` and `body`; keeps the last request it saw.
class StubServer {
 public:
  StubServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 8);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~StubServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  void reply(int status, std::string body) {
    std::lock_guard<std::mutex> l(mu_);
    status_ = status;
    body_ = std::move(body);
  }
  std::string last_request() {
    std::lock_guard<std::mutex> l(mu_);
    return request_;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[8192];
      size_t need = std::string::npos;
      while (true) {
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        size_t end = in.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          size_t cl = in.find("Content-Length: ");
          need = end + 4 + (cl != std::string::npos && cl < end ? std::stoul(in.substr(cl + 16)) : 0);
        }
        if (need != std::string::npos && in.size() >= need) break;
      }
      std::string out;
      {
        std::lock_guard<std::mutex> l(mu_);
        request_ = in;
        out = "HTTP/1.1 " + std::to_string(status_) + " X\r\nContent-Type: application/json\r\n"
              "Content-Length: " + std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n" +
              body_;
      }
      ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  int status_ = 200;
  std::string body_;
  std::string request_;
};

std::string completion(const std::string& content) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value msg(rapidjson::kObjectType), choice(rapidjson::kObjectType),
      choices(rapidjson::kArrayType), usage(rapidjson::kObjectType);
  msg.AddMember("role", "assistant", a);
  msg.AddMember("content", rapidjson::Value(content.c_str(), a), a);
  choice.AddMember("message", msg, a);
  choices.PushBack(choice, a);
  usage.AddMember("total_tokens", 42, a);
  d.AddMember("model", "stub-model", a);
  d.AddMember("choices", choices, a);
  d.AddMember("usage", usage, a);
  return plughost::sdk::to_json(d);
}

Schema shop() {
  Schema s;
  s.dialect = "sqlite";
  Table t;
  t.name = "orders";
  t.columns = {{"id", "integer", true, {}, false}, {"status", "text", false, {"paid", "open"}, true}};
  s.tables.push_back(t);
  return s;
}

TEST(datachat_openai, ChatSendsTheMessagesAndTheKeyAndReturnsContent) {
  StubServer stub;
  stub.reply(200, completion("Hello there"));
  OpenAiClient client({stub.url(), "local-model", "sk-test-123", 5, 0, 64});
  rapidjson::Document in;
  in.Parse(R"({"messages":[{"role":"user","content":"hi"}],"temperature":0.5})");
  rapidjson::Document out;
  out.Parse(client.chat_json(in).c_str());
  EXPECT_STREQ(out["content"].GetString(), "Hello there");
  EXPECT_STREQ(out["model"].GetString(), "stub-model");
  EXPECT_EQ(out["usage"]["total_tokens"].GetInt(), 42);
  std::string req = stub.last_request();
  EXPECT_NE(req.find("POST /v1/chat/completions"), std::string::npos);
  EXPECT_NE(req.find("Authorization: Bearer sk-test-123"), std::string::npos);
  EXPECT_NE(req.find("\"model\":\"local-model\""), std::string::npos);
  EXPECT_NE(req.find("\"content\":\"hi\""), std::string::npos);
}

TEST(datachat_openai, TranslateSqlPromptsWithTheSchemaAndExtractsTheQuery) {
  StubServer stub;
  stub.reply(200, completion("Here you go:\n```sql\nSELECT COUNT(*) FROM orders WHERE status = 'paid';\n```"));
  OpenAiClient client({stub.url(), "m", "", 5, 0, 64});
  TranslateRequest rq;
  rq.question = "How many paid orders?";
  rq.schema = shop();
  rq.history = {{"How many orders?", "SELECT COUNT(*) FROM orders"}};
  Translation t = client.translate_sql(rq);
  EXPECT_EQ(t.sql, "SELECT COUNT(*) FROM orders WHERE status = 'paid'");
  std::string req = stub.last_request();
  EXPECT_NE(req.find("orders(id integer primary key"), std::string::npos);
  EXPECT_NE(req.find("How many paid orders?"), std::string::npos);
  EXPECT_NE(req.find("SELECT COUNT(*) FROM orders\""), std::string::npos);  // the earlier turn
  EXPECT_EQ(req.find("Authorization"), std::string::npos);
}

TEST(datachat_openai, CannotAnswerAndEmptyRepliesAreRefusals) {
  StubServer stub;
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
  StubServer stub;
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
