// Fuzzes dango-sources' dbt model compiler (compile_model_sql in plugins/dango-sources/src/
// models.cpp): {{ ref('m') }}, {{ source('s', 't') }} and {{ config(k='v') }} in model SQL.
// First byte % 3 == 0: the rest is model SQL as a user wrote it. Compiling either gives SQL or
// throws std::invalid_argument (nothing else escapes); it is deterministic; SQL without tags comes
// back as written (trailing blanks and semicolons dropped); every ref() asks for a lower-case
// model. First byte % 3 == 1: the rest is a program that builds SQL from text and tags (random
// spacing and quotes) together with the SQL it must compile to; unknown models must be refused.
// First byte % 3 == 2: the rest, split at NUL bytes, is a project: models/staging/stg_a.sql,
// models/marts/b.sql and models/schema.yml. Loading it never throws (problems go to the project's
// error), and without an error every model comes after the models it refers to.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "models.hpp"

namespace {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "model_sql_fuzz: invariant broken: %s\n", what);
  __builtin_trap();
}

std::string qualify(const std::string& layer, const std::string& table) {
  return "\"" + layer + "\".\"" + table + "\"";
}

// Models whose name starts with 'x' (or is empty) do not exist.
std::string layer_of(const std::string& name) {
  if (name.empty() || name[0] == 'x') return "";
  return name[0] < 'm' ? "staging" : "marts";
}

std::string ascii_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) {
    s.pop_back();
  }
  return s;
}

struct Outcome {
  bool ok = false;
  std::string text;  // the SQL, or the error message
  std::vector<std::string> asked;
};

Outcome compile(const std::string& sql) {
  Outcome o;
  auto layer = [&o](const std::string& name) {
    o.asked.push_back(name);
    return layer_of(name);
  };
  try {
    o.text = dango::compile_model_sql(sql, qualify, layer);
    o.ok = true;
  } catch (const std::invalid_argument& e) {
    o.text = e.what();
  }
  return o;
}

// Reads bytes of the program in order; zero once it runs out.
struct Program {
  std::string_view bytes;
  size_t at = 0;
  bool more() const { return at < bytes.size(); }
  uint8_t next() { return at < bytes.size() ? static_cast<uint8_t>(bytes[at++]) : 0; }
  std::string name(char quote) {
    std::string out;
    for (size_t n = next() % 12; n > 0 && more(); --n) {
      char c = static_cast<char>(next());
      if (c == quote || c == '{' || c == '}' || c == '\'' || c == '"') c = '_';
      out += c;
    }
    return out;
  }
  std::string space() {
    static const char* kSpaces[] = {"", " ", "  ", "\n", "\t "};
    return kSpaces[next() % 5];
  }
};

void generated(std::string_view bytes) {
  Program p{bytes};
  std::string sql;
  std::string expected;
  bool refused = false;
  while (p.more()) {
    uint8_t op = p.next();
    char q = (op & 0x80) ? '"' : '\'';
    std::string quote(1, q);
    switch (op % 4) {
      case 0: {  // plain SQL text: anything but braces
        for (size_t n = p.next() % 16; n > 0 && p.more(); --n) {
          char c = static_cast<char>(p.next());
          if (c == '{' || c == '}') c = ' ';
          sql += c;
          expected += c;
        }
        break;
      }
      case 1: {
        std::string model = p.name(q);
        sql += "{{" + p.space() + "ref" + p.space() + "(" + p.space() + quote + model + quote +
               p.space() + ")" + p.space() + "}}";
        std::string lower = ascii_lower(model);
        if (layer_of(lower).empty()) refused = true;
        expected += qualify(layer_of(lower), lower);
        break;
      }
      case 2: {
        std::string source = p.name(q);
        std::string table = p.name(q);
        sql += "{{" + p.space() + "source(" + quote + source + quote + "," + p.space() + quote +
               table + quote + ")" + p.space() + "}}";
        expected += qualify("raw_" + ascii_lower(source), ascii_lower(table));
        break;
      }
      case 3: {
        std::string value = p.name(q);
        sql += "{{ config(materialized=" + quote + value + quote + "," + p.space() + "schema" +
               p.space() + "=" + p.space() + quote + "marts" + quote + ") }}";
        break;
      }
    }
  }
  Outcome o = compile(sql);
  if (refused) {
    check(!o.ok && o.text.find("refers to unknown model") != std::string::npos,
          "a ref() to an unknown model is refused, naming it");
    return;
  }
  check(o.ok, "well-formed tags compile");
  check(o.text == trimmed(expected), "tags are replaced by their qualified names, text kept");
}

// The project folder, made once per process and removed at exit.
struct ProjectDir {
  ProjectDir() {
    char tmpl[] = "/tmp/model_sql_fuzz-XXXXXX";
    if (!mkdtemp(tmpl)) __builtin_trap();
    path = tmpl;
    std::filesystem::create_directories(path + "/models/staging");
    std::filesystem::create_directories(path + "/models/marts");
  }
  ~ProjectDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

void project(std::string_view bytes) {
  static const ProjectDir project_dir;
  const std::string& dir = project_dir.path;
  const char* files[] = {"/models/staging/stg_a.sql", "/models/marts/b.sql", "/models/schema.yml"};
  size_t at = 0;
  for (const char* name : files) {
    size_t nul = bytes.find('\0', at);
    std::string_view part = at > bytes.size() ? std::string_view() : bytes.substr(at, nul - at);
    std::ofstream(dir + name, std::ios::binary | std::ios::trunc)
        .write(part.data(), static_cast<std::streamsize>(part.size()));
    at = nul == std::string_view::npos ? bytes.size() + 1 : nul + 1;
  }
  dango::ModelProject p;
  try {
    p = dango::load_project(dir, qualify);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "model_sql_fuzz: load_project threw: %s\n", e.what());
    __builtin_trap();
  }
  check(p.models.size() == 2, "both model files are models");
  if (!p.error.empty()) return;
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < p.models.size(); ++i) position[p.models[i].name] = i;
  for (size_t i = 0; i < p.models.size(); ++i) {
    const dango::Model& m = p.models[i];
    // (A model that is only a config() tag compiles to empty SQL: its run fails in the warehouse.)
    check(m.error.empty(), "a project without error has no model with an error");
    for (const auto& r : m.refs) {
      check(position.count(r) && position[r] < i, "models come after the models they refer to");
    }
    for (const auto& t : m.tests) {
      check(t.kind == "not_null" || t.kind == "unique" || t.kind == "accepted_values" ||
                t.kind == "relationships",
            "only supported tests are kept");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 3 == 1) {
    generated(rest);
    return 0;
  }
  if (data[0] % 3 == 2) {
    project(rest);
    return 0;
  }
  std::string sql(rest);
  Outcome first = compile(sql);
  Outcome again = compile(sql);
  check(first.ok == again.ok && first.text == again.text && first.asked == again.asked,
        "compiling is deterministic");
  if (!first.ok) {
    check(!first.text.empty(), "a refusal says why");
    return 0;
  }
  if (sql.find("{{") == std::string::npos && sql.find("{%") == std::string::npos) {
    check(first.text == trimmed(sql), "SQL without tags is kept as written");
  }
  check(first.text == trimmed(first.text), "no trailing blanks or semicolons");
  for (const auto& name : first.asked) {
    check(name == ascii_lower(name), "ref() names are looked up in lower case");
    check(!layer_of(name).empty(), "a compiled model refers only to known models");
  }
  return 0;
}
