#include "process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

#include "text.hpp"

extern char** environ;

namespace inspector {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxLineBytes = 64 * 1024;  // a longer line is split
constexpr double kGraceAfterExit = 1.0;      // wait for grandchildren to close the pipe
constexpr double kGraceAfterKill = 2.0;      // give up on the pipe this long after SIGKILL

// What the child reports through the CLOEXEC pipe when it cannot exec.
struct ChildFailure {
  int stage;  // 0: chdir, 1: exec
  int error;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<std::string> environment_for(const ProcessSpec& spec) {
  std::map<std::string, std::string> merged;
  std::vector<std::string> order;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq);
    if (!merged.count(name)) order.push_back(name);
    merged[name] = entry.substr(eq + 1);
  }
  for (const auto& [name, value] : spec.env) {
    if (!merged.count(name)) order.push_back(name);
    merged[name] = value;
  }
  std::vector<std::string> out;
  for (const auto& name : order) out.push_back(name + "=" + merged[name]);
  return out;
}

// Candidate executables, as execvp would try them, using the child's PATH.
std::vector<std::string> executable_candidates(const std::string& program,
                                               const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return {program};
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& e : env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    if (colon == std::string::npos) colon = path.size();
    std::string dir = path.substr(start, colon - start);
    out.push_back((dir.empty() ? "." : dir) + "/" + program);
    start = colon + 1;
  }
  return out;
}

std::string python_os_error(int error, const std::string& filename) {
  return "[Errno " + std::to_string(error) + "] " + std::strerror(error) + ": '" + filename + "'";
}

// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const char* cwd, int output_fd, int null_fd, int report_fd, int max_fd,
                             char* const* argv, char* const* envp,
                             const std::vector<const char*>& candidates) {
  setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  dup2(null_fd, 0);
  dup2(output_fd, 1);
  dup2(output_fd, 2);
  // Nothing of the host (sockets, database files) may leak into the command. report_fd is
  // close-on-exec already, which is what it needs.
#ifdef CLOSE_RANGE_CLOEXEC
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
#endif
  {
    for (int fd = 3; fd < max_fd; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ChildFailure failure{0, 0};
  if (chdir(cwd) != 0) {
    failure.error = errno;
  } else {
    failure.stage = 1;
    failure.error = ENOENT;
    for (const char* path : candidates) {
      execve(path, argv, envp);
      if (errno != ENOENT && errno != ENOTDIR) failure.error = errno;
      if (errno == EACCES || errno == ENOEXEC) continue;
    }
  }
  ssize_t ignored = write(report_fd, &failure, sizeof(failure));
  (void)ignored;
  _exit(127);
}

int max_open_fd() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    return static_cast<int>(rl.rlim_cur < 65536 ? rl.rlim_cur : 65536);
  }
  return 65536;
}

// Splits output into lines and applies the cap.
class OutputSink {
 public:
  OutputSink(const ProcessSpec& spec, const ProcessEvents& events, ProcessResult& result)
      : spec_(spec), events_(events), result_(result) {}

  void feed(const char* data, size_t n) {
    pending_.append(data, n);
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      emit(std::string_view(pending_).substr(start, nl - start));
    }
    pending_.erase(0, start);
    while (pending_.size() > kMaxLineBytes) {
      emit(std::string_view(pending_).substr(0, kMaxLineBytes));
      pending_.erase(0, kMaxLineBytes);
    }
  }
  void finish() {
    if (!pending_.empty()) emit(pending_);
    pending_.clear();
  }

 private:
  void emit(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++result_.output_lines;
    if (!result_.output_capped && (kept_lines_ >= spec_.max_output_lines ||
                                   kept_bytes_ + line.size() > spec_.max_output_bytes)) {
      result_.output_capped = true;
      if (events_.notice) {
        events_.notice("Output limit reached (" + std::to_string(spec_.max_output_bytes) +
                       " bytes or " + std::to_string(spec_.max_output_lines) +
                       " lines); further output is discarded.");
      }
    }
    if (result_.output_capped) return;
    ++kept_lines_;
    kept_bytes_ += line.size() + 1;
    if (events_.line) events_.line(valid_utf8(line));
  }

  const ProcessSpec& spec_;
  const ProcessEvents& events_;
  ProcessResult& result_;
  std::string pending_;
  size_t kept_lines_ = 0;
  size_t kept_bytes_ = 0;
};

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

}  // namespace

