#include "models.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace dango {

namespace fs = std::filesystem;

namespace {

// One {{ call(args…) }} of a model: the function, its positional string arguments and its
// keyword arguments.
struct Tag {
  size_t begin = 0;
  size_t end = 0;  // one past "}}"
  std::string function;
  std::vector<std::string> args;
  std::map<std::string, std::string> kwargs;
};

void skip_space(const std::string& s, size_t& i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
}

std::string read_quoted(const std::string& s, size_t& i, const std::string& where) {
  char q = s[i];
  size_t close = s.find(q, i + 1);
  if (close == std::string::npos) throw std::invalid_argument(where + ": unterminated string");
  std::string out = s.substr(i + 1, close - i - 1);
  i = close + 1;
  return out;
}

Tag parse_tag(const std::string& inner, const std::string& where) {
  Tag t;
  size_t i = 0;
  skip_space(inner, i);
  while (i < inner.size() &&
         (std::isalnum(static_cast<unsigned char>(inner[i])) || inner[i] == '_'))
    t.function += inner[i++];
  skip_space(inner, i);
  if (t.function.empty() || i >= inner.size() || inner[i] != '(') {
    throw std::invalid_argument(where + ": unsupported expression {{" + inner + "}}");
  }
  ++i;
  for (;;) {
    skip_space(inner, i);
    if (i >= inner.size()) throw std::invalid_argument(where + ": missing )");
    if (inner[i] == ')') {
      ++i;
      break;
    }
    std::string key;
    if (inner[i] != '\'' && inner[i] != '"') {
      while (i < inner.size() &&
             (std::isalnum(static_cast<unsigned char>(inner[i])) || inner[i] == '_'))
        key += inner[i++];
      skip_space(inner, i);
      if (key.empty() || i >= inner.size() || inner[i] != '=') {
        throw std::invalid_argument(where + ": arguments must be quoted strings or key='value'");
      }
      ++i;
      skip_space(inner, i);
      if (i >= inner.size() || (inner[i] != '\'' && inner[i] != '"')) {
        throw std::invalid_argument(where + ": " + key + " must be a quoted string");
      }
    }
    std::string value = read_quoted(inner, i, where);
    if (key.empty()) {
      t.args.push_back(value);
    } else {
      t.kwargs[key] = value;
    }
    skip_space(inner, i);
    if (i < inner.size() && inner[i] == ',') ++i;
  }
  skip_space(inner, i);
  if (i != inner.size()) throw std::invalid_argument(where + ": unexpected text after )");
  return t;
}

std::vector<Tag> find_tags(const std::string& sql, const std::string& where) {
  std::vector<Tag> tags;
  if (sql.find("{%") != std::string::npos) {
    throw std::invalid_argument(where + ": {% … %} blocks are not supported");
  }
  size_t at = 0;
  while ((at = sql.find("{{", at)) != std::string::npos) {
    size_t close = sql.find("}}", at + 2);
    if (close == std::string::npos) throw std::invalid_argument(where + ": unterminated {{");
    Tag t = parse_tag(sql.substr(at + 2, close - at - 2), where);
    t.begin = at;
    t.end = close + 2;
    if (t.function == "ref" && t.args.size() != 1) {
      throw std::invalid_argument(where + ": ref() takes one model name");
    }
    if (t.function == "source" && t.args.size() != 2) {
      throw std::invalid_argument(where + ": source() takes a source and a table");
    }
    if (t.function != "ref" && t.function != "source" && t.function != "config") {
      throw std::invalid_argument(where + ": unsupported function " + t.function + "()");
    }
    tags.push_back(std::move(t));
    at = close + 2;
  }
  return tags;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "ref('customers')" or "customers" → customers
std::string ref_target(const std::string& text) {
  auto open = text.find('(');
  if (open == std::string::npos) return text;
  auto q1 = text.find_first_of("'\"", open);
  auto q2 = q1 == std::string::npos ? q1 : text.find(text[q1], q1 + 1);
  return q2 == std::string::npos ? text : text.substr(q1 + 1, q2 - q1 - 1);
}

void read_tests(const YAML::Node& list, const std::string& column, Model& m) {
  if (!list || !list.IsSequence()) return;
  for (const auto& t : list) {
    ModelTest test;
    test.column = column;
    if (t.IsScalar()) {
      test.kind = t.as<std::string>();
    } else if (t.IsMap() && t.size() == 1) {
      auto it = t.begin();
      test.kind = it->first.as<std::string>();
      YAML::Node args = it->second;
      if (args["arguments"]) args = args["arguments"];  // dbt 1.10 style
      if (test.kind == "accepted_values" && args["values"] && args["values"].IsSequence()) {
        for (const auto& v : args["values"]) test.values.push_back(v.as<std::string>());
      }
      if (test.kind == "relationships") {
        if (args["to"]) test.to_model = ref_target(args["to"].as<std::string>());
        if (args["field"]) test.to_field = args["field"].as<std::string>();
      }
    } else {
      continue;
    }
    static const std::set<std::string> known = {"not_null", "unique", "accepted_values",
                                                "relationships"};
    if (!known.count(test.kind)) {
      throw std::invalid_argument("model " + m.name + ": unsupported test " + test.kind);
    }
    if (test.kind == "relationships" && (test.to_model.empty() || test.to_field.empty())) {
      throw std::invalid_argument("model " + m.name + ": relationships needs to and field");
    }
    m.tests.push_back(std::move(test));
  }
}

void apply_schema_file(const fs::path& file, std::map<std::string, Model>& models,
                       std::vector<std::string>& errors) {
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    errors.push_back(file.filename().string() + ": " + e.what());
    return;
  }
  if (!doc.IsMap() || !doc["models"] || !doc["models"].IsSequence()) return;
  for (const auto& node : doc["models"]) {
    if (!node.IsMap() || !node["name"]) continue;
    if (!node["name"].IsScalar()) {  // as<std::string>() would throw out of load_project
      errors.push_back(file.filename().string() + ": a model's name must be a string");
      continue;
    }
    const std::string& name = node["name"].Scalar();
    auto it = models.find(lower(name));
    if (it == models.end()) {
      errors.push_back(file.filename().string() + ": model " + name + " has no .sql file");
      continue;
    }
    Model& m = it->second;
    try {
      if (node["description"]) m.description = node["description"].as<std::string>();
      if (node["columns"] && node["columns"].IsSequence()) {
        for (const auto& c : node["columns"]) {
          if (!c.IsMap() || !c["name"]) continue;
          ColumnDoc doc_col{c["name"].as<std::string>(),
                            c["description"] ? c["description"].as<std::string>() : ""};
          m.columns.push_back(doc_col);
          read_tests(c["tests"] ? c["tests"] : c["data_tests"], doc_col.name, m);
        }
      }
    } catch (const std::exception& e) {
      errors.push_back(file.filename().string() + ": " + e.what());
    }
  }
}

// A cycle through the not-yet-ordered models, as "a -> b -> a".
std::string find_cycle(const std::map<std::string, Model>& models,
                       const std::set<std::string>& remaining) {
  std::map<std::string, int> state;  // 1 on the path, 2 done
  std::vector<std::string> path;
  std::string found;
  std::function<bool(const std::string&)> visit = [&](const std::string& n) {
    state[n] = 1;
    path.push_back(n);
    for (const auto& r : models.at(n).refs) {
      if (!remaining.count(r)) continue;
      if (state[r] == 1) {
        auto from = std::find(path.begin(), path.end(), r);
        for (auto it = from; it != path.end(); ++it) found += *it + " -> ";
        found += r;
        return true;
      }
      if (state[r] == 0 && visit(r)) return true;
    }
    path.pop_back();
    state[n] = 2;
    return false;
  };
  for (const auto& n : remaining) {
    if (state[n] == 0 && visit(n)) break;
  }
  return found;
}

}  // namespace

