// A stub OpenAI-compatible chat-completions server for the tests: listens on 127.0.0.1 (port
// chosen by the kernel), answers every request with the configured status and body, and keeps
// the last request it received.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <plughost/json.hpp>
#include <string>
#include <thread>

namespace datachat_test {

// Answers every request with `status` and `body`; keeps the last request it saw.
class StubServer {
 public:
  StubServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 8);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~StubServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  void reply(int status, std::string body) {
    std::lock_guard<std::mutex> l(mu_);
    status_ = status;
    body_ = std::move(body);
  }
  std::string last_request() {
    std::lock_guard<std::mutex> l(mu_);
    return request_;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[8192];
      size_t need = std::string::npos;
      while (true) {
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        size_t end = in.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          size_t cl = in.find("Content-Length: ");
          need =
              end + 4 + (cl != std::string::npos && cl < end ? std::stoul(in.substr(cl + 16)) : 0);
        }
        if (need != std::string::npos && in.size() >= need) break;
      }
      std::string out;
      {
        std::lock_guard<std::mutex> l(mu_);
        request_ = in;
        out = "HTTP/1.1 " + std::to_string(status_) +
              " X\r\nContent-Type: application/json\r\n"
              "Content-Length: " +
              std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n" + body_;
      }
      ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  int status_ = 200;
  std::string body_;
  std::string request_;
};

inline std::string completion(const std::string& content) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value msg(rapidjson::kObjectType), choice(rapidjson::kObjectType),
      choices(rapidjson::kArrayType), usage(rapidjson::kObjectType);
  msg.AddMember("role", "assistant", a);
  msg.AddMember("content", rapidjson::Value(content.c_str(), a), a);
  choice.AddMember("message", msg, a);
  choices.PushBack(choice, a);
  usage.AddMember("total_tokens", 42, a);
  d.AddMember("model", "stub-model", a);
  d.AddMember("choices", choices, a);
  d.AddMember("usage", usage, a);
  return plughost::sdk::to_json(d);
}

}  // namespace datachat_test
