// The host's front door over real sockets: strict request heads, pipelining, and large bodies
// on PH_ROUTE_LARGE_BODY routes — checked before they are read, spooled to disk as they arrive,
// never held in the heap. The real binary with the fixture_auth plugin (its /fx/upload routes
// answer the body's size, a hash of it, and the process's anonymous memory).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/socket.h>

#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "support.hpp"

namespace itest {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

std::string config(const std::string& spool_dir, const std::string& extra = "") {
  return "version: 1\n"
         "server:\n"
         "  listen: 127.0.0.1:0\n"
         "  max_body_bytes: 67108864\n"  // 64 MiB: the in-memory route can take the big body
         "  max_upload_bytes: 104857600\n"
         "  spool_threshold_bytes: 1048576\n"
         "  spool_dir: " +
         spool_dir + "\n" + extra +
         "log: {format: json}\n"
         "storage: {url: sqlite://plughost.db}\n"
         "auth: {enabled: true}\n"
         "rate_limits: {exempt_loopback: true}\n"
         "plugins_dir: " FIXTURE_PLUGIN_DIR
         "\n"
         "plugins:\n"
         "  fixture_auth: {}\n";
}

const std::map<std::string, std::string> kUploader = {
    {"Authorization", "Bearer scoped-files.upload"}};

std::string body_of(uint64_t size) {
  std::string body(size, '\0');
  uint32_t x = 2463534242u;  // xorshift: bytes that do not compress or repeat
  for (auto& c : body) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return body;
}

std::string fnv(const std::string& body) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : body) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return std::to_string(hash);
}

std::string head(const std::string& path, uint64_t length, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra +
         "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

void expect_error(const HttpResponse& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  ASSERT_FALSE(d.HasParseError()) << r.body;
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << r.body;
  EXPECT_EQ(std::string(d["error"]["code"].GetString()), code) << r.body;
}

class FrontDoor : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { start(""); }
  static void start(const std::string& extra) {
    spool_ = make_temp_dir();
    host_ = new Host(config(spool_, extra));
    ASSERT_TRUE(host_->wait_ready()) << host_->output();
  }
  static void TearDownTestSuite() {
    delete host_;
    host_ = nullptr;
    std::filesystem::remove_all(spool_);
  }
  static int port() { return host_->port(); }
  static long anon_kb(const HttpResponse& r) {
    auto d = json(r);
    return d.IsObject() && d.HasMember("rss_anon_kb") ? d["rss_anon_kb"].GetInt64() : -1;
  }
  static Host* host_;
  static std::string spool_;
};
Host* FrontDoor::host_ = nullptr;
std::string FrontDoor::spool_;

TEST_F(FrontDoor, LargeUploadIsSpooledToDiskNotHeldInMemory) {
  const std::string big = body_of(48 * kMiB);
  auto small = http(port(), "POST", "/fx/upload", kUploader, "x");
  ASSERT_EQ(small.status, 200) << small.body;
  long baseline = anon_kb(small);
  auto spooled = http(port(), "POST", "/fx/upload", kUploader, big);
  ASSERT_EQ(spooled.status, 200) << spooled.body;
  auto d = json(spooled);
  EXPECT_EQ(d["bytes"].GetUint64(), big.size());
  EXPECT_EQ(d["fnv"].GetString(), fnv(big));
  EXPECT_LT(anon_kb(spooled) - baseline, 16 * 1024) << "the spooled body was held in the heap";
  // The spool file never had a name: nothing is left in the spool directory.
  EXPECT_TRUE(std::filesystem::is_empty(spool_));
  // The control, measured after (freed heap may stay with the process, and AddressSanitizer
  // quarantines it): the same body on a route that takes it in memory must show, or the
  // measure's silence about the spooled one would prove nothing.
  auto in_memory = http(port(), "POST", "/fx/upload-in-memory", kUploader, big);
  ASSERT_EQ(in_memory.status, 200) << in_memory.body;
  EXPECT_EQ(json(in_memory)["fnv"].GetString(), fnv(big));
  EXPECT_GT(anon_kb(in_memory) - baseline, 40 * 1024) << "a heap-held body went unnoticed";
}

TEST_F(FrontDoor, UploadRouteTakesBodiesOverMaxBodyBytesUpToMaxUploadBytes) {
  // 70 MiB: over server.max_body_bytes (64 MiB), under max_upload_bytes (100 MiB).
  const std::string body = body_of(70 * kMiB);
  auto ok = http(port(), "POST", "/fx/upload", kUploader, body);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json(ok)["fnv"].GetString(), fnv(body));
}

