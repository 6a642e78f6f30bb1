#include "http/handler_pool.hpp"

namespace plughost {

bool HandlerPool::submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    if (jobs_.size() >= idle_) {  // every idle thread already has a queued job waiting for it
      if (threads_.size() >= max_threads_) return false;
      threads_.emplace_back([this] { run(); });
    }
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

size_t HandlerPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_.size() - idle_;
}

void HandlerPool::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (auto& t : threads) t.join();
}

void HandlerPool::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    ++idle_;
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // stopping, nothing left to run
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // drop what the job holds before waiting again
    lock.lock();
  }
}

}  // namespace plughost
