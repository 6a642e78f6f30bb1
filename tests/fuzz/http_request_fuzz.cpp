// Fuzzes the HTTP front door without sockets: raw bytes go through the request parser the host
// runs (Pistache's, with the host's size limit), fed in two pieces as a socket may deliver them;
// each request it accepts then goes through what the host derives from it before routing:
// percent-decoded path, headers, cookies and query collected for plugins, the tenant and trace
// headers, and the route match.
#include <pistache/http.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "http/exchange.hpp"
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
  if (size == 0) return 0;
  // The host's limit with a small body allowance, so oversized input is exercised too.
  Http::RequestParser parser(4096);
  const char* bytes = reinterpret_cast<const char*>(data) + 1;
  size_t n = size - 1;
  size_t split = n == 0 ? 0 : data[0] % (n + 1);
  try {
    for (auto [p, len] :
         {std::pair<const char*, size_t>{bytes, split}, {bytes + split, n - split}}) {
      if (len == 0) continue;
      if (!parser.feed(p, len)) return 0;  // over the limit: Pistache answers 413
      if (parser.parse() == Http::Private::State::Done) {
        exercise(parser.request);
        parser.reset();
      }
    }
  } catch (const std::exception&) {
    // Pistache answers 400 for what its parser rejects, as the host's onInput does.
  }
  return 0;
}
