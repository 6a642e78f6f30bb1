// offline_translator — turns a plain-language question into one SELECT using only the live
// schema (tables, columns, foreign keys, categorical values): counts, sums, averages, minima and
// maxima, top-N, group-by, filters on known values and numeric thresholds, relative and absolute
// dates, joins along foreign keys. It refuses (cannot_answer) whenever a word of the question
// maps to nothing it knows, instead of guessing. No network, no model; deterministic.
#pragma once

#include <string>
#include <vector>

#include "schema_catalog.hpp"

namespace datachat {

struct PreviousTurn {
  std::string question;
  std::string sql;
};

struct TranslateRequest {
  std::string question;
  Schema schema;
  std::vector<PreviousTurn> history;  // oldest first
  std::string dialect = "sqlite";
  std::string today;  // YYYY-MM-DD, the day relative dates count from (empty: the UTC date now)
};

struct Translation {
  std::string sql;            // set when answerable
  std::string cannot_answer;  // else the reason, for the user
};

Translation translate_offline(const TranslateRequest& request);

// Today's UTC date as YYYY-MM-DD.
std::string utc_today();

}  // namespace datachat
