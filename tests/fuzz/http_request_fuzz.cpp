// Fuzzes the HTTP front door without sockets, in the order the host runs it: raw bytes (read in
// two pieces, as a socket may deliver them) go through the door's head parser
// (http/front_door.hpp); a head it accepts goes to Pistache's request parser whole, with the body
// the door would pass on (a chunked one framed by ChunkedFraming, also in two pieces); each request
// Pistache completes then goes through what the host derives from it before routing:
// percent-decoded path, headers, cookies and query collected for plugins, the tenant and trace
// headers, and the route match.
//
// Pistache 0.0.5's own request-line parser reads past its input on some truncated lines fed in
// pieces (tests/fuzz/corpus/http_request/overread-*); behind the door it never sees those.
#include <pistache/http.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/exchange.hpp"
#include "http/front_door.hpp"
#include "http/router.hpp"

namespace {

namespace Http = Pistache::Http;

plughost::Router make_router() {
  plughost::Router r;
  const char* patterns[][2] = {{"GET", "/api/items/:id"},
                               {"POST", "/api/items"},
                               {"GET", "/api/files/*"},
                               {"PUT", "/api/:kind/run"}};
  size_t i = 0;
  for (auto& p : patterns) {
    plughost::RouteEntry e;
    e.method = p[0];
    e.pattern = p[1];
    e.target = i++;
    (void)r.add(e);
  }
  return r;
}

void exercise(const Http::Request& request) {
  static const plughost::Router router = make_router();
  ph_request rq;
  rq.http = &request;
  rq.method = Http::methodString(request.method());
  rq.path = plughost::percent_decode(request.resource(), false);
  rq.body = request.body();
  for (const auto& [name, value] : plughost::request_headers(rq)) {
    if (name.empty() && value.empty()) __builtin_trap();  // Pistache never yields a nameless one
  }
  plughost::request_cookies(rq);
  plughost::request_query(rq);
  (void)plughost::find_header(rq, "x-tenant-id");
  (void)plughost::find_header(rq, "x-trace-id");
  (void)plughost::find_cookie(rq, "sessionid");
  plughost::RouteMatch m = router.match(rq.method, rq.path);
  for (const auto& [name, value] : m.params) {
    if (!value.empty() && (value.data() < rq.path.data() ||
                           value.data() + value.size() > rq.path.data() + rq.path.size())) {
      __builtin_trap();
    }
    (void)name;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using plughost::HeadStatus;
  if (size == 0) return 0;
  constexpr size_t kMaxHead = 64 * 1024;  // the host's
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t split = in.empty() ? 0 : data[0] % (in.size() + 1);
  plughost::RequestHead head;
  plughost::HeadError error;
  HeadStatus status = plughost::parse_request_head(in.substr(0, split), kMaxHead, 0, head, error);
  if (status == HeadStatus::kIncomplete) {
    status = plughost::parse_request_head(in, kMaxHead, split, head, error);
  }
  if (status == HeadStatus::kBad) {
    if (error.status < 400 || error.status > 505 || error.message.empty()) __builtin_trap();
    return 0;
  }
  if (status == HeadStatus::kIncomplete) return 0;
  // What the door measured lies within the bytes it was given.
  if (head.size > in.size() || head.start + 4 > head.size) __builtin_trap();
  const char* end = in.data() + head.size;
  for (std::string_view v : {head.method, head.target}) {
    if (v.empty() || v.data() < in.data() || v.data() + v.size() > end) __builtin_trap();
  }
  // The head handed on for a body held elsewhere is itself a valid head, of the same request,
  // with no body.
  std::string bare = plughost::head_without_body(in.substr(0, head.size), head);
  plughost::RequestHead again;
  if (plughost::parse_request_head(bare, kMaxHead, 0, again, error) != HeadStatus::kComplete ||
      again.has_body() || again.method != head.method || again.target != head.target ||
      again.http10 != head.http10) {
    __builtin_trap();
  }
  // Pistache's parser gets the checked head whole, then the body the door would pass on. A
  // declared length over the spool threshold (the host's default, 1 MiB) is checked from the
  // head alone, which Pistache gets without the body framing: such a body never reaches it.
  Http::RequestParser parser(4096 + kMaxHead);
  constexpr uint64_t kSpoolThreshold = 1024 * 1024;
  std::string_view line_on = in.substr(head.start, head.size - head.start);
  if (head.content_length && *head.content_length > kSpoolThreshold) {
    line_on = bare;
    head.content_length = 0;
  }
  std::string_view rest = in.substr(head.size);
  if (head.content_length) rest = rest.substr(0, *head.content_length);
  if (!head.has_body()) rest = {};
  std::string plain;  // a chunked body: what the door finds of it and passes on
  bool chunked_done = false;
  if (head.chunked) {
    plughost::ChunkedFraming framing;
    size_t half = rest.size() / 2, used = 0, more = 0;
    auto s = framing.scan(rest.substr(0, half), used, plain, error);
    if (s == plughost::ChunkedFraming::Status::kMore) {
      if (used != half) __builtin_trap();
      s = framing.scan(rest.substr(half), more, plain, error);
      used += more;
    }
    if (used > rest.size()) __builtin_trap();
    if (s == plughost::ChunkedFraming::Status::kBad) {
      if (error.status != 400 || error.message.empty()) __builtin_trap();
      return 0;
    }
    chunked_done = s == plughost::ChunkedFraming::Status::kDone;
    if (!chunked_done) return 0;  // the door waits for the rest
    rest = plain;
  }
  try {
    if (!parser.feed(line_on.data(), line_on.size())) return 0;
    Http::Private::State state = parser.parse();
    if (!rest.empty()) {
      if (!parser.feed(rest.data(), rest.size())) return 0;  // over the limit: 413
      state = parser.parse();
    }
    // A chunked body the door found complete is one Pistache's parser completes too.
    if (chunked_done && state != Http::Private::State::Done) __builtin_trap();
    if (state == Http::Private::State::Done) exercise(parser.request);
  } catch (const std::exception&) {
    // What Pistache's parser still refuses is answered 400 and the connection closed.
  }
  return 0;
}
