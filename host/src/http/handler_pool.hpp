// handler_pool.hpp — threads that run plugin handlers off Pistache's reactor threads, so a
// handler that hangs past the request timeout holds one pool thread, never a reactor.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace plughost {

// Threads are started on demand and kept: an idle one takes the next job, and a job that finds
// none idle starts one, up to `max_threads`. A job that never returns keeps its thread; the cap
// bounds how many such threads can pile up. Thread-safe.
class HandlerPool {
 public:
  explicit HandlerPool(size_t max_threads) : max_threads_(max_threads) {}
  ~HandlerPool() { stop(); }
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  // Queues `job` for an idle thread, starting a thread when none is free. Returns false (and
  // runs nothing) when all `max_threads` are busy or the pool is stopping.
  bool submit(std::function<void()> job);
  // Threads running a job now (including jobs past their caller's deadline).
  size_t busy() const;
  // Refuses new jobs and joins every thread: waits for the running jobs to return.
  void stop();

 private:
  void run();

  const size_t max_threads_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;  // threads waiting for a job
  bool stopping_ = false;
};

}  // namespace plughost
