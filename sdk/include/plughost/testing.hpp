// plughost/testing.hpp — test support for plugins: runs the real `plughost` binary on a
// generated config and talks HTTP/1.1 to it over loopback, so a plugin's tests exercise it
// exactly as operators will run it. Header-only; needs GoogleTest and RapidJSON.
//
// The binary is PLUGHOST_BIN (a compile definition; plughost_add_plugin_test sets it) or, when
// that is not defined, the PLUGHOST_BIN environment variable, else `plughost` on PATH.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace plughost::testing {

// Path of the plughost executable the helpers below start.
inline const char* plughost_binary() {
#ifdef PLUGHOST_BIN
  return PLUGHOST_BIN;
#else
  const char* env = std::getenv("PLUGHOST_BIN");
  return env && *env ? env : "plughost";
#endif
}

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool has(const std::string& name) const { return headers.count(name) > 0; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One TCP connection to 127.0.0.1:port; sends raw requests, parses Content-Length responses.
class Connection {
 public:
  explicit Connection(int port);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool send_raw(const std::string& bytes);
  // Reads one response; status 0 when the peer closed before a full response arrived.
  HttpResponse read_response();
  HttpResponse request(const std::string& method, const std::string& target,
                       const std::map<std::string, std::string>& headers = {},
                       const std::string& body = {});
  // True when the server has closed its side (a read returns EOF).
  bool peer_closed();
  // Reads raw bytes until `needle` has arrived; returns everything read so far (false: EOF).
  bool read_until(const std::string& needle, std::string& out);

 private:
  int fd_ = -1;
  std::string pending_;
};

// The response body parsed as JSON; a parse failure is a test failure (with status and body).
rapidjson::Document json(const HttpResponse& r);

// Waits (bounded by `seconds`) until `ready()` holds, re-checking every 20 ms: the host works in
// another process, so there is no in-process event to wait on. The bound is a safety net.
template <typename F>
bool eventually(F&& ready, double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll pacing, not a sync point
  }
  return ready();
}

// One request on a fresh connection.
HttpResponse http(int port, const std::string& method, const std::string& target,
                  const std::map<std::string, std::string>& headers = {},
                  const std::string& body = {});

// A running `plughost run` with a generated config file.
class Host {
 public:
  // Writes `yaml` to a temp dir as plughost.yaml and starts the binary on it. A non-empty
  // `launcher` is a command the binary runs under (e.g. {"unshare", "--mount", …}): argv is the
  // launcher's words, then the plughost binary and its arguments.
  explicit Host(const std::string& yaml, const std::vector<std::string>& launcher = {});
  ~Host();  // SIGKILL if still running

  // Waits until the host logged its port (true) or exited (false).
  bool wait_ready();
  int port() const { return port_; }
  int pid() const { return pid_; }
  void signal(int sig);
  int wait_exit();  // exit status, or 128+signal
  std::string output();
  // Waits until `needle` appears in the output (true) or the process exits (false).
  bool wait_for_output(const std::string& needle);
  const std::string& dir() const { return dir_; }

 private:
  void read_loop(int fd);

  std::string dir_;
  int pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  int exit_status_ = 0;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string out_;
  bool eof_ = false;
};

