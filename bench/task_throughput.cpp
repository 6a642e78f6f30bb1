// Enqueue -> complete throughput of no-op tasks through the real task queue and storage.
// Usage: task_throughput STORAGE_URL [TASKS] [WORKERS]
// Prints one line: backend, tasks, seconds, tasks/s (enqueue and completion overlap).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "plugin/host_api.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"
#include "storage/statement.hpp"
#include "tasks/task_queue.hpp"

using namespace plughost;

static int noop(void*, ph_task_context*, ph_error*) {
  return PH_OK;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: task_throughput STORAGE_URL [TASKS] [WORKERS]\n");
    return 2;
  }
  int tasks = argc > 2 ? std::atoi(argv[2]) : 2000;
  int workers = argc > 3 ? std::atoi(argv[3]) : 2;
  std::string error;
  auto url = parse_storage_url(argv[1], "", error);
  if (!url) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  Database db(*url, static_cast<size_t>(workers + 3));
  Statement(db, "DROP TABLE IF EXISTS plughost_tasks").step();
  Statement(db, "DROP TABLE IF EXISTS plughost_migrations").step();
  ensure_host_schema(db);
  apply_migration(db, "plughost", "0001_tasks", task_table_sql(db.dialect()));
  Logger log(LogLevel::kError, LogFormat::kText, stderr);
  TaskSettings settings;
  settings.workers = workers;
  settings.poll_interval_seconds = 0.01;
  TaskQueue queue(db, log, settings, "bench", [](const std::string&) {
    return std::optional<TaskHandlerRef>(TaskHandlerRef{noop, nullptr});
  });
  queue.start();
  auto start = std::chrono::steady_clock::now();
  int64_t last = 0;
  for (int i = 0; i < tasks; ++i) {
    EnqueueRequest r;
    r.kind = "bench/noop";
    last = queue.enqueue(r);
  }
  double enqueued = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Tasks are claimed in id order, so the last one settling means all did (workers may finish
  // the last few out of order: wait for each of the final `workers` ids).
  for (int64_t id = last - workers + 1; id <= last; ++id) {
    if (id > 0) queue.wait_for_final(id);
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  queue.stop();
  std::printf("%-10s tasks=%d workers=%d enqueue=%.0f/s enqueue+complete=%.0f/s (%.2fs)\n",
              dialect_name(db.dialect()), tasks, workers, tasks / enqueued, tasks / total, total);
  return 0;
}
