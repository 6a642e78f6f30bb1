#include "templates.hpp"

#include <algorithm>
#include <cctype>
#include <plughost/json.hpp>
#include <vector>

namespace automate {

namespace {

using Alloc = rapidjson::Document::AllocatorType;

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n"), e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_path(const std::string& expr) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= expr.size(); ++i) {
    if (i == expr.size() || expr[i] == '.') {
      parts.push_back(expr.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

bool valid_segment(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

}  // namespace

const rapidjson::Value& lookup_path(const std::string& expr, const rapidjson::Value& context) {
  auto parts = split_path(expr);
  for (const auto& p : parts) {
    if (!valid_segment(p)) throw TemplateError("unsupported template expression '" + expr + "'");
  }
  if (parts[0] == "previous" && parts.size() >= 2) {  // previous.<id>.x = steps.<id>.output.x
    parts[0] = "steps";
    parts.insert(parts.begin() + 2, "output");
  }
  if (parts[0] != "event" && parts[0] != "steps") {
    throw TemplateError("unknown template root '" + parts[0] + "' in '" + expr + "'");
  }
  const rapidjson::Value* v = &context;
  for (const auto& p : parts) {
    if (v->IsObject() && v->HasMember(p.c_str())) {
      v = &(*v)[p.c_str()];
    } else if (v->IsArray() && std::all_of(p.begin(), p.end(), ::isdigit) && p.size() < 9 &&
               std::stoul(p) < v->Size()) {
      v = &(*v)[static_cast<rapidjson::SizeType>(std::stoul(p))];
    } else {
      throw TemplateError("missing key '" + expr + "'");
    }
  }
  return *v;
}

namespace {

rapidjson::Value render_string(const std::string& s, const rapidjson::Value& context, Alloc& a) {
  size_t open = s.find("{{");
  if (open == std::string::npos) {
    return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
  }
  size_t close = s.find("}}", open);
  if (open == 0 && close == s.size() - 2 && s.find("{{", 2) == std::string::npos) {
    return rapidjson::Value(lookup_path(trim(s.substr(2, close - 2)), context), a);
  }
  std::string out;
  size_t at = 0;
  while ((open = s.find("{{", at)) != std::string::npos) {
    close = s.find("}}", open);
    if (close == std::string::npos) throw TemplateError("unclosed '{{' in '" + s + "'");
    out += s.substr(at, open - at);
    const auto& v = lookup_path(trim(s.substr(open + 2, close - open - 2)), context);
    out +=
        v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : plughost::sdk::to_json(v);
    at = close + 2;
  }
  out += s.substr(at);
  return rapidjson::Value(out.c_str(), static_cast<rapidjson::SizeType>(out.size()), a);
}

}  // namespace

rapidjson::Value render_templates(const rapidjson::Value& value, const rapidjson::Value& context,
                                  Alloc& alloc) {
  if (value.IsString()) {
    return render_string(std::string(value.GetString(), value.GetStringLength()), context, alloc);
  }
  if (value.IsObject()) {
    rapidjson::Value out(rapidjson::kObjectType);
    for (const auto& m : value.GetObject()) {
      out.AddMember(rapidjson::Value(m.name, alloc), render_templates(m.value, context, alloc),
                    alloc);
    }
    return out;
  }
  if (value.IsArray()) {
    rapidjson::Value out(rapidjson::kArrayType);
    for (const auto& e : value.GetArray()) out.PushBack(render_templates(e, context, alloc), alloc);
    return out;
  }
  return rapidjson::Value(value, alloc);
}

}  // namespace automate
