#include "migration_summary.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>

namespace studio {
namespace {

// The step a migration claims: its leading digits as a number (so "10_x" follows "9_x"), or, for
// a name without them, the name itself after every numbered step.
struct Step {
  bool numbered = false;
  unsigned long long number = 0;
  std::string digits;  // as written, for messages
  std::string name;    // unnumbered: the whole name

  bool operator<(const Step& o) const {
    if (numbered != o.numbered) return numbered;  // numbered steps come first
    if (numbered) return number < o.number;
    return name < o.name;
  }
};

Step step_of(const std::string& name) {
  size_t n = 0;
  while (n < name.size() && n < 18 && std::isdigit(static_cast<unsigned char>(name[n]))) ++n;
  if (n == 0) return {false, 0, {}, name};
  return {true, std::stoull(name.substr(0, n)), name.substr(0, n), {}};
}

// Later applied_at wins; equal times (one start-up applies several) fall back to step order,
// then to the name.
bool applied_later(const MigrationRow& a, const MigrationRow& b) {
  if (*a.applied_at != *b.applied_at) return *a.applied_at > *b.applied_at;
  Step sa = step_of(a.name), sb = step_of(b.name);
  if (sb < sa) return true;
  if (sa < sb) return false;
  return a.name > b.name;
}

std::string conflict_message(const std::string& app, size_t count, bool at_head,
                             const std::string& order) {
  if (at_head) {
    return "App '" + app + "' has " + std::to_string(count) +
           " conflicting head migrations that need to be merged.";
  }
  return "App '" + app + "' has " + std::to_string(count) + " migrations claiming step " + order +
         " (the same parent); the branch needs to be merged.";
}

}  // namespace

MigrationSummary summarize_migrations(const std::vector<MigrationRow>& rows) {
  std::map<std::string, std::vector<const MigrationRow*>> by_app;
  for (const auto& r : rows) by_app[r.plugin].push_back(&r);

  MigrationSummary summary;
  const MigrationRow* latest = nullptr;
  for (const auto& [app, migrations] : by_app) {
    AppMigrations out;
    out.app_label = app;
    const MigrationRow* app_latest = nullptr;
    std::map<Step, std::vector<std::string>> steps;
    for (const MigrationRow* m : migrations) {
      ++out.total;
      if (m->applied) {
        ++out.applied;
        if (m->applied_at && (!app_latest || applied_later(*m, *app_latest))) app_latest = m;
      }
      steps[step_of(m->name)].push_back(m->name);
    }
    out.pending = std::max(0, out.total - out.applied);
    if (app_latest) out.last_applied = app_latest->name;
    if (app_latest && (!latest || applied_later(*app_latest, *latest))) latest = app_latest;
    for (auto it = steps.begin(); it != steps.end(); ++it) {
      std::sort(it->second.begin(), it->second.end());
      bool at_head = std::next(it) == steps.end();
      if (at_head) out.head_migrations = it->second;
      if (it->second.size() < 2) continue;
      out.has_conflicts = true;
      std::string order = it->first.numbered ? it->first.digits : it->first.name;
      summary.conflicts.push_back(
          {app, order, it->second, conflict_message(app, it->second.size(), at_head, order)});
    }
    summary.total += out.total;
    summary.applied += out.applied;
    summary.apps.push_back(std::move(out));
  }
  summary.pending = std::max(0, summary.total - summary.applied);
  if (latest) summary.last_applied = latest->name;
  return summary;
}

}  // namespace studio
