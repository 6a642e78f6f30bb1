// A raw Pistache 0.0.5 server with the same body, threads and keep-alive behaviour as the
// host's plugin route: the peer the host is measured against.
// Usage: raw_pistache PORT THREADS [stock]   (stock: keep Pistache's default Connection: Close)
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "bench_body.hpp"

namespace Http = Pistache::Http;

class RawHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(RawHandler)
  explicit RawHandler(bool fix_keepalive) : fix_keepalive_(fix_keepalive) {}
  void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
    // Same keep-alive correction as the host, so both sides serve one connection per client
    // (unless run as "stock", to measure what Pistache does by default).
    if (fix_keepalive_ && request.version() == Http::Version::Http11 &&
        !request.headers().has<Http::Header::Connection>()) {
      response.headers().remove<Http::Header::Connection>();
    }
    if (request.resource() != "/bench") {
      response.send(Http::Code::Not_Found);
      return;
    }
    response.setMime(Http::Mime::MediaType::fromString("application/json"));
    response.send(Http::Code::Ok, kBenchBody);
  }

 private:
  bool fix_keepalive_;
};

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 9080;
  int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  bool stock = argc > 3 && std::string(argv[3]) == "stock";
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Http::Endpoint endpoint(Pistache::Address("127.0.0.1", Pistache::Port(port)));
  endpoint.init(
      Http::Endpoint::options().threads(threads).flags(Pistache::Tcp::Options::ReuseAddr));
  endpoint.setHandler(std::make_shared<RawHandler>(!stock));
  endpoint.serveThreaded();
  std::cout << "raw_pistache listening on " << endpoint.getPort() << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  endpoint.shutdown();
  return 0;
}
