#include "http/front_door.hpp"

#include <fcntl.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace plughost {

namespace {

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

HeadStatus bad(HeadError& error, int status, std::string message) {
  error.status = status;
  error.message = std::move(message);
  return HeadStatus::kBad;
}

// The request line: method SP request-target SP HTTP-version.
HeadStatus parse_request_line(std::string_view line, RequestHead& head, HeadError& error) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) {
    return bad(error, 400, "malformed request line");
  }
  head.method = line.substr(0, sp1);
  for (unsigned char c : head.method) {
    if (!is_tchar(c)) return bad(error, 400, "malformed request method");
  }
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    return bad(error, 400, "malformed request line");
  }
  head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (unsigned char c : head.target) {
    if (c <= 0x20 || c >= 0x7f) return bad(error, 400, "malformed request target");
  }
  if (head.target.front() != '/' && head.target != "*") {
    return bad(error, 400, "the request target must be an absolute path");
  }
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.1") {
    head.http10 = false;
  } else if (version == "HTTP/1.0") {
    head.http10 = true;
  } else if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
             version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9') {
    return bad(error, 505, "HTTP version not supported");
  } else {
    return bad(error, 400, "malformed HTTP version");
  }
  return HeadStatus::kComplete;
}

HeadStatus parse_field(std::string_view line, RequestHead& head, HeadError& error) {
  if (line.front() == ' ' || line.front() == '\t') {
    return bad(error, 400, "folded header lines are not accepted");
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return bad(error, 400, "malformed header");
  std::string_view name = line.substr(0, colon);
  for (unsigned char c : name) {
    if (!is_tchar(c)) return bad(error, 400, "malformed header name");
  }
  std::string_view value = line.substr(colon + 1);
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return bad(error, 400, "control character in header " + std::string(name));
    }
  }
  value = trim_ows(value);
  if (iequals(name, "content-length")) {
    if (value.empty() || value.size() > 18) return bad(error, 400, "invalid Content-Length");
    uint64_t n = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return bad(error, 400, "invalid Content-Length");
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (head.content_length && *head.content_length != n) {
      return bad(error, 400, "conflicting Content-Length headers");
    }
    head.content_length = n;
  } else if (iequals(name, "transfer-encoding")) {
    if (head.chunked) return bad(error, 400, "repeated Transfer-Encoding");
    if (!iequals(value, "chunked")) {
      return bad(error, 501, "unsupported transfer coding (only chunked is accepted)");
    }
    head.chunked = true;
  } else if (iequals(name, "host")) {
    // uri-host [":" port]: a reg-name, an IPv4 address or a bracketed IPv6 literal. No
    // userinfo, path or whitespace, which a proxy and this host could read differently.
    for (unsigned char c : value) {
      if (!std::isalnum(c) && !std::strchr("-._~!$&'()*+,;=:%[]", c)) {
        return bad(error, 400, "invalid Host header");
      }
    }
    ++head.host_fields;
  } else if (iequals(name, "expect")) {
    if (!iequals(value, "100-continue")) return bad(error, 417, "unsupported expectation");
    head.expect_continue = true;
  }
  return HeadStatus::kComplete;
}

}  // namespace

HeadStatus parse_request_head(std::string_view in, size_t max_head, size_t scan_from,
                              RequestHead& head, HeadError& error) {
  head = RequestHead{};
  size_t start = 0;
  while (in.size() >= start + 2 && in[start] == '\r' && in[start + 1] == '\n') start += 2;
  size_t from = scan_from > 3 ? scan_from - 3 : 0;
  size_t end = in.find("\r\n\r\n", std::max(from, start));
  if (end == std::string_view::npos) {
    if (in.size() > max_head) return bad(error, 431, "request headers too large");
    // What can never become a valid head fails now, not after the header timeout: a first byte
    // no method starts with, or a line ended by a bare LF (that client would never send CR LF
    // CR LF).
    if (in.size() > start && in[start] != '\r' &&
        !is_tchar(static_cast<unsigned char>(in[start]))) {
      return bad(error, 400, "malformed request line");
    }
    for (size_t lf = in.find('\n', std::max(from, start)); lf != std::string_view::npos;
         lf = in.find('\n', lf + 1)) {
      if (lf == 0 || in[lf - 1] != '\r') return bad(error, 400, "bare LF in the request head");
    }
    return HeadStatus::kIncomplete;
  }
  if (end + 4 > max_head) return bad(error, 431, "request headers too large");
  head.start = start;
  head.size = end + 4;
  std::string_view lines = in.substr(start, end + 2 - start);  // each line ends with CR LF
  bool first = true;
  while (!lines.empty()) {
    size_t eol = lines.find("\r\n");
    std::string_view line = lines.substr(0, eol);
    lines.remove_prefix(eol + 2);
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
      return bad(error, 400, "bare CR or LF in the request head");
    }
    if (line.empty()) return bad(error, 400, "malformed request head");
    HeadStatus s = first ? parse_request_line(line, head, error) : parse_field(line, head, error);
    if (s != HeadStatus::kComplete) return s;
    first = false;
  }
  if (head.chunked && head.content_length) {
    return bad(error, 400, "Content-Length together with Transfer-Encoding");
  }
  if (head.chunked && head.http10) {
    return bad(error, 400, "Transfer-Encoding in an HTTP/1.0 request");
  }
  if (head.host_fields > 1) return bad(error, 400, "more than one Host header");
  if (head.host_fields == 0 && !head.http10) {
    return bad(error, 400, "an HTTP/1.1 request must have a Host header");
  }
  return HeadStatus::kComplete;
}

