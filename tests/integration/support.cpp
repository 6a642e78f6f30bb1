#include "support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace itest {

Connection::Connection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  }
  timeval tv{30, 0};  // a safety net against a hung server, not a synchronisation
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool Connection::send_raw(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

HttpResponse Connection::read_response() {
  HttpResponse res;
  char buf[65536];
  size_t header_end;
  while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return res;
    pending_.append(buf, static_cast<size_t>(n));
  }
  std::istringstream head(pending_.substr(0, header_end));
  std::string line;
  std::getline(head, line);
  if (line.size() >= 12) res.status = std::atoi(line.c_str() + 9);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    res.headers[name] = value;
  }
  size_t length = res.has("content-length") ? std::stoul(res.header("content-length")) : 0;
  size_t body_start = header_end + 4;
  while (pending_.size() < body_start + length) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      res.status = 0;
      return res;
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
  res.body = pending_.substr(body_start, length);
  pending_.erase(0, body_start + length);
  return res;
}

HttpResponse Connection::request(const std::string& method, const std::string& target,
                                 const std::map<std::string, std::string>& headers,
                                 const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  if (!send_raw(req)) return {};
  return read_response();
}

bool Connection::peer_closed() {
  char c;
  timeval tv{0, 200000};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
  timeval back{30, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &back, sizeof(back));
  return n == 0;
}

bool Connection::read_until(const std::string& needle, std::string& out) {
  char buf[4096];
  while (pending_.find(needle) == std::string::npos) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      out = pending_;
      return false;
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
  out = pending_;
  return true;
}

rapidjson::Document json(const HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  EXPECT_FALSE(d.HasParseError()) << r.status << " " << r.body;
  return d;
}

HttpResponse http(int port, const std::string& method, const std::string& target,
                  const std::map<std::string, std::string>& headers, const std::string& body) {
  Connection c(port);
  return c.request(method, target, headers, body);
}

std::string make_temp_dir() {
  char tmpl[] = "/tmp/plughost-itest-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Host::Host(const std::string& yaml) {
  dir_ = make_temp_dir();
  std::string config = dir_ + "/plughost.yaml";
  write_file(config, yaml);
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execl(PLUGHOST_BIN, PLUGHOST_BIN, "run", "--config", config.c_str(), nullptr);
    _exit(127);
  }
  close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { read_loop(fd); });
}

Host::~Host() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    wait_exit();
  }
  if (reader_.joinable()) reader_.join();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void Host::read_loop(int fd) {
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    out_.append(buf, static_cast<size_t>(n));
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  eof_ = true;
  cv_.notify_all();
}

bool Host::wait_for_output(const std::string& needle) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return out_.find(needle) != std::string::npos || eof_; });
  return out_.find(needle) != std::string::npos;
}

bool Host::wait_ready() {
  if (!wait_for_output("\"msg\":\"listening\"")) return false;
  std::lock_guard<std::mutex> lock(mu_);
  size_t at = out_.find("\"msg\":\"listening\"");
  size_t p = out_.find("\"port\":", at);
  if (p == std::string::npos) return false;
  port_ = std::atoi(out_.c_str() + p + 7);
  return port_ > 0;
}

void Host::signal(int sig) {
  kill(pid_, sig);
}

int Host::wait_exit() {
  if (exited_) return exit_status_;
  int status = 0;
  waitpid(pid_, &status, 0);
  exited_ = true;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (reader_.joinable()) reader_.join();
  return exit_status_;
}

std::string Host::output() {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

CommandResult run_plughost(const std::vector<std::string>& args, const std::string& cwd) {
  std::string dir = make_temp_dir();
  std::string out_path = dir + "/stdout", err_path = dir + "/stderr";
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(126);
    FILE* o = freopen(out_path.c_str(), "w", stdout);
    FILE* e = freopen(err_path.c_str(), "w", stderr);
    if (!o || !e) _exit(126);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(PLUGHOST_BIN));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(PLUGHOST_BIN, argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return r;
}

}  // namespace itest
