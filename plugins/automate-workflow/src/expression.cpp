#include "expression.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "templates.hpp"

namespace automate {

namespace {

constexpr size_t kMaxLength = 4096;
constexpr int kMaxDepth = 64;

enum class Op { kLiteral, kPath, kOr, kAnd, kNot, kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

}  // namespace

struct ExpressionNode {
  Op op = Op::kLiteral;
  rapidjson::Document literal;  // kLiteral
  std::string path;             // kPath
  std::shared_ptr<const ExpressionNode> left, right;
};

namespace {

using NodePtr = std::shared_ptr<const ExpressionNode>;

struct Token {
  enum Kind { kEnd, kNumber, kString, kWord, kSymbol, kPath } kind = kEnd;
  std::string text;
  size_t at = 0;
};

bool path_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  auto fail = [&](const std::string& why) {
    throw ExpressionError(why + " at position " + std::to_string(i));
  };
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    t.at = i;
    if (c == '{' && s.compare(i, 2, "{{") == 0) {
      size_t close = s.find("}}", i + 2);
      if (close == std::string::npos) fail("unclosed '{{'");
      std::string inner = s.substr(i + 2, close - i - 2);
      size_t b = inner.find_first_not_of(" \t"), e = inner.find_last_not_of(" \t");
      if (b == std::string::npos) fail("empty '{{ }}'");
      t.kind = Token::kPath;
      t.text = inner.substr(b, e - b + 1);
      i = close + 2;
    } else if (c == '\'' || c == '"') {
      t.kind = Token::kString;
      ++i;
      while (i < s.size() && s[i] != c) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        t.text += s[i++];
      }
      if (i >= s.size()) fail("unterminated string");
      ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      t.kind = Token::kNumber;
      size_t start = i++;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' ||
                              s[i] == 'e' || s[i] == 'E')) {
        ++i;
      }
      t.text = s.substr(start, i - start);
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = i;
      while (i < s.size() && path_char(s[i])) ++i;
      t.text = s.substr(start, i - start);
      t.kind = t.text.find('.') == std::string::npos &&
                       (t.text == "and" || t.text == "or" || t.text == "not" || t.text == "in" ||
                        t.text == "true" || t.text == "false" || t.text == "null")
                   ? Token::kWord
                   : Token::kPath;
    } else {
      static const char* kSymbols[] = {"==", "!=", "<=", ">=", "&&", "||", "<",
                                       ">",  "!",  "(",  ")",  "[",  "]",  ","};
      for (const char* sym : kSymbols) {
        if (s.compare(i, std::char_traits<char>::length(sym), sym) == 0) {
          t.kind = Token::kSymbol;
          t.text = sym;
          break;
        }
      }
      if (t.kind != Token::kSymbol) fail(std::string("unexpected '") + c + "'");
      i += t.text.size();
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.at = s.size();
  out.push_back(end);
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  NodePtr parse_all() {
    auto n = parse_or(0);
    if (peek().kind != Token::kEnd) fail("unexpected '" + peek().text + "'");
    return n;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  bool accept(Token::Kind kind, const char* text) {
    if (peek().kind == kind && peek().text == text) {
      ++pos_;
      return true;
    }
    return false;
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw ExpressionError(why + " at position " + std::to_string(peek().at));
  }
  static NodePtr binary(Op op, NodePtr l, NodePtr r) {
    auto n = std::make_shared<ExpressionNode>();
    n->op = op;
    n->left = std::move(l);
    n->right = std::move(r);
    return n;
  }
  void deeper(int depth) const {
    if (depth > kMaxDepth) fail("expression nested too deeply");
  }

  NodePtr parse_or(int depth) {
    deeper(depth);
    auto left = parse_and(depth + 1);
    while (accept(Token::kWord, "or") || accept(Token::kSymbol, "||")) {
      left = binary(Op::kOr, left, parse_and(depth + 1));
    }
    return left;
  }
  NodePtr parse_and(int depth) {
    auto left = parse_not(depth + 1);
    while (accept(Token::kWord, "and") || accept(Token::kSymbol, "&&")) {
      left = binary(Op::kAnd, left, parse_not(depth + 1));
    }
    return left;
  }
  NodePtr parse_not(int depth) {
    deeper(depth);
    if (accept(Token::kWord, "not") || accept(Token::kSymbol, "!")) {
      return binary(Op::kNot, parse_not(depth + 1), nullptr);
    }
    return parse_comparison(depth + 1);
  }
  NodePtr parse_comparison(int depth) {
    auto left = parse_operand(depth + 1);
    static const std::pair<const char*, Op> kOps[] = {{"==", Op::kEq}, {"!=", Op::kNe},
                                                      {"<=", Op::kLe}, {">=", Op::kGe},
                                                      {"<", Op::kLt},  {">", Op::kGt}};
    for (const auto& [text, op] : kOps) {
      if (accept(Token::kSymbol, text)) return binary(op, left, parse_operand(depth + 1));
    }
    if (accept(Token::kWord, "in")) return binary(Op::kIn, left, parse_operand(depth + 1));
    if (peek().kind == Token::kWord && peek().text == "not" &&
        tokens_[pos_ + 1].kind == Token::kWord && tokens_[pos_ + 1].text == "in") {
      pos_ += 2;
      return binary(Op::kNotIn, left, parse_operand(depth + 1));
    }
    return left;
  }
  NodePtr parse_operand(int depth) {
    deeper(depth);
    if (accept(Token::kSymbol, "(")) {
      auto inner = parse_or(depth + 1);
      if (!accept(Token::kSymbol, ")")) fail("expected ')'");
      return inner;
    }
    if (accept(Token::kSymbol, "[")) return parse_list(depth + 1);
    const Token& t = peek();
    auto n = std::make_shared<ExpressionNode>();
    switch (t.kind) {
      case Token::kNumber: {
        char* end = nullptr;
        double v = std::strtod(t.text.c_str(), &end);
        if (*end != '\0' || !std::isfinite(v)) fail("bad number '" + t.text + "'");
        if (t.text.find_first_of(".eE") == std::string::npos && std::fabs(v) < 9e15) {
          n->literal.SetInt64(static_cast<int64_t>(v));
        } else {
          n->literal.SetDouble(v);
        }
        break;
      }
      case Token::kString:
        n->literal.SetString(t.text.c_str(), static_cast<rapidjson::SizeType>(t.text.size()),
                             n->literal.GetAllocator());
        break;
      case Token::kWord:
        if (t.text == "true") {
          n->literal.SetBool(true);
        } else if (t.text == "false") {
          n->literal.SetBool(false);
        } else if (t.text == "null") {
          n->literal.SetNull();
        } else {
          fail("unexpected '" + t.text + "'");
        }
        break;
      case Token::kPath: {
        std::string root = t.text.substr(0, t.text.find('.'));
        if (root != "event" && root != "steps" && root != "previous") {
          fail("unknown name '" + t.text + "' (paths start with event, steps or previous)");
        }
        n->op = Op::kPath;
        n->path = t.text;
        break;
      }
      default:
        fail(t.kind == Token::kEnd ? "unexpected end of expression"
                                   : "unexpected '" + t.text + "'");
    }
    ++pos_;
    return n;
  }

  // After "[": literals separated by commas, then "]".
  NodePtr parse_list(int depth) {
    auto n = std::make_shared<ExpressionNode>();
    n->literal.SetArray();
    auto& a = n->literal.GetAllocator();
    if (accept(Token::kSymbol, "]")) return n;
    do {
      auto item = parse_operand(depth + 1);
      if (item->op != Op::kLiteral) fail("a list holds literals only");
      n->literal.PushBack(rapidjson::Value(item->literal, a), a);
    } while (accept(Token::kSymbol, ","));
    if (!accept(Token::kSymbol, "]")) fail("expected ']'");
    return n;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

bool truthy(const rapidjson::Value& v) {
  if (v.IsBool()) return v.GetBool();
  if (v.IsNull()) return false;
  if (v.IsNumber()) return v.GetDouble() != 0;
  if (v.IsString()) return v.GetStringLength() > 0;
  if (v.IsArray()) return !v.Empty();
  return v.MemberCount() > 0;
}

bool json_equal(const rapidjson::Value& a, const rapidjson::Value& b) {
  if (a.IsNumber() && b.IsNumber()) {
    if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
    return a.GetDouble() == b.GetDouble();
  }
  return a == b;
}

const char* type_name(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "boolean";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsArray()) return "array";
  return "object";
}

bool contains(const rapidjson::Value& needle, const rapidjson::Value& haystack) {
  if (haystack.IsArray()) {
    for (const auto& e : haystack.GetArray()) {
      if (json_equal(needle, e)) return true;
    }
    return false;
  }
  if (haystack.IsString() && needle.IsString()) {
    return std::string_view(haystack.GetString(), haystack.GetStringLength())
               .find(std::string_view(needle.GetString(), needle.GetStringLength())) !=
           std::string_view::npos;
  }
  if (haystack.IsObject() && needle.IsString()) return haystack.HasMember(needle.GetString());
  throw ExpressionError(std::string("cannot test a ") + type_name(needle) + " in a " +
                        type_name(haystack));
}

bool order(Op op, const rapidjson::Value& a, const rapidjson::Value& b) {
  int cmp;
  if (a.IsNumber() && b.IsNumber()) {
    double x = a.GetDouble(), y = b.GetDouble();
    cmp = x < y ? -1 : (x > y ? 1 : 0);
  } else if (a.IsString() && b.IsString()) {
    int c = std::string_view(a.GetString(), a.GetStringLength())
                .compare(std::string_view(b.GetString(), b.GetStringLength()));
    cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    throw ExpressionError(std::string("cannot compare a ") + type_name(a) + " with a " +
                          type_name(b));
  }
  switch (op) {
    case Op::kLt: return cmp < 0;
    case Op::kLe: return cmp <= 0;
    case Op::kGt: return cmp > 0;
    default: return cmp >= 0;
  }
}

// Operands resolve to a value that lives in the node (literal) or in the context (path).
const rapidjson::Value& operand(const ExpressionNode& n, const rapidjson::Value& context,
                                rapidjson::Value& scratch);

bool test(const ExpressionNode& n, const rapidjson::Value& context) {
  rapidjson::Value l, r;
  switch (n.op) {
    case Op::kOr: return test(*n.left, context) || test(*n.right, context);
    case Op::kAnd: return test(*n.left, context) && test(*n.right, context);
    case Op::kNot: return !test(*n.left, context);
    case Op::kEq: return json_equal(operand(*n.left, context, l), operand(*n.right, context, r));
    case Op::kNe: return !json_equal(operand(*n.left, context, l), operand(*n.right, context, r));
    case Op::kIn: return contains(operand(*n.left, context, l), operand(*n.right, context, r));
    case Op::kNotIn: return !contains(operand(*n.left, context, l), operand(*n.right, context, r));
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: return order(n.op, operand(*n.left, context, l), operand(*n.right, context, r));
    case Op::kLiteral:
    case Op::kPath: return truthy(operand(n, context, l));
  }
  return false;
}

const rapidjson::Value& operand(const ExpressionNode& n, const rapidjson::Value& context,
                                rapidjson::Value& scratch) {
  if (n.op == Op::kLiteral) return n.literal;
  if (n.op == Op::kPath) return lookup_path(n.path, context);
  scratch.SetBool(test(n, context));
  return scratch;
}

}  // namespace

Expression Expression::parse(const std::string& text) {
  if (text.size() > kMaxLength) {
    throw ExpressionError("expression longer than " + std::to_string(kMaxLength) + " characters");
  }
  Expression e;
  e.root_ = Parser(tokenize(text)).parse_all();
  return e;
}

bool Expression::evaluate(const rapidjson::Value& context) const {
  return test(*root_, context);
}

}  // namespace automate
