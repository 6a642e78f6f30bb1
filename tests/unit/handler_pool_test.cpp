#include "http/handler_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace plughost {
namespace {

// A gate the test opens: jobs wait on it, so "busy" is a state the test controls, not a timing.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu);
      open = true;
    }
    cv.notify_all();
  }
};

TEST(HandlerPool, RunsEveryJobAndReusesItsThreads) {
  HandlerPool pool(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 500; ++i) {
    std::promise<void> done;
    auto finished = done.get_future();
    ASSERT_TRUE(pool.submit([&ran, &done] {
      ran.fetch_add(1);
      done.set_value();
    }));
    finished.wait();
    // Until its thread is back waiting, a finished job's thread still counts as busy (submit
    // would start another): one job at a time, so two threads always suffice.
    while (pool.busy() != 0) std::this_thread::yield();
  }
  EXPECT_EQ(ran.load(), 500);
  pool.stop();
  EXPECT_EQ(pool.busy(), 0u);
}

TEST(HandlerPool, RefusesAJobWhenEveryThreadIsBusyAndTakesOneAgainOnceAThreadIsFree) {
  HandlerPool pool(2);
  Gate gate;
  std::promise<void> first_started, second_started;
  ASSERT_TRUE(pool.submit([&] {
    first_started.set_value();
    gate.wait();
  }));
  ASSERT_TRUE(pool.submit([&] {
    second_started.set_value();
    gate.wait();
  }));
  first_started.get_future().wait();
  second_started.get_future().wait();
  EXPECT_EQ(pool.busy(), 2u);
  bool ran_third = false;
  EXPECT_FALSE(pool.submit([&] { ran_third = true; }));  // the cap: no third thread
  gate.release();
  std::promise<void> later;
  auto later_done = later.get_future();
  // A freed thread takes the next job (submit may race the threads going idle: retry until
  // one is idle, which the released gate guarantees).
  while (!pool.submit([&] { later.set_value(); })) std::this_thread::yield();
  later_done.wait();
  pool.stop();
  EXPECT_FALSE(ran_third);
}

TEST(HandlerPool, StopWaitsForRunningJobsAndRefusesNewOnes) {
  HandlerPool pool(4);
  Gate gate;
  std::atomic<int> finished{0};
  std::vector<std::promise<void>> started(3);
  for (auto& s : started) {
    ASSERT_TRUE(pool.submit([&] {
      s.set_value();
      gate.wait();
      finished.fetch_add(1);
    }));
  }
  for (auto& s : started) s.get_future().wait();
  std::thread stopper([&] { pool.stop(); });
  EXPECT_EQ(finished.load(), 0);
  gate.release();
  stopper.join();
  EXPECT_EQ(finished.load(), 3);  // stop() returned only after every running job had
  EXPECT_FALSE(pool.submit([] {}));
}

}  // namespace
}  // namespace plughost