std::string ModelTest::name() const {
  return kind + "_" + column;
}

const Model* ModelProject::find(const std::string& name) const {
  for (const auto& m : models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::vector<std::string> ModelProject::downstream(const std::string& name,
                                                  bool include_self) const {
  std::set<std::string> reached = {name};
  std::vector<std::string> out;
  if (include_self) out.push_back(name);
  for (const auto& m : models) {  // dependency order: parents come first
    if (m.name == name) continue;
    bool hit = std::any_of(m.refs.begin(), m.refs.end(),
                           [&](const std::string& r) { return reached.count(r) > 0; });
    if (hit) {
      reached.insert(m.name);
      out.push_back(m.name);
    }
  }
  return out;
}

std::string compile_model_sql(const std::string& sql, const QualifyName& qualify,
                              const std::function<std::string(const std::string&)>& layer_of,
                              Model* collect) {
  const std::string where = collect ? "model " + collect->name : "model";
  std::string out;
  size_t at = 0;
  for (const auto& t : find_tags(sql, where)) {
    out += sql.substr(at, t.begin - at);
    at = t.end;
    if (t.function == "ref") {
      std::string target = lower(t.args[0]);
      std::string layer = layer_of(target);
      if (layer.empty()) throw std::invalid_argument(where + " refers to unknown model " + target);
      out += qualify(layer, target);
    } else if (t.function == "source") {
      out += qualify("raw_" + lower(t.args[0]), lower(t.args[1]));
    }
  }
  out += sql.substr(at);
  // Trailing semicolons would end the CREATE … AS statement early.
  while (!out.empty() &&
         (std::isspace(static_cast<unsigned char>(out.back())) || out.back() == ';'))
    out.pop_back();
  return out;
}

ModelProject load_project(const std::string& dir, const QualifyName& qualify) {
  ModelProject project;
  project.dir = dir;
  if (dir.empty()) return project;
  const fs::path root = fs::path(dir) / "models";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    project.error = "dbt project " + dir + " has no models/ folder";
    return project;
  }
  std::map<std::string, Model> models;
  std::vector<fs::path> schema_files;
  std::vector<std::string> errors;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path p = it->path();
    if (!it->is_regular_file()) continue;
    std::string ext = lower(p.extension().string());
    if (ext == ".yml" || ext == ".yaml") {
      schema_files.push_back(p);
      continue;
    }
    if (ext != ".sql") continue;
    Model m;
    m.name = lower(p.stem().string());
    m.path = fs::relative(p, dir).string();
    m.raw_sql = read_text(p);
    // The layer: config(schema=…), else the first folder under models/ (staging → staging, any
    // other → marts).
    fs::path rel = fs::relative(p, root);
    m.layer =
        rel.has_parent_path() && lower(rel.begin()->string()) == "staging" ? "staging" : "marts";
    m.materialized = "view";
    try {
      for (const auto& t : find_tags(m.raw_sql, "model " + m.name)) {
        if (t.function == "ref") {
          std::string r = lower(t.args[0]);
          if (std::find(m.refs.begin(), m.refs.end(), r) == m.refs.end()) m.refs.push_back(r);
        } else if (t.function == "source") {
          m.sources.push_back({lower(t.args[0]), lower(t.args[1])});
        } else if (t.function == "config") {
          auto mat = t.kwargs.find("materialized");
          if (mat != t.kwargs.end()) {
            if (mat->second != "view" && mat->second != "table") {
              throw std::invalid_argument("model " + m.name +
                                          ": materialized must be view or "
                                          "table, not " +
                                          mat->second);
            }
            m.materialized = mat->second;
          }
          auto schema = t.kwargs.find("schema");
          if (schema != t.kwargs.end()) {
            if (schema->second != "staging" && schema->second != "marts") {
              throw std::invalid_argument("model " + m.name + ": schema must be staging or marts");
            }
            m.layer = schema->second;
          }
        }
      }
    } catch (const std::invalid_argument& e) {
      m.error = e.what();
    }
    if (models.count(m.name)) {
      errors.push_back("two models named " + m.name);
      continue;
    }
    models.emplace(m.name, std::move(m));
  }
  std::sort(schema_files.begin(), schema_files.end());
  for (const auto& f : schema_files) apply_schema_file(f, models, errors);

  auto layer_of = [&](const std::string& n) {
    auto it = models.find(n);
    return it == models.end() ? std::string() : it->second.layer;
  };
  for (auto& [name, m] : models) {
    for (const auto& r : m.refs) {
      if (!models.count(r)) errors.push_back("model " + name + " refers to unknown model " + r);
    }
    for (const auto& t : m.tests) {
      if (t.kind == "relationships" && !models.count(t.to_model)) {
        errors.push_back("model " + name + ": relationships test refers to unknown model " +
                         t.to_model);
      }
    }
    if (!m.error.empty()) {
      errors.push_back(m.error);
      continue;
    }
    try {
      m.compiled_sql = compile_model_sql(m.raw_sql, qualify, layer_of, &m);
    } catch (const std::invalid_argument& e) {
      m.error = e.what();
    }
  }
  // Kahn's algorithm, by name among the ready ones so the order is stable.
  std::set<std::string> remaining;
  for (const auto& [name, m] : models) remaining.insert(name);
  std::vector<std::string> order;
  bool progressed = true;
  while (!remaining.empty() && progressed) {
    progressed = false;
    for (const auto& n : remaining) {
      const auto& refs = models.at(n).refs;
      bool ready = std::none_of(refs.begin(), refs.end(),
                                [&](const std::string& r) { return remaining.count(r) > 0; });
      if (ready) {
        order.push_back(n);
        remaining.erase(n);
        progressed = true;
        break;
      }
    }
  }
  if (!remaining.empty()) {
    errors.insert(errors.begin(), "dependency cycle: " + find_cycle(models, remaining));
    for (const auto& n : remaining) order.push_back(n);
  }
  for (const auto& n : order) project.models.push_back(std::move(models.at(n)));
  if (!errors.empty()) {
    project.error = errors[0];
    for (size_t i = 1; i < errors.size(); ++i) project.error += "; " + errors[i];
  }
  return project;
}

}  // namespace dango
