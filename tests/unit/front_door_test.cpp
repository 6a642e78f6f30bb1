// The front door's head parser and spool file, without sockets (the socket-level behaviour is in
// tests/integration/front_door_test.cpp).
#include "http/front_door.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace plughost {
namespace {

HeadStatus parse(const std::string& in, RequestHead& head, HeadError& error,
                 size_t max_head = 65536) {
  return parse_request_head(in, max_head, 0, head, error);
}

TEST(FrontDoorHead, ReadsMethodTargetVersionAndBodyFraming) {
  RequestHead head;
  HeadError error;
  std::string in =
      "\r\nPOST /api/x?y=1 HTTP/1.0\r\nHost: a\r\ncontent-length:  42 \r\nExpect: 100-Continue"
      "\r\n\r\nBODY";
  ASSERT_EQ(parse(in, head, error), HeadStatus::kComplete) << error.message;
  EXPECT_EQ(head.start, 2u);
  EXPECT_EQ(head.size, in.size() - 4);
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.target, "/api/x?y=1");
  EXPECT_TRUE(head.http10);
  ASSERT_TRUE(head.content_length.has_value());
  EXPECT_EQ(*head.content_length, 42u);
  EXPECT_TRUE(head.expect_continue);
  EXPECT_FALSE(head.chunked);
  EXPECT_TRUE(head.has_body());
}

TEST(FrontDoorHead, WaitsForTheBlankLineAcrossPieces) {
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\n\r";
  RequestHead head;
  HeadError error;
  EXPECT_EQ(parse(in, head, error), HeadStatus::kIncomplete);
  in += "\n";
  // Resuming the scan where the last one ended still finds a terminator split across pieces.
  EXPECT_EQ(parse_request_head(in, 65536, in.size() - 1, head, error), HeadStatus::kComplete);
  EXPECT_FALSE(head.has_body());
}

TEST(FrontDoorHead, RefusesWhatCouldSmuggleOrNeverComplete) {
  struct Case {
    std::string in;
    int status;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n: empty name\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400},  // bare CR inside a value
      {"GET / HTTP/1.1\nHost: a", 400},            // bare LF, refused before it could complete
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},    // (control: fine)
      {"GET / HTTP/1.1\r\n\r\n", 400},             // HTTP/1.1 without Host
      {"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
      {"GET / HTTP/1.0\r\n\r\n", 0},                      // HTTP/1.0 may omit it
      {"GET / HTTP/1.1\r\nHost:\r\n\r\n", 0},             // empty: no authority
      {"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 0},  // IPv6 literal and port
      {"GET / HTTP/1.1\r\nHost: xn--bcher-kva.example:80\r\n\r\n", 0},
      {"GET / HTTP/1.12\r\n\r\n", 400},
      {"GET / HTTP/3.0\r\n\r\n", 505},
      {"GET  / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1 \r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    RequestHead head;
    HeadError error;
    HeadStatus s = parse(c.in, head, error);
    if (c.status == 0) {
      EXPECT_EQ(s, HeadStatus::kComplete);
    } else {
      ASSERT_EQ(s, HeadStatus::kBad);
      EXPECT_EQ(error.status, c.status) << error.message;
      EXPECT_FALSE(error.message.empty());
    }
  }
}

TEST(FrontDoorHead, BoundsTheHeadSize) {
  RequestHead head;
  HeadError error;
  std::string in = "GET / HTTP/1.1\r\nX: " + std::string(200, 'a');
  EXPECT_EQ(parse(in, head, error, 100), HeadStatus::kBad);
  EXPECT_EQ(error.status, 431);
  EXPECT_EQ(parse(in + "\r\n\r\n", head, error, 100), HeadStatus::kBad);
  EXPECT_EQ(error.status, 431);
}

TEST(FrontDoorHead, HeadWithoutBodyDropsTheFramingAndKeepsTheRest) {
  std::string in =
      "\r\nPUT /u HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\nExpect: 100-continue\r\n"
      "X-Keep: yes\r\n\r\n";
  RequestHead head;
  HeadError error;
  ASSERT_EQ(parse(in, head, error), HeadStatus::kComplete);
  std::string bare = head_without_body(in, head);
  EXPECT_EQ(bare, "PUT /u HTTP/1.1\r\nHost: a\r\nX-Keep: yes\r\nContent-Length: 0\r\n\r\n");
  RequestHead again;
  ASSERT_EQ(parse(bare, again, error), HeadStatus::kComplete);
  EXPECT_FALSE(again.has_body());
}

TEST(SpooledBody, HoldsExactlyTheBytesAppendedAndLeavesNoFileBehind) {
  std::string dir = std::filesystem::temp_directory_path() / "plughost-spool-unit";
  std::filesystem::create_directories(dir);
  std::string error;
  auto spool = SpooledBody::create(dir, 10, error);
  ASSERT_TRUE(spool) << error;
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  ASSERT_TRUE(spool->append("hello", 5, error)) << error;
  EXPECT_EQ(spool->missing(), 5u);
  EXPECT_FALSE(spool->finish(error));  // not before the last byte
  EXPECT_FALSE(error.empty());
  ASSERT_TRUE(spool->append("world, and more", 15, error)) << error;  // only 5 more are taken
  EXPECT_EQ(spool->missing(), 0u);
  ASSERT_TRUE(spool->finish(error)) << error;
  EXPECT_EQ(spool->view(), "helloworld");
  spool.reset();
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);

  EXPECT_FALSE(SpooledBody::create("/nonexistent/dir", 10, error));
  EXPECT_NE(error.find("/nonexistent/dir"), std::string::npos) << error;
}

