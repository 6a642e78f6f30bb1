// models.hpp — a dbt-style project read from a folder: models/**/*.sql with {{ ref('m') }},
// {{ source('s', 't') }} and {{ config(materialized='view'|'table', schema='staging'|'marts') }},
// plus schema.yml descriptions and tests (not_null, unique, accepted_values, relationships).
// Models compile to warehouse SQL (layer names resolved for the dialect) and are ordered by
// dependency; a cycle or an unknown ref is a project error that names it.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace dango {

struct ModelTest {
  std::string column;
  std::string kind;                 // not_null, unique, accepted_values, relationships
  std::vector<std::string> values;  // accepted_values
  std::string to_model;             // relationships: the referenced model
  std::string to_field;             // relationships: its column
  std::string name() const;         // "<kind>_<model>_<column>" without the model: see Model
};

struct ColumnDoc {
  std::string name;
  std::string description;
};

struct SourceRef {
  std::string source;
  std::string table;
};

struct Model {
  std::string name;
  std::string path;          // relative to the project folder
  std::string layer;         // staging or marts
  std::string materialized;  // view or table
  std::string description;
  std::string raw_sql;
  std::string compiled_sql;       // empty when it did not compile
  std::string error;              // why it did not compile
  std::vector<std::string> refs;  // models it selects from, in order of first mention
  std::vector<SourceRef> sources;
  std::vector<ColumnDoc> columns;  // documented in schema.yml
  std::vector<ModelTest> tests;
};

struct ModelProject {
  std::string dir;
  std::vector<Model> models;  // in dependency order when `error` is empty, else by name
  std::string error;          // a cycle, an unknown ref, a model that does not compile…
  const Model* find(const std::string& name) const;
  // `name` and every model downstream of it, in dependency order.
  std::vector<std::string> downstream(const std::string& name, bool include_self) const;
};

// Turns (layer, table) into the warehouse's quoted name (Warehouse::qualified).
using QualifyName = std::function<std::string(const std::string& layer, const std::string& table)>;

// Reads and compiles the project in `dir`. An empty or missing `dir` gives an empty project.
ModelProject load_project(const std::string& dir, const QualifyName& qualify);

// Compiles one model's Jinja-lite SQL; throws std::invalid_argument on an unsupported tag.
// `layer_of` gives a referenced model's layer ("" when unknown: an error).
std::string compile_model_sql(const std::string& sql, const QualifyName& qualify,
                              const std::function<std::string(const std::string&)>& layer_of,
                              Model* collect = nullptr);

}  // namespace dango
