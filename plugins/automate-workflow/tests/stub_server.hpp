// Scripted responses over the SDK's StubServer (plughost/testing.hpp) for the step tests: a
// queue of responses per path (the last one repeats), every request recorded.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <plughost/testing.hpp>
#include <string>
#include <vector>

namespace automate_test {

using plughost::testing::StubReply;
using plughost::testing::StubRequest;

class ScriptedStub {
 public:
  ScriptedStub()
      : server_([this](const StubRequest& rq) {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = scripts_.find(rq.path);
          if (it == scripts_.end() || it->second.empty()) {
            return StubReply(404, R"({"error":"no script"})");
          }
          StubReply out = it->second.front();
          if (it->second.size() > 1) it->second.pop_front();
          return out;
        }) {}

  std::string url(const std::string& path) const { return server_.url() + path; }
  // Queues responses for `path`; the last one answers every later request too.
  void script(const std::string& path, std::vector<StubReply> replies) {
    std::lock_guard<std::mutex> lock(mu_);
    scripts_[path] = std::deque<StubReply>(replies.begin(), replies.end());
  }
  std::vector<StubRequest> requests(const std::string& path) const {
    std::vector<StubRequest> out;
    for (const auto& r : server_.requests()) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::deque<StubReply>> scripts_;
  plughost::testing::StubServer server_;  // last: stops (joins its thread) first
};

}  // namespace automate_test