ProcessResult run_process(const ProcessSpec& spec, const ProcessEvents& events) {
  ProcessResult result;
  if (spec.argv.empty()) {
    result.start_error = "empty command";
    return result;
  }
  // Everything the child needs is prepared before fork: it may only make async-signal-safe calls.
  std::vector<std::string> env = environment_for(spec);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> candidates = executable_candidates(spec.argv[0], env);
  std::vector<const char*> candidate_ptrs;
  for (const auto& c : candidates) candidate_ptrs.push_back(c.c_str());
  int max_fd = max_open_fd();

  int output[2], report[2];
  if (pipe2(output, O_CLOEXEC) != 0) {
    result.start_error = python_os_error(errno, spec.argv[0]);
    return result;
  }
  if (pipe2(report, O_CLOEXEC) != 0) {
    result.start_error = python_os_error(errno, spec.argv[0]);
    close(output[0]), close(output[1]);
    return result;
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  auto started_at = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    exec_child(spec.cwd.c_str(), output[1], null_fd, report[1], max_fd, argv.data(), envp.data(),
               candidate_ptrs);
  }
  int fork_error = errno;
  close(output[1]);
  close(report[1]);
  if (null_fd >= 0) close(null_fd);
  if (pid < 0) {
    close(output[0]), close(report[0]);
    result.start_error = python_os_error(fork_error, spec.argv[0]);
    return result;
  }
  setpgid(pid, pid);  // also done by the child; whichever runs first wins the race

  ChildFailure failure{};
  ssize_t got;
  do {
    got = read(report[0], &failure, sizeof(failure));
  } while (got < 0 && errno == EINTR);
  close(report[0]);
  if (got == static_cast<ssize_t>(sizeof(failure))) {
    int status = 0;
    waitpid(pid, &status, 0);
    close(output[0]);
    result.start_error =
        python_os_error(failure.error, failure.stage == 0 ? spec.cwd : spec.argv[0]);
    return result;
  }
  result.started = true;

  fcntl(output[0], F_SETFL, fcntl(output[0], F_GETFL) | O_NONBLOCK);
  OutputSink sink(spec, events, result);
  auto deadline = started_at + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(spec.timeout_seconds));
  bool reaped = false, eof = false, killed = false;
  Clock::time_point exited_at{}, killed_at{};
  int status = 0;
  auto kill_group = [&] {
    kill(-pid, SIGKILL);
    if (!killed) killed = true, killed_at = Clock::now();
  };
  char buffer[65536];
  while (!(reaped && eof)) {
    if (eof) {
      poll(nullptr, 0, 50);  // only the exit is left to wait for
    } else {
      pollfd p{output[0], POLLIN, 0};
      poll(&p, 1, 100);
      for (;;) {
        ssize_t n = read(output[0], buffer, sizeof(buffer));
        if (n > 0) {
          sink.feed(buffer, static_cast<size_t>(n));
          continue;
        }
        if (n == 0) eof = true;
        break;  // EAGAIN, EINTR or EOF
      }
    }
    if (!reaped) {
      pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid || (r < 0 && errno == ECHILD)) {
        reaped = true;
        exited_at = Clock::now();
        if (r < 0) status = 0;
      }
    }
    if (!result.timed_out && !result.cancelled && Clock::now() >= deadline) {
      result.timed_out = true;
      if (events.notice) {
        events.notice("Timeout reached (" + python_number(spec.timeout_seconds) +
                      "s). Terminating command.");
      }
      kill_group();
    } else if (!result.timed_out && !result.cancelled && events.cancelled && events.cancelled()) {
      result.cancelled = true;
      if (events.notice) events.notice("Cancellation requested. Terminating command.");
      kill_group();
    }
    // The command is gone but something it started still holds the pipe open.
    if (reaped && !eof && !killed && seconds_since(exited_at) > kGraceAfterExit) kill_group();
    if (reaped && !eof && killed && seconds_since(killed_at) > kGraceAfterKill) break;
  }
  sink.finish();
  close(output[0]);
  kill(-pid, SIGKILL);  // whatever is left of the group: nothing outlives the run
  result.exit_code = decode_status(status);
  result.duration_seconds = seconds_since(started_at);
  return result;
}

}  // namespace inspector
