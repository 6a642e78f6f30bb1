// The trivial plugin route the benchmark drives through the host.
#include <plughost/plugin.hpp>

#include "bench_body.hpp"

namespace bench {
class BenchPlugin : public plughost::sdk::Plugin {
  void init() override {
    get("/bench", [](const plughost::sdk::Request&, plughost::sdk::Response& rs) {
      rs.json_text(kBenchBody);
    });
  }
};
}  // namespace bench

PLUGHOST_PLUGIN(bench::BenchPlugin, "bench", "1.0.0", "Benchmark route", "experimental")
