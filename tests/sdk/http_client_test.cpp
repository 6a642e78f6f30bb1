// plughost/http_client.hpp against a real HTTP server on 127.0.0.1 (testing::StubServer).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <plughost/http_client.hpp>
#include <plughost/testing.hpp>

namespace http = plughost::http;
using plughost::testing::StubReply;
using plughost::testing::StubRequest;
using plughost::testing::StubServer;

TEST(HttpClient, PostSendsBodyAndHeadersAndReadsTheAnswer) {
  StubServer server([](const StubRequest& r) {
    StubReply reply(201, "{\"echo\":" + std::to_string(r.body.size()) + "}");
    reply.headers = {{"X-Request-Id", "abc"}};
    return reply;
  });
  http::Request req;
  req.method = "POST";
  req.url = server.url() + "/v1/things?x=1";
  req.headers = {{"Authorization", "Bearer s3cret"}, {"Content-Type", "application/json"}};
  req.body = "{\"a\":1}";
  http::Response r = http::perform(req);
  ASSERT_EQ(r.status, 201) << r.error;
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.body, "{\"echo\":7}");
  EXPECT_EQ(r.header("x-request-id"), "abc");
  EXPECT_EQ(r.header("content-type"), "application/json");
  ASSERT_EQ(server.requests().size(), 1u);
  const StubRequest got = server.requests()[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.path, "/v1/things");
  EXPECT_EQ(got.query, "x=1");
  EXPECT_EQ(got.header("authorization"), "Bearer s3cret");
  EXPECT_EQ(got.body, "{\"a\":1}");
  EXPECT_EQ(got.header("expect"), "");
}

TEST(HttpClient, OtherVerbsAndEmptyBodies) {
  StubServer server([](const StubRequest& r) { return StubReply(200, r.method); });
  for (const char* verb : {"GET", "PUT", "PATCH", "DELETE"}) {
    http::Request req;
    req.method = verb;
    req.url = server.url() + "/x";
    http::Response r = http::perform(req);
    ASSERT_EQ(r.status, 200) << verb << ": " << r.error;
    EXPECT_EQ(r.body, verb);
  }
  http::Request head;
  head.method = "HEAD";
  head.url = server.url() + "/x";
  http::Response r = http::perform(head);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "");
}

TEST(HttpClient, HttpErrorsAreAnswersNotTransportFailures) {
  StubServer server([](const StubRequest&) { return StubReply(503, "{\"error\":\"busy\"}"); });
  http::Request req;
  req.url = server.url() + "/";
  http::Response r = http::perform(req);
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(http::describe_failure(r, "Upstream"),
            "Upstream answered HTTP 503: {\"error\":\"busy\"}");
}

TEST(HttpClient, RedirectsAreFollowedOnlyWhenAsked) {
  StubServer server([](const StubRequest& r) {
    if (r.path == "/old") {
      StubReply reply(302, "");
      reply.headers = {{"Location", "/new"}};
      return reply;
    }
    return StubReply(200, "arrived at " + r.path);
  });
  http::Request req;
  req.url = server.url() + "/old";
  EXPECT_EQ(http::perform(req).status, 302);
  req.max_redirects = 3;
  http::Response r = http::perform(req);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "arrived at /new");
}

TEST(HttpClient, OversizedBodiesFailTheCall) {
  StubServer server([](const StubRequest&) { return StubReply(200, std::string(5000, 'x')); });
  http::Request req;
  req.url = server.url() + "/big";
  req.max_response_bytes = 4096;
  http::Response r = http::perform(req);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.error, "response larger than 4096 bytes");
  req.max_response_bytes = 5000;
  EXPECT_EQ(http::perform(req).body.size(), 5000u);
}

TEST(HttpClient, RefusedConnectionsAndOtherSchemesAreTransportFailures) {
  // A port that was just free: bind, read the port, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  http::Request req;
  req.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  http::Response r = http::perform(req);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error, "");
  EXPECT_NE(http::describe_failure(r, "Stripe").find("Stripe unreachable: "), std::string::npos);

  req.url = "file:///etc/passwd";
  r = http::perform(req);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.body, "");
  EXPECT_NE(r.error, "");
}

TEST(HttpClient, TimeoutsBoundTheCall) {
  // A listener that accepts (the kernel's backlog) and never answers.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  http::Request req;
  req.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  req.timeout_seconds = 0.3;
  http::Response r = http::perform(req);
  ::close(fd);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("imed out"), std::string::npos) << r.error;
}

TEST(HttpClient, FormEncoding) {
  EXPECT_EQ(http::url_encode("a b&c=d/é~-._"), "a%20b%26c%3Dd%2F%C3%A9~-._");
  EXPECT_EQ(http::form_encode({{"grant_type", "authorization_code"}, {"code", "x y"}}),
            "grant_type=authorization_code&code=x%20y");
  EXPECT_EQ(http::form_encode({}), "");
}