// A stand-in for an external HTTP service (an OAuth provider, a webhook target, an
// OpenAI-compatible API) on 127.0.0.1, port chosen by the OS. One thread serves one connection
// at a time, one request per connection (it answers `Connection: close`); bodies need a
// Content-Length. The handler runs on the server thread; requests() is what it was sent.
struct StubRequest {
  std::string method;
  std::string target;  // as sent: path plus query
  std::string path;
  std::string query;                           // without the '?'
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};
struct StubReply {
  StubReply() = default;
  StubReply(int status_code, std::string reply_body, std::string type = "application/json")
      : status(status_code), body(std::move(reply_body)), content_type(std::move(type)) {}
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

class StubServer {
 public:
  using Handler = std::function<StubReply(const StubRequest&)>;
  explicit StubServer(Handler handler);
  ~StubServer();
  StubServer(const StubServer&) = delete;
  StubServer& operator=(const StubServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<StubRequest> requests() const;

 private:
  void serve();
  void handle(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<StubRequest> requests_;
  std::thread thread_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the plughost binary with `args` in `cwd`, capturing stdout and stderr.
CommandResult run_plughost(const std::vector<std::string>& args, const std::string& cwd = ".");

// A fresh temp directory, removed by the OS's tmp cleaning (tests keep it for post-mortems).
std::string make_temp_dir();
void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

// ---- implementation ----

inline Connection::Connection(int port) {
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

inline Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

inline bool Connection::send_raw(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

inline HttpResponse Connection::read_response() {
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

inline HttpResponse Connection::request(const std::string& method, const std::string& target,
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

inline bool Connection::peer_closed() {
  char c;
  timeval tv{0, 200000};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
  timeval back{30, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &back, sizeof(back));
  return n == 0;
}

inline bool Connection::read_until(const std::string& needle, std::string& out) {
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

inline rapidjson::Document json(const HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  EXPECT_FALSE(d.HasParseError()) << r.status << " " << r.body;
  return d;
}

inline HttpResponse http(int port, const std::string& method, const std::string& target,
                         const std::map<std::string, std::string>& headers,
                         const std::string& body) {
  Connection c(port);
  return c.request(method, target, headers, body);
}

inline std::string make_temp_dir() {
  char tmpl[] = "/tmp/plughost-itest-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Host::Host(const std::string& yaml, const std::vector<std::string>& launcher) {
  dir_ = make_temp_dir();
  std::string config = dir_ + "/plughost.yaml";
  write_file(config, yaml);
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> words = launcher;
  words.insert(words.end(), {plughost_binary(), "run", "--config", config});
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { read_loop(fd); });
}

inline Host::~Host() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    wait_exit();
  }
  if (reader_.joinable()) reader_.join();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

inline void Host::read_loop(int fd) {
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

inline bool Host::wait_for_output(const std::string& needle) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return out_.find(needle) != std::string::npos || eof_; });
  return out_.find(needle) != std::string::npos;
}

inline bool Host::wait_ready() {
  if (!wait_for_output("\"msg\":\"listening\"")) return false;
  std::lock_guard<std::mutex> lock(mu_);
  size_t at = out_.find("\"msg\":\"listening\"");
  size_t p = out_.find("\"port\":", at);
  if (p == std::string::npos) return false;
  port_ = std::atoi(out_.c_str() + p + 7);
  return port_ > 0;
}

inline void Host::signal(int sig) {
  kill(pid_, sig);
}

inline int Host::wait_exit() {
  if (exited_) return exit_status_;
  int status = 0;
  waitpid(pid_, &status, 0);
  exited_ = true;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (reader_.joinable()) reader_.join();
  return exit_status_;
}

inline std::string Host::output() {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

inline CommandResult run_plughost(const std::vector<std::string>& args, const std::string& cwd) {
  std::string dir = make_temp_dir();
  std::string out_path = dir + "/stdout", err_path = dir + "/stderr";
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(126);
    FILE* o = freopen(out_path.c_str(), "w", stdout);
    FILE* e = freopen(err_path.c_str(), "w", stderr);
    if (!o || !e) _exit(126);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(plughost_binary()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(plughost_binary(), argv.data());
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

inline StubServer::StubServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(wake_, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("stub server: ") + std::strerror(errno));
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

inline StubServer::~StubServer() {
  char c = 0;
  if (::write(wake_[1], &c, 1) < 0) { /* the thread also stops on a closed listener */
  }
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

inline std::vector<StubRequest> StubServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

inline void StubServer::serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

inline void StubServer::handle(int fd) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string data;
  char buf[8192];
  size_t head_end;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    data.append(buf, static_cast<size_t>(n));
  }
  StubRequest rq;
  std::istringstream head(data.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  std::istringstream request_line(line);
  request_line >> rq.method >> rq.target;
  size_t q = rq.target.find('?');
  rq.path = rq.target.substr(0, q);
  if (q != std::string::npos) rq.query = rq.target.substr(q + 1);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = line.find_first_not_of(' ', colon + 1);
    rq.headers[name] = v == std::string::npos ? std::string() : line.substr(v);
  }
  size_t length = rq.headers.count("content-length") ? std::stoul(rq.headers["content-length"]) : 0;
  rq.body = data.substr(head_end + 4);
  while (rq.body.size() < length) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    rq.body.append(buf, static_cast<size_t>(n));
  }
  rq.body.resize(length);
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(rq);
  }
  StubReply reply = handler_(rq);
  std::string out =
      "HTTP/1.1 " + std::to_string(reply.status) + " Stub\r\nContent-Type: " + reply.content_type +
      "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\nConnection: close\r\n";
  for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
  out += "\r\n" + reply.body;
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace plughost::testing
