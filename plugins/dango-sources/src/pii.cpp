#include "pii.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace dango {

namespace {

bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

std::vector<std::string> name_tokens(std::string_view name) {
  std::vector<std::string> tokens(1);
  for (char c : name) {
    if (c == '_' || c == '-' || c == ' ' || c == '.') {
      if (!tokens.back().empty()) tokens.emplace_back();
    } else {
      tokens.back() += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (tokens.back().empty()) tokens.pop_back();
  return tokens;
}

bool is_email(std::string_view v) {
  auto at = v.find('@');
  if (at == std::string_view::npos || at == 0 || v.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  if (std::any_of(v.begin(), v.end(), [](char c) {
        return std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == ';';
      })) {
    return false;
  }
  std::string_view domain = v.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || domain.size() - dot - 1 < 2) return false;
  std::string_view tld = domain.substr(dot + 1);
  return std::all_of(tld.begin(), tld.end(),
                     [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
}

// NNN-NN-NNNN with the SSA's never-issued areas (000, 666, 9xx), group 00 and serial 0000 out.
bool is_ssn(std::string_view v) {
  if (v.size() != 11 || v[3] != '-' || v[6] != '-') return false;
  for (size_t i : {0, 1, 2, 4, 5, 7, 8, 9, 10}) {
    if (!is_digit(v[i])) return false;
  }
  std::string_view area = v.substr(0, 3);
  if (area == "000" || area == "666" || v[0] == '9') return false;
  return v.substr(4, 2) != "00" && v.substr(7, 4) != "0000";
}

// 13–19 digits, optionally grouped by spaces or dashes, passing the Luhn check.
bool is_card_number(std::string_view v) {
  std::string digits;
  for (char c : v) {
    if (is_digit(c)) {
      digits += c;
    } else if (c != ' ' && c != '-') {
      return false;
    }
  }
  if (digits.size() < 13 || digits.size() > 19) return false;
  if (std::all_of(digits.begin(), digits.end(), [&](char c) { return c == digits[0]; })) {
    return false;  // 0000… passes Luhn but is no card
  }
  return luhn_valid(digits);
}

// 10–15 digits written as a phone number: a leading + or at least two separators, so that plain
// numbers, amounts and dates are not taken for phone numbers.
bool is_phone(std::string_view v) {
  size_t digits = 0, separators = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (is_digit(c)) {
      ++digits;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
      ++separators;
    } else if (!(c == '+' && i == 0)) {
      return false;
    }
  }
  return digits >= 10 && digits <= 15 && (v[0] == '+' || separators >= 2);
}

bool is_ip(std::string_view v) {
  if (v.empty() || v.size() > 45) return false;
  std::string s(v);
  unsigned char buf[16];
  if (s.find(':') != std::string::npos) return inet_pton(AF_INET6, s.c_str(), buf) == 1;
  return std::count(s.begin(), s.end(), '.') == 3 && inet_pton(AF_INET, s.c_str(), buf) == 1;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return v;
}

}  // namespace

bool luhn_valid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!is_digit(*it)) return false;
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

std::optional<std::string> pii_type_of_name(std::string_view column) {
  auto tokens = name_tokens(column);
  auto has = [&](std::initializer_list<const char*> words) {
    for (const auto& t : tokens) {
      for (const char* w : words) {
        if (t == w) return true;
      }
    }
    return false;
  };
  std::string joined;
  for (const auto& t : tokens) joined += t;
  auto contains = [&](const char* s) { return joined.find(s) != std::string::npos; };
  if (contains("email") || contains("emailaddress")) return "email";
  if (has({"ssn", "sin", "nino"}) || contains("socialsecurity") || contains("nationalid") ||
      contains("taxid")) {
    return "national_id";
  }
  if (contains("creditcard") || contains("cardnumber") || contains("ccnumber") || has({"pan"})) {
    return "credit_card";
  }
  if (has({"ip", "ipv4", "ipv6"}) || contains("ipaddress")) return "ip_address";
  if (has({"phone", "mobile", "telephone", "tel", "fax", "cell"}) || contains("phonenumber")) {
    return "phone";
  }
  if (contains("passport")) return "passport";
  if (has({"dob"}) || contains("birthdate") || contains("dateofbirth") || contains("birthday")) {
    return "date_of_birth";
  }
  if (contains("firstname") || contains("lastname") || contains("fullname") ||
      has({"surname", "forename"})) {
    return "person_name";
  }
  if (has({"street", "address", "postcode", "zipcode", "zip"})) return "address";
  return std::nullopt;
}

std::optional<std::string> pii_type_of_value(std::string_view raw) {
  std::string_view v = trim(raw);
  if (v.size() < 7 || v.size() > 254) return std::nullopt;
  if (is_email(v)) return "email";
  if (is_ssn(v)) return "national_id";
  if (is_card_number(v)) return "credit_card";
  if (is_ip(v)) return "ip_address";
  if (is_phone(v)) return "phone";
  return std::nullopt;
}

std::vector<PiiFinding> scan_for_pii(const std::vector<std::string>& columns,
                                     const std::vector<std::vector<Cell>>& rows) {
  std::vector<PiiFinding> out;
  for (size_t c = 0; c < columns.size(); ++c) {
    std::map<std::string, int64_t> counts;
    int64_t sampled = 0;
    for (const auto& row : rows) {
      if (c >= row.size() || !row[c] || row[c]->empty()) continue;
      ++sampled;
      if (auto t = pii_type_of_value(*row[c])) ++counts[*t];
    }
    auto best = std::max_element(counts.begin(), counts.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    bool by_values = best != counts.end() && best->second * 2 >= sampled;
    auto by_name = pii_type_of_name(columns[c]);
    if (!by_values && !by_name) continue;
    PiiFinding f;
    f.column = columns[c];
    f.pii_type = by_values ? best->first : *by_name;
    f.detected_by = by_values && by_name ? "name+values" : by_values ? "values" : "name";
    f.matches = by_values ? best->second : 0;
    f.sampled = sampled;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace dango
