#include "sql_text.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace datachat {

std::string lower_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string quote_literal(const std::string& value) {
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool has_compound_select(const std::string& sql) {
  std::string word;
  auto flush = [&] {
    std::string w = lower_ascii(word);
    word.clear();
    return w == "union" || w == "intersect" || w == "except";
  };
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
      if (flush()) return true;
      char close = c == '[' ? ']' : c;
      for (++i; i < sql.size() && sql[i] != close; ++i) {
      }
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      if (flush()) return true;
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      if (flush()) return true;
      size_t end = sql.find("*/", i + 2);
      i = end == std::string::npos ? sql.size() : end + 1;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      word += c;
    } else if (flush()) {
      return true;
    }
  }
  return flush();
}

std::string extract_sql(const std::string& reply) {
  static const std::regex kFence("```(?:sql|SQL)?\\s*\\n([\\s\\S]*?)```");
  std::smatch m;
  std::string text = reply;
  if (std::regex_search(reply, m, kFence)) text = m[1].str();
  static const std::regex kStart("\\b(SELECT|WITH|select|with)\\b");
  if (!std::regex_search(text, m, kStart)) return "";
  text = text.substr(static_cast<size_t>(m.position(0)));
  while (!text.empty() &&
         (std::isspace(static_cast<unsigned char>(text.back())) || text.back() == ';')) {
    text.pop_back();
  }
  return text;
}

}  // namespace datachat
