// front_door.hpp — what the host reads off a connection before Pistache's parser sees it.
//
// Pistache 0.0.5 buffers a whole request in memory before the host sees any of it, and its
// request-line parser reads past the bytes it was given on some malformed lines. The host
// therefore frames each request itself: it waits for the complete head, checks it strictly
// (RFC 9112), and only then hands it to Pistache; a body too large for memory goes to a spool
// file instead of Pistache's buffer (see server.cpp, RequestHandler::onInput).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace plughost {

// A request's line and headers, checked. Views point into the parsed buffer.
struct RequestHead {
  size_t size = 0;          // bytes from the buffer's start through the blank line
  size_t start = 0;         // empty lines skipped before the request line (RFC 9112 §2.2)
  std::string_view method;  // a token
  std::string_view target;  // origin form ("/…") or "*"
  bool http10 = false;      // HTTP/1.0 (else HTTP/1.1)
  std::optional<uint64_t> content_length;
  bool chunked = false;  // Transfer-Encoding: chunked
  bool expect_continue = false;
  int host_fields = 0;  // Host header lines seen

  bool has_body() const { return chunked || (content_length && *content_length > 0); }
};

enum class HeadStatus { kIncomplete, kComplete, kBad };

// Why a head was refused: the status to answer (400, 431, 501, 505, 417) and a message for the
// caller.
struct HeadError {
  int status = 400;
  std::string message;
};

// Reads the head at the start of `in`. kIncomplete: the blank line has not arrived yet (and `in`
// is within `max_head`); kBad fills `error`. Strict where leniency enables request smuggling or
// log injection: CR LF line ends only, no obs-fold, no whitespace before a header's colon, no
// control characters, a Content-Length of digits (repeated only with the same value), no
// Content-Length together with Transfer-Encoding, no transfer coding but "chunked", and exactly
// one Host header with a host[:port] value (none is allowed on HTTP/1.0; RFC 9112 §3.2).
// `scan_from`: bytes of `in` already known to hold no blank line (0 when unknown).
HeadStatus parse_request_head(std::string_view in, size_t max_head, size_t scan_from,
                              RequestHead& head, HeadError& error);

// The head's bytes (as parse_request_head measured them) with the body framing replaced by
// "Content-Length: 0" and no Expect header: how a request whose body the host holds elsewhere is
// handed to Pistache's parser.
std::string head_without_body(std::string_view head_bytes, const RequestHead& head);

// Finds where a chunked body ends (RFC 9112 §7.1), across reads, so that the bytes after it are
// the next request's and not lost. Strict like the head: CR LF line ends, a hex size of at most
// 15 digits, no control characters in extensions or trailers. The body still goes to Pistache's
// parser, which decodes it but knows neither chunk extensions nor trailers: it is given the
// chunks without them.
class ChunkedFraming {
 public:
  enum class Status { kMore, kDone, kBad };
  // Scans `in`, which continues the body; `used` is set to the bytes of `in` that belong to it
  // (all of them unless kDone), and the same chunks without extensions or trailers are appended
  // to `plain`. kBad fills `error` (status 400).
  Status scan(std::string_view in, size_t& used, std::string& plain, HeadError& error);

 private:
  enum class Step { kSize, kExtension, kSizeLf, kData, kDataCr, kDataLf, kTrailer, kTrailerLf };
  Step step_ = Step::kSize;
  int digits_ = 0;
  uint64_t left_ = 0;          // kData: bytes of the chunk still to come
  bool trailer_empty_ = true;  // kTrailer: the line so far is empty
  size_t trailer_bytes_ = 0;   // bounds the trailer section
};

// A request body written to an unlinked temporary file as it arrives, then read back through a
// read-only memory map: the process holds page-cache pages the kernel can reclaim, never the
// body in its own heap. The file has no name from the start, so nothing is left behind by a
// client that goes away or a host that crashes.
class SpooledBody {
 public:
  // An empty spool for `size` bytes in directory `dir`; nullptr and `error` on failure.
  static std::unique_ptr<SpooledBody> create(const std::string& dir, uint64_t size,
                                             std::string& error);
  ~SpooledBody();
  SpooledBody(const SpooledBody&) = delete;
  SpooledBody& operator=(const SpooledBody&) = delete;

  // Appends the next bytes (at most what is still missing). False and `error` when the file
  // cannot take them (disk full, quota).
  bool append(const char* data, size_t len, std::string& error);
  uint64_t missing() const { return size_ - written_; }
  // After the last byte: maps the file. False and `error` on failure.
  bool finish(std::string& error);
  std::string_view view() const;

 private:
  SpooledBody(int fd, uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  uint64_t size_;
  uint64_t written_ = 0;
  void* map_ = nullptr;
};

}  // namespace plughost
