// services.hpp — the host services a plugin reaches through the ABI besides registration:
// storage (with migrations) and the task queue. Owned by the CLI's run/check code.
#pragma once

#include <string>
#include <vector>

namespace plughost {

class Database;
class TaskQueue;
class EventBus;
class Scheduler;

// A migration a plugin registered, and what became of it.
struct RegisteredMigration {
  std::string plugin;
  std::string name;
  std::string checksum;
  bool applied = false;  // false: failed (its plugin did not start) or dry run
};

struct Services {
  Database* db = nullptr;          // null when storage is not configured (then storage calls fail)
  TaskQueue* tasks = nullptr;      // null in `check`/`plugins`/`routes`
  EventBus* events = nullptr;      // null in `check`/`plugins`/`routes`
  Scheduler* scheduler = nullptr;  // null in `check`/`plugins`/`routes`
  bool dry_run = false;            // `check`: verify migrations against the ledger, apply nothing
  std::vector<std::string> fatal;  // start-up errors that stop the host (changed migrations)
  std::vector<RegisteredMigration> migrations;  // in registration order, filled during init
};

}  // namespace plughost
