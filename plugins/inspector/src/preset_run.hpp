// preset_run.hpp — executes one requested preset run as a host task, with djdesk's statuses,
// log lines and `metadata.command` fields:
//   running, progress 5, "Executing `<cmd>` inside <path>", the command's output, then
//   "Command finished with exit code N." or "Timeout reached (<n>s). Terminating command." +
//   "Command timed out before completion."; progress 95, then 100 with succeeded (exit 0, no
//   timeout), failed or cancelled. Every failure sets `metadata.command.error` to the last line.
#pragma once

#include <plughost/plugin.hpp>

#include "host_services.hpp"
#include "run_store.hpp"
#include "settings.hpp"

namespace inspector {

class PresetRunner {
 public:
  PresetRunner(const Settings& settings, const RunStore& runs) : settings_(settings), runs_(runs) {}

  // Task handler; payload {"run_id": N}. Throws after a cancellation so the host records it.
  void run(plughost::sdk::TaskContext& task) const;

 private:
  const Settings& settings_;
  const RunStore& runs_;
};

// A run still requested or running whose host task ended another way (lost worker, host-side
// timeout, cancel before start) is settled as failed or cancelled, so it never hangs as running.
void settle_orphaned_run(RunRecord& run, const RunStore& runs, const HostServices& host);

}  // namespace inspector
