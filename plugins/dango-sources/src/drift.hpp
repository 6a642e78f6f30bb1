// drift.hpp — schema drift of raw tables: at each successful sync the columns a source delivered
// for each table (name + type) are compared with the previous sync's snapshot and the changes
// recorded (NOTES §3: the first sync is a silent baseline; `column_added` is additive,
// `column_removed` and `type_changed` are breaking). Accepting a source's drift clears its flag.
#pragma once

#include <cstdint>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <vector>

#include "tabular.hpp"

namespace dango {

namespace sdk = plughost::sdk;

struct ColumnChange {
  std::string column;
  std::string change;    // column_added, column_removed, type_changed
  std::string old_type;  // empty for column_added
  std::string new_type;  // empty for column_removed
  bool breaking() const { return change != "column_added"; }
};

// What changed from `before` to `after` (compared by name; types by their protocol names).
std::vector<ColumnChange> diff_columns(const std::vector<Column>& before,
                                       const std::vector<Column>& after);

struct DriftEvent {
  int64_t id = 0;
  std::string source;
  std::string table;
  ColumnChange change;
  std::optional<int64_t> run_id;
  std::string detected_at;
  std::optional<std::string> accepted_at;
};

struct DriftFilter {
  std::string source;  // empty: any
  std::string table;
  bool pending_only = false;
};

// Host-storage access to snapshots and drift events (migration 0003_catalog).
class DriftStore {
 public:
  explicit DriftStore(sdk::Services host) : host_(host) {}

  // Compares `columns` of `source`.`table` with the stored snapshot, records the changes and
  // stores `columns` as the new snapshot, in one transaction. A table seen for the first time
  // is a silent baseline. A column without any value in this load (`has_values[i]` false) keeps
  // its snapshot type: its inferred type says nothing. Returns the recorded changes.
  std::vector<ColumnChange> record(const std::string& source, const std::string& table,
                                   std::vector<Column> columns, const std::vector<bool>& has_values,
                                   int64_t run_id);
  std::vector<DriftEvent> events(const DriftFilter& filter, int limit);
  // Unaccepted breaking changes of `source`.
  int64_t pending_breaking(const std::string& source);
  // Marks every unaccepted change of `source` accepted; returns how many.
  int64_t accept(const std::string& source, const std::string& by);

 private:
  sdk::Services host_;
};

// "<n> breaking schema change(s) detected"
std::string breaking_flag(int64_t n);

}  // namespace dango
