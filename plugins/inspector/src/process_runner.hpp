// process_runner.hpp — runs one command as a child process with argv (never a shell), its own
// process group, stdout and stderr merged into one pipe, a time limit and an output cap.
// Timeout and cancellation kill the whole process group with SIGKILL, grandchildren included.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inspector {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] without '/' is looked up on PATH
  std::string cwd;
  std::vector<std::pair<std::string, std::string>> env;  // set over the host's environment
  double timeout_seconds = 60;
  size_t max_output_bytes = 1 << 20;  // output kept; the rest is read and discarded
  size_t max_output_lines = 5000;
};

// Callbacks run on the calling thread, in output order.
struct ProcessEvents {
  std::function<void(std::string_view line)> line;      // a kept output line, "\n" stripped
  std::function<void(std::string_view notice)> notice;  // timeout, output cap, cancellation
  std::function<bool()> cancelled;                      // polled about every 100 ms
};

struct ProcessResult {
  bool started = false;
  std::string start_error;  // "[Errno 2] No such file or directory: 'python9'"
  int exit_code = 0;        // negative signal number when killed (Python's convention)
  bool timed_out = false;
  bool cancelled = false;
  bool output_capped = false;
  size_t output_lines = 0;  // every line the command wrote, kept or not
  double duration_seconds = 0;
};

// Blocks until the command and every process left in its group are gone (or, for processes that
// left the group, until the output pipe closes or a short grace period after the kill).
ProcessResult run_process(const ProcessSpec& spec, const ProcessEvents& events);

}  // namespace inspector