// Scans `in` in pieces of `step` bytes; returns the bytes used when the body ended, or
// npos (more wanted) / npos - 1 (refused).
size_t scan_in_pieces(const std::string& in, size_t step, HeadError& error,
                      std::string* plain_out = nullptr) {
  ChunkedFraming framing;
  std::string plain;
  std::string& out = plain_out ? *plain_out : plain;
  size_t offset = 0;
  while (offset < in.size()) {
    std::string_view piece = std::string_view(in).substr(offset, step);
    size_t used = 0;
    switch (framing.scan(piece, used, out, error)) {
      case ChunkedFraming::Status::kDone: return offset + used;
      case ChunkedFraming::Status::kBad: return std::string::npos - 1;
      case ChunkedFraming::Status::kMore: EXPECT_EQ(used, piece.size()); break;
    }
    offset += piece.size();
  }
  return std::string::npos;
}

TEST(ChunkedFraming, FindsTheEndOfTheBodyHoweverTheBytesArrive) {
  const std::string body =
      "5;name=value\r\nhello\r\n"
      "A\r\n0123456789\r\n"
      "0\r\nX-Checksum: abc\r\n\r\n";
  const std::string next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  for (size_t step = 1; step <= body.size() + next.size(); ++step) {
    SCOPED_TRACE(step);
    HeadError error;
    std::string plain;
    EXPECT_EQ(scan_in_pieces(body + next, step, error, &plain), body.size()) << error.message;
    // What Pistache's parser gets: the same chunks, without the extension and the trailer.
    EXPECT_EQ(plain, "5\r\nhello\r\na\r\n0123456789\r\n0\r\n\r\n");
  }
  HeadError error;
  EXPECT_EQ(scan_in_pieces("0\r\n\r\n", 3, error), 5u);                // an empty body
  EXPECT_EQ(scan_in_pieces("5\r\nhel", 2, error), std::string::npos);  // not ended yet
}

TEST(ChunkedFraming, RefusesMalformedFraming) {
  const char* cases[] = {
      "x\r\n",                     // not hex
      "\r\n",                      // no size
      "1234567890abcdef0\r\n",     // over 15 digits
      "5\nhello\r\n0\r\n\r\n",     // bare LF after the size
      "5\r\nhello!\r\n0\r\n\r\n",  // more data than the size says
      "5\r\nhello\r\r\n",          // bare CR after the data
      "5;a=\x01\r\nhello\r\n",     // control character in an extension
      "0\r\nX: a\nb\r\n\r\n",      // bare LF in a trailer
  };
  for (const char* c : cases) {
    SCOPED_TRACE(c);
    HeadError error;
    EXPECT_EQ(scan_in_pieces(c, 64, error), std::string::npos - 1);
    EXPECT_EQ(error.status, 400);
    EXPECT_FALSE(error.message.empty());
  }
}

}  // namespace
}  // namespace plughost
