// schema_catalog — what a translator needs to know of the data source: tables, columns, types,
// keys, foreign keys and the values of small categorical columns, read live through the
// read-only guard, and its JSON form (the `schema` of the llm connector's translate_sql).
#pragma once

#include <rapidjson/document.h>

#include <plughost/read_only_query.hpp>
#include <set>
#include <string>
#include <vector>

namespace datachat {

struct Column {
  std::string name;
  std::string type;  // as declared, lower-case
  bool primary_key = false;
  // Every distinct non-null value when the column is text with at most kMaxCategoricalValues
  // of them; else a few examples (all_values false).
  std::vector<std::string> values;
  bool all_values = false;

  bool numeric() const;
  bool temporal() const;
};

struct ForeignKey {
  std::string column;
  std::string table;  // referenced table
  std::string to;     // referenced column
};

struct Table {
  std::string name;
  std::vector<Column> columns;
  std::vector<ForeignKey> foreign_keys;
  int64_t row_count = 0;

  const Column* column(const std::string& name) const;
};

struct Schema {
  std::string dialect;  // "sqlite" | "postgresql"
  std::vector<Table> tables;

  const Table* table(const std::string& name) const;
};

constexpr size_t kMaxCategoricalValues = 50;

// Reads the live schema; `only` (non-empty) keeps those tables. Throws the guard's exceptions.
Schema read_schema(const plughost::readonly::ReadOnlyDatabase& db,
                   const std::set<std::string>& only = {});

rapidjson::Value schema_to_json(const Schema& s, rapidjson::Document::AllocatorType& a);
// Tolerant: unknown members are ignored, missing ones left empty.
Schema schema_from_json(const rapidjson::Value& v);

// A compact text rendering for LLM prompts ("orders(id integer pk, customer_id → customers.id…)").
std::string schema_to_prompt(const Schema& s);

}  // namespace datachat
