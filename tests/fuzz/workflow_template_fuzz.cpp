// Fuzzes automate-workflow's step templating (plugins/automate-workflow/src/templates.cpp:
// `{{ event.payload.x }}`, `{{ steps.<id>.output.y }}`, `{{ previous.<id>.y }}`) and the condition
// step's expression language (expression.cpp), against a fixed run context.
// First byte % 4 == 0: the rest is a step config (JSON; text that is not JSON is one string)
// rendered against the context. Only TemplateError escapes; objects and arrays keep their shape
// and keys; strings without `{{` and non-strings come back unchanged; a string that is exactly one
// `{{ path }}` becomes the value at that path; rendering is deterministic.
// First byte % 4 == 2: the rest is a workflow graph (the body of POST /api/workflows): validating
// it never throws, and a graph it accepts has a run order listing every node once, each edge's
// source before its target.
// First byte odd: the rest is a condition. Parsing throws only ExpressionError, evaluating only
// ExpressionError or TemplateError; both are deterministic; `not (E)` is the negation of E.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <plughost/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "expression.hpp"
#include "graph.hpp"
#include "templates.hpp"

namespace {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "workflow_template_fuzz: invariant broken: %s\n", what);
  __builtin_trap();
}

const char* kContext =
    R"({"event":{"type":"order.created","payload":{"id":42,"name":"Ada","tags":["a","b"],)"
    R"("nested":{"x":{"y":[1,{"z":null}]}},"flag":true,"price":9.5,"empty":"","zero":0,)"
    R"("big":18446744073709551615,"neg":-7,"text":"{{ event.type }}"}},)"
    R"("steps":{"a":{"output":{"n":1,"s":"text","list":[{"k":"v"}],"obj":{}}},)"
    R"("b-2":{"output":"plain"},"c_3":{"output":[true,false,null]}}})";

const rapidjson::Document& context() {
  static rapidjson::Document* doc = [] {
    auto* d = new rapidjson::Document;
    d->Parse(kContext);
    if (d->HasParseError()) __builtin_trap();
    return d;
  }();
  return *doc;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n"), e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// `out` is `in` rendered: same shape, strings rendered as documented.
void check_rendered(const rapidjson::Value& in, const rapidjson::Value& out) {
  if (in.IsString()) {
    std::string s(in.GetString(), in.GetStringLength());
    if (s.find("{{") == std::string::npos) {
      check(out.IsString() && out == in, "a string without {{ is kept");
      return;
    }
    size_t close = s.find("}}");
    if (s.rfind("{{", 0) == 0 && close == s.size() - 2 && s.find("{{", 2) == std::string::npos) {
      check(out == automate::lookup_path(trim(s.substr(2, close - 2)), context()),
            "a whole-string {{ path }} becomes the value at the path");
      return;
    }
    check(out.IsString(), "a string with text around {{ }} stays a string");
    return;
  }
  if (in.IsObject()) {
    check(out.IsObject() && out.MemberCount() == in.MemberCount(), "objects keep their members");
    auto o = out.MemberBegin();
    for (auto i = in.MemberBegin(); i != in.MemberEnd(); ++i, ++o) {
      check(o->name == i->name, "objects keep their keys in order");
      check_rendered(i->value, o->value);
    }
    return;
  }
  if (in.IsArray()) {
    check(out.IsArray() && out.Size() == in.Size(), "arrays keep their length");
    for (rapidjson::SizeType k = 0; k < in.Size(); ++k) check_rendered(in[k], out[k]);
    return;
  }
  check(out == in, "numbers, booleans and null are kept");
}

void render(const std::string& text) {
  rapidjson::Document config;
  std::string error;
  if (!plughost::sdk::parse_json(text, config, error)) {
    config.SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()),
                     config.GetAllocator());
  }
  rapidjson::Document out;
  rapidjson::Value rendered;
  try {
    rendered = automate::render_templates(config, context(), out.GetAllocator());
  } catch (const automate::TemplateError& e) {
    check(std::string(e.what()).size() > 0, "a template error says why");
    try {
      automate::render_templates(config, context(), out.GetAllocator());
    } catch (const automate::TemplateError& again) {
      check(std::string(e.what()) == again.what(), "the same template fails the same way");
      return;
    }
    check(false, "rendering is deterministic (failed once, then succeeded)");
  }
  check_rendered(config, rendered);
  rapidjson::Document out2;
  // Compared as text: RapidJSON's == matches object members by name, wrong for duplicate keys.
  check(plughost::sdk::to_json(automate::render_templates(
            config, context(), out2.GetAllocator())) == plughost::sdk::to_json(rendered),
        "rendering is deterministic");
}

// 1 true, 0 false, -1 error (its message in `error`).
int evaluate(const automate::Expression& e, std::string& error) {
  try {
    return e.evaluate(context()) ? 1 : 0;
  } catch (const automate::ExpressionError& x) {
    error = x.what();
  } catch (const automate::TemplateError& x) {
    error = x.what();
  }
  return -1;
}

void condition(const std::string& text) {
  automate::Expression e;
  try {
    e = automate::Expression::parse(text);
  } catch (const automate::ExpressionError& x) {
    check(std::string(x.what()).find("position") != std::string::npos ||
              std::string(x.what()).size() > 0,
          "a syntax error says why");
    return;
  }
  std::string error, error2;
  int first = evaluate(e, error);
  int again = evaluate(e, error2);
  check(first == again && error == error2, "evaluating is deterministic");
  if (first < 0) return;
  automate::Expression negated;
  try {
    negated = automate::Expression::parse("not (" + text + "\n)");
  } catch (const automate::ExpressionError&) {
    return;  // the wrapper pushed it past the length or nesting bound
  }
  std::string negated_error;
  int n = evaluate(negated, negated_error);
  check(n == 1 - first, "not (E) is the negation of E");
}

void graph(const std::string& text) {
  rapidjson::Document g;
  std::string error;
  if (!plughost::sdk::parse_json(text, g, error)) return;
  static const std::set<std::string> kTypes = {"condition", "http_request", "delay", "log"};
  std::vector<plughost::sdk::ErrorDetail> problems = automate::validate_graph(g, kTypes);
  for (const auto& p : problems) check(p.field.rfind("graph", 0) == 0, "problems name a field");
  if (!problems.empty()) return;
  std::vector<std::string> order = automate::run_order(g);
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < order.size(); ++i) {
    check(position.emplace(order[i], i).second, "each node runs once");
  }
  check(order.size() == g["nodes"].Size(), "every node runs");
  if (g.HasMember("edges") && g["edges"].IsArray()) {
    for (const auto& e : g["edges"].GetArray()) {
      check(position.at(e["source"].GetString()) < position.at(e["target"].GetString()),
            "an edge's source runs before its target");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    condition(text);
  } else if (data[0] % 4 == 2) {
    graph(text);
  } else {
    render(text);
  }
  return 0;
}