ChunkedFraming::Status ChunkedFraming::scan(std::string_view in, size_t& used, std::string& plain,
                                            HeadError& error) {
  auto fail = [&](const char* message) {
    error.status = 400;
    error.message = message;
    return Status::kBad;
  };
  size_t i = 0;
  while (i < in.size()) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    switch (step_) {
      case Step::kSize:
        if (std::isxdigit(c)) {
          if (++digits_ > 15) return fail("chunk size too large");
          left_ =
              left_ * 16 + static_cast<uint64_t>(std::isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
        } else if (digits_ == 0) {
          return fail("malformed chunk size");
        } else if (c == ';' || c == ' ' || c == '\t') {
          step_ = Step::kExtension;
        } else if (c == '\r') {
          step_ = Step::kSizeLf;
        } else {
          return fail("malformed chunk size");
        }
        ++i;
        break;
      case Step::kExtension:
        if (c == '\r') {
          step_ = Step::kSizeLf;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return fail("control character in a chunk extension");
        }
        ++i;
        break;
      case Step::kSizeLf:
        if (c != '\n') return fail("bare CR in a chunked body");
        ++i;
        digits_ = 0;
        {
          char size[24];
          int n =
              std::snprintf(size, sizeof(size), "%llx\r\n", static_cast<unsigned long long>(left_));
          plain.append(size, static_cast<size_t>(n));
        }
        if (left_ == 0) {
          trailer_empty_ = true;
          step_ = Step::kTrailer;
        } else {
          step_ = Step::kData;
        }
        break;
      case Step::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(left_, in.size() - i));
        plain.append(in.data() + i, n);
        left_ -= n;
        i += n;
        if (left_ == 0) step_ = Step::kDataCr;
        break;
      }
      case Step::kDataCr:
        if (c != '\r') return fail("chunk data longer than its size");
        step_ = Step::kDataLf;
        ++i;
        break;
      case Step::kDataLf:
        if (c != '\n') return fail("bare CR in a chunked body");
        plain += "\r\n";
        step_ = Step::kSize;
        ++i;
        break;
      case Step::kTrailer:
        if (++trailer_bytes_ > 64 * 1024) return fail("chunked trailer too large");
        if (c == '\r') {
          step_ = Step::kTrailerLf;
        } else if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f) {
          return fail("control character in a chunked trailer");
        } else {
          trailer_empty_ = false;
        }
        ++i;
        break;
      case Step::kTrailerLf:
        if (c != '\n') return fail("bare CR in a chunked trailer");
        ++i;
        if (trailer_empty_) {
          plain += "\r\n";
          used = i;
          return Status::kDone;
        }
        trailer_empty_ = true;
        step_ = Step::kTrailer;
        break;
    }
  }
  used = i;
  return Status::kMore;
}

std::string head_without_body(std::string_view head_bytes, const RequestHead& head) {
  std::string out;
  out.reserve(head_bytes.size() + 20);
  std::string_view lines = head_bytes.substr(head.start, head.size - head.start - 2);
  bool first = true;
  while (!lines.empty()) {
    size_t eol = lines.find("\r\n");
    std::string_view line = lines.substr(0, eol);
    lines.remove_prefix(eol + 2);
    if (!first) {
      std::string_view name = line.substr(0, line.find(':'));
      if (iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
          iequals(name, "expect")) {
        continue;
      }
    }
    first = false;
    out.append(line.data(), line.size());
    out += "\r\n";
  }
  out += "Content-Length: 0\r\n\r\n";
  return out;
}

std::unique_ptr<SpooledBody> SpooledBody::create(const std::string& dir, uint64_t size,
                                                 std::string& error) {
  // O_TMPFILE: a file that never has a name; else a named one unlinked at once.
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::string path = dir + "/plughost-body-XXXXXX";
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) {
      error = "cannot create a spool file in " + dir + ": " + std::strerror(errno);
      return nullptr;
    }
    ::unlink(path.c_str());
  }
  return std::unique_ptr<SpooledBody>(new SpooledBody(fd, size));
}

SpooledBody::~SpooledBody() {
  if (map_) ::munmap(map_, size_);
  ::close(fd_);
}

bool SpooledBody::append(const char* data, size_t len, std::string& error) {
  len = static_cast<size_t>(std::min<uint64_t>(len, missing()));
  while (len > 0) {
    ssize_t n = ::write(fd_, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = std::string("cannot write the request body to disk: ") +
              (n < 0 ? std::strerror(errno) : "no space");
      return false;
    }
    written_ += static_cast<uint64_t>(n);
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool SpooledBody::finish(std::string& error) {
  if (written_ != size_) {  // a map past the file's end would fault on first read
    error = "the request body is incomplete";
    return false;
  }
  if (size_ == 0 || map_) return true;
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) {
    error = std::string("cannot map the spooled request body: ") + std::strerror(errno);
    return false;
  }
  ::madvise(p, size_, MADV_SEQUENTIAL);
  map_ = p;
  return true;
}

std::string_view SpooledBody::view() const {
  return map_ ? std::string_view(static_cast<const char*>(map_), size_) : std::string_view();
}

}  // namespace plughost
