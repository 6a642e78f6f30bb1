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
  // A query anywhere; any other statement only at the start of a line (so that prose such as
  // "I will update you" is not taken for SQL). Whatever is found still goes through the guard.
  static const std::regex kStart("\\b(SELECT|WITH|select|with)\\b");
  static const std::regex kStatement(
      "(^|\\n)\\s*((INSERT|UPDATE|DELETE|DROP|CREATE|ALTER|PRAGMA|ATTACH|REPLACE|VACUUM)\\b)",
      std::regex::icase);
  // Whichever statement comes first.
  std::smatch q;
  bool statement = std::regex_search(text, m, kStatement);
  bool query = std::regex_search(text, q, kStart);
  if (statement && (!query || m.position(2) < q.position(0))) {
    text = text.substr(static_cast<size_t>(m.position(2)));
  } else if (query) {
    text = text.substr(static_cast<size_t>(q.position(0)));
  } else {
    return "";
  }
  while (!text.empty() &&
         (std::isspace(static_cast<unsigned char>(text.back())) || text.back() == ';')) {
    text.pop_back();
  }
  return text;
}

}  // namespace datachat