TEST_F(FrontDoor, LargeBodyIsRefusedFromItsHeadersBeforeItIsSent) {
  struct Case {
    const char* path;
    uint64_t length;
    std::string credentials;
    int status;
    const char* code;
  };
  const Case cases[] = {
      {"/fx/upload", 48 * kMiB, "", 401, "UNAUTHORIZED"},
      {"/fx/upload", 48 * kMiB, "Authorization: Bearer scoped-other.thing\r\n", 403, "FORBIDDEN"},
      {"/fx/upload", 101 * kMiB, "Authorization: Bearer scoped-files.upload\r\n", 413,
       "PAYLOAD_TOO_LARGE"},
      {"/fx/upload-in-memory", 65 * kMiB, "Authorization: Bearer scoped-files.upload\r\n", 413,
       "PAYLOAD_TOO_LARGE"},
      {"/fx/nowhere", 48 * kMiB, "", 404, "NOT_FOUND"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.path) + " " + std::to_string(c.status));
    Connection conn(port());
    // Only the head: the answer must not wait for a body that never comes.
    ASSERT_TRUE(conn.send_raw(head(c.path, c.length, c.credentials + "Expect: 100-continue\r\n")));
    HttpResponse r = conn.read_response();
    if (c.status != 404) {
      EXPECT_EQ(r.status, c.status) << r.body;  // in the fixture plugin's own envelope
      EXPECT_NE(r.body.find(c.code), std::string::npos) << r.body;
    } else {
      expect_error(r, c.status, c.code);
    }
    EXPECT_EQ(r.header("connection"), "Close");
    EXPECT_TRUE(conn.peer_closed());
  }
}

TEST_F(FrontDoor, ExpectContinueIsAnsweredWhenTheHeadIsAdmitted) {
  const std::string body = body_of(2 * kMiB);
  Connection conn(port());
  ASSERT_TRUE(conn.send_raw(head("/fx/upload", body.size(),
                                 "Authorization: Bearer scoped-files.upload\r\n"
                                 "Expect: 100-continue\r\n")));
  HttpResponse interim = conn.read_response();
  ASSERT_EQ(interim.status, 100);
  ASSERT_TRUE(conn.send_raw(body));
  HttpResponse r = conn.read_response();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["fnv"].GetString(), fnv(body));
  // The connection stays open for the next request.
  EXPECT_EQ(conn.request("GET", "/fx/public").status, 200);
}

TEST_F(FrontDoor, ContinueFollowsTheAnswerToARequestPipelinedBeforeIt) {
  Connection conn(port());
  ASSERT_TRUE(
      conn.send_raw("GET /fx/public HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    "POST /fx/upload-in-memory HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Authorization: Bearer scoped-files.upload\r\nExpect: 100-continue\r\n"
                    "Content-Length: 5\r\n\r\n"));
  EXPECT_EQ(conn.read_response().status, 200);  // the GET's answer first (it was queued first)
  ASSERT_EQ(conn.read_response().status, 100);
  ASSERT_TRUE(conn.send_raw("hello"));
  HttpResponse r = conn.read_response();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["fnv"].GetString(), fnv("hello"));
}

TEST_F(FrontDoor, PipelinedRequestsAreAllAnsweredInOrder) {
  const std::string body = body_of(3 * kMiB);
  Connection conn(port());
  // A small POST, a spooled upload and a GET written in one go.
  std::string bytes =
      head("/fx/upload-in-memory", 5, "Authorization: Bearer scoped-files.upload\r\n") + "hello" +
      head("/fx/upload", body.size(), "Authorization: Bearer scoped-files.upload\r\n") + body +
      "GET /fx/public HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_TRUE(conn.send_raw(bytes));
  HttpResponse first = conn.read_response();
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(json(first)["bytes"].GetInt(), 5);
  HttpResponse second = conn.read_response();
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(json(second)["fnv"].GetString(), fnv(body));
  HttpResponse third = conn.read_response();
  EXPECT_EQ(third.status, 200) << third.body;
}

