// A scripted HTTP/1.1 server on 127.0.0.1 (port 0) for the step tests: records every request
// and answers from a per-path queue of responses (the last one repeats), one thread per
// connection, Connection: close. "/barrier/<n>" answers once n requests are inside it together
// (or after 10 s), so a test can prove that steps ran concurrently without timing them.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace automate_test {

struct StubRequest {
  std::string method, path, body;
  std::map<std::string, std::string> headers;  // lower-case names
};

struct StubResponse {
  int status = 200;
  std::string body = "{}";
  std::string content_type = "application/json";
};

class StubServer {
 public:
  StubServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd_, 64) != 0) {
      throw std::runtime_error("stub server: bind/listen failed");
    }
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~StubServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    acceptor_.join();
    std::unique_lock<std::mutex> lock(mu_);
    barrier_cv_.notify_all();
    lock.unlock();
    for (auto& t : workers_) t.join();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Queues responses for `path`; the last one answers every later request too.
  void script(const std::string& path, std::vector<StubResponse> responses) {
    std::lock_guard<std::mutex> lock(mu_);
    scripts_[path] = std::deque<StubResponse>(responses.begin(), responses.end());
  }
  std::vector<StubRequest> requests(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<StubRequest> out;
    for (const auto& r : seen_) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, c] { serve(c); });
    }
  }

  static bool read_request(int c, StubRequest& r) {
    std::string data;
    char buf[8192];
    size_t head_end;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
    }
    size_t line_end = data.find("\r\n");
    std::string first = data.substr(0, line_end);
    size_t sp1 = first.find(' '), sp2 = first.find(' ', sp1 + 1);
    r.method = first.substr(0, sp1);
    r.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t at = line_end + 2;
    while (at < head_end) {
      size_t end = data.find("\r\n", at);
      std::string line = data.substr(at, end - at);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        r.headers[name] = value;
      }
      at = end + 2;
    }
    size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    r.body = data.substr(head_end + 4);
    while (r.body.size() < length) {
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      r.body.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  StubResponse respond(const StubRequest& r) {
    std::unique_lock<std::mutex> lock(mu_);
    seen_.push_back(r);
    if (r.path.rfind("/barrier/", 0) == 0) {
      size_t want = std::stoul(r.path.substr(9));
      ++inside_[r.path];
      barrier_cv_.notify_all();
      bool together = barrier_cv_.wait_for(lock, std::chrono::seconds(10),
                                           [&] { return stopping_ || inside_[r.path] >= want; });
      return {200, std::string(R"({"together":)") + (together ? "true" : "false") + "}"};
    }
    auto it = scripts_.find(r.path);
    if (it == scripts_.end() || it->second.empty()) return {404, R"({"error":"no script"})"};
    StubResponse out = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return out;
  }

  void serve(int c) {
    StubRequest r;
    if (read_request(c, r)) {
      StubResponse out = respond(r);
      std::string text = "HTTP/1.1 " + std::to_string(out.status) +
                         " Stub\r\nContent-Type: " + out.content_type +
                         "\r\nContent-Length: " + std::to_string(out.body.size()) +
                         "\r\nConnection: close\r\n\r\n" + out.body;
      ::send(c, text.data(), text.size(), MSG_NOSIGNAL);
    }
    ::close(c);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable barrier_cv_;
  std::map<std::string, size_t> inside_;
  std::map<std::string, std::deque<StubResponse>> scripts_;
  std::vector<StubRequest> seen_;
  std::vector<std::thread> workers_;
};

}  // namespace automate_test
