// support.hpp — what integration tests need to drive the real binary: a child process with its
// output captured, and a minimal HTTP/1.1 client over a real loopback socket.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace itest {

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
  // Writes `yaml` to a temp dir as plughost.yaml and starts the binary on it.
  explicit Host(const std::string& yaml);
  ~Host();  // SIGKILL if still running

  // Waits until the host logged its port (true) or exited (false).
  bool wait_ready();
  int port() const { return port_; }
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

}  // namespace itest