TEST_F(FrontDoor, MalformedHeadsAreRefusedInTheEnvelopeAndTheConnectionClosed) {
  struct Case {
    std::string bytes;
    int status;
    const char* code = "BAD_REQUEST";
  };
  const std::string big_header = "X-Big: " + std::string(70 * 1024, 'a') + "\r\n";
  const Case cases[] = {
      {"GET / HTTP/\r\n\r\n", 400},            // version cut short
      {"GET #x HTTP/\r\nt: a\r\n\r\n", 400},   // the Pistache over-read's shape
      {"G@T / HTTP/1.1\r\n\r\n", 400},         // not a token
      {"GET /a b HTTP/1.1\r\n\r\n", 400},      // space in the target
      {"GET relative HTTP/1.1\r\n\r\n", 400},  // not an absolute path
      {"GET / HTTP/2.0\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"},
      {"GET / HTTP/1.1\nHost: x\n\n", 400},            // bare LF line ends
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},  // space in a header name
      {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},     // space before the colon
      {"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400},   // obs-fold
      {"GET / HTTP/1.1\r\nX: a\x01"
       "b\r\n\r\n",
       400},  // control character
      {"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "NOT_IMPLEMENTED"},
      {"POST / HTTP/1.1\r\nExpect: something\r\nContent-Length: 1\r\n\r\n", 417,
       "EXPECTATION_FAILED"},
      {"GET / HTTP/1.1\r\n" + big_header + "\r\n", 431, "HEADERS_TOO_LARGE"},
      {std::string("\x16\x03\x01\x02\x00", 5), 400},  // a TLS hello on the plain port
      {"GET /fx/public HTTP/1.1\r\n\r\n", 400},       // no Host (RFC 9112 §3.2)
      {"GET /fx/public HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.bytes.substr(0, 40));
    Connection conn(port());
    ASSERT_TRUE(conn.send_raw(c.bytes));
    HttpResponse r = conn.read_response();
    expect_error(r, c.status, c.code);
    EXPECT_TRUE(conn.peer_closed());
  }
  EXPECT_TRUE(host_->wait_for_output("refused a request at the front door"));
  EXPECT_EQ(http(port(), "GET", "/fx/public").status, 200);  // and the host serves on
}

TEST_F(FrontDoor, EmptyLinesBeforeARequestAreIgnored) {
  Connection conn(port());
  ASSERT_TRUE(conn.send_raw("\r\n\r\nGET /fx/public HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  EXPECT_EQ(conn.read_response().status, 200);
}

TEST_F(FrontDoor, ChunkedBodiesStillReachHandlers) {
  Connection conn(port());
  ASSERT_TRUE(conn.send_raw(
      "POST /fx/upload-in-memory HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer scoped-files.upload\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  HttpResponse r = conn.read_response();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["fnv"].GetString(), fnv("hello world"));
}

TEST_F(FrontDoor, ARequestPipelinedAfterAChunkedBodyIsAnswered) {
  Connection conn(port());
  ASSERT_TRUE(conn.send_raw(
      "POST /fx/upload-in-memory HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer scoped-files.upload\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
      "GET /fx/public HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  HttpResponse first = conn.read_response();
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(json(first)["fnv"].GetString(), fnv("hello world"));
  EXPECT_EQ(conn.read_response().status, 200);  // before the door framed chunked bodies: lost
}

TEST_F(FrontDoor, MalformedChunkedFramingIs400AndTheConnectionClosed) {
  Connection conn(port());
  ASSERT_TRUE(conn.send_raw(
      "POST /fx/upload-in-memory HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer scoped-files.upload\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello, more than five\r\n0\r\n\r\n"));
  expect_error(conn.read_response(), 400, "BAD_REQUEST");
  EXPECT_TRUE(conn.peer_closed());
}

// A host whose body timeout is 2 s.
class FrontDoorTimeouts : public FrontDoor {
 protected:
  static void SetUpTestSuite() { start("  body_timeout_seconds: 2\n"); }
};

TEST_F(FrontDoorTimeouts, SlowUploadThatKeepsMovingOutlivesTheBodyTimeout) {
  // body_timeout_seconds is 2: a spooled upload pauses at most that long between its bytes,
  // however long it takes in all. This one takes ~3.5 s, in pieces 0.35 s apart.
  const std::string body = body_of(2 * kMiB);
  Connection conn(port());
  ASSERT_TRUE(conn.send_raw(
      head("/fx/upload", body.size(), "Authorization: Bearer scoped-files.upload\r\n")));
  const size_t piece = body.size() / 10;
  for (size_t at = 0; at < body.size(); at += piece) {
    std::this_thread::sleep_for(std::chrono::milliseconds(350));  // the client's pace
    ASSERT_TRUE(conn.send_raw(body.substr(at, piece)));
  }
  HttpResponse r = conn.read_response();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["fnv"].GetString(), fnv(body));
}

TEST_F(FrontDoorTimeouts, StalledUploadIsTimedOutAndTheHostServesOn) {
  Connection conn(port());
  ASSERT_TRUE(
      conn.send_raw(head("/fx/upload", 8 * kMiB, "Authorization: Bearer scoped-files.upload\r\n") +
                    std::string(2 * kMiB, 'x')));
  // Then nothing: past body_timeout_seconds the host answers 408 and closes.
  HttpResponse r = conn.read_response();
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(http(port(), "GET", "/fx/public").status, 200);
}

TEST_F(FrontDoor, ClientGoneMidUploadLeavesNothingBehind) {
  auto fds = [] {
    size_t n = 0;
    for (auto it =
             std::filesystem::directory_iterator("/proc/" + std::to_string(host_->pid()) + "/fd");
         it != std::filesystem::directory_iterator(); ++it) {
      ++n;
    }
    return n;
  };
  ASSERT_EQ(http(port(), "GET", "/fx/public").status, 200);
  size_t before = fds();
  {
    Connection conn(port());
    ASSERT_TRUE(conn.send_raw(
        head("/fx/upload", 16 * kMiB, "Authorization: Bearer scoped-files.upload\r\n") +
        std::string(4 * kMiB, 'x')));
  }  // closed mid-body
  // The spool file (an open descriptor, never a name) goes with the connection.
  EXPECT_TRUE(eventually([&] { return fds() <= before; }, 10)) << fds() << " vs " << before;
  EXPECT_TRUE(std::filesystem::is_empty(spool_));
  EXPECT_EQ(http(port(), "GET", "/fx/public").status, 200);
}

}  // namespace
}  // namespace itest
