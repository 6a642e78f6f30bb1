// The `condition` step's expression language: comparisons, and/or/not and literals over template
// paths. Parsed into a small tree and evaluated; nothing else is reachable (no calls, no
// assignment, no environment), and size and nesting are bounded.
//
//   expr       := or
//   or         := and (("or" | "||") and)*
//   and        := not (("and" | "&&") not)*
//   not        := ("not" | "!") not | comparison
//   comparison := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") operand)?
//   operand    := literal | path | "{{" path "}}" | "(" expr ")"
//               | "[" (literal ("," literal)*)? "]"
//   literal    := number | 'text' | "text" | true | false | null
//   path       := ("event" | "steps" | "previous") ("." name-or-index)*
//
// Paths resolve as in templates; a missing key is an error naming it. `==`/`!=` compare JSON
// values (numbers by value); `<`… compare two numbers or two strings, anything else is an error;
// `a in b`: element of an array, substring of a string, or key of an object. and/or/not use
// truthiness: false, null, 0, "", [] and {} are false.
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace automate {

class ExpressionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ExpressionNode;

// A parsed expression; immutable, safe to evaluate from several threads.
class Expression {
 public:
  // Throws ExpressionError naming the position of a syntax error.
  static Expression parse(const std::string& text);
  // Truthiness of the expression over `context` ({"event": …, "steps": {…}}). Throws
  // ExpressionError (type errors) or TemplateError (missing keys).
  bool evaluate(const rapidjson::Value& context) const;

 private:
  std::shared_ptr<const ExpressionNode> root_;
};

}  // namespace automate
