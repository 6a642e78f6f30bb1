#include "embeds.hpp"

#include <sodium.h>

#include <cctype>
#include <set>
#include <stdexcept>

namespace embed {
namespace {

std::string text(const rapidjson::Value& obj, const char* key, const std::string& fallback) {
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : fallback;
}

int64_t number(const rapidjson::Value& obj, const char* key, int64_t fallback) {
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : fallback;
}

std::optional<std::string> from_hex(const std::string& hex) {
  std::string out(hex.size() / 2, '\0');
  size_t len = 0;
  if (hex.size() != 64 ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.c_str(),
                     hex.size(), nullptr, &len, nullptr) != 0 ||
      len != 32) {
    return std::nullopt;
  }
  return out;
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

}  // namespace

std::string sha256(std::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

std::map<std::string, Embed> parse_embeds(const rapidjson::Value& config) {
  std::map<std::string, Embed> out;
  auto list = config.IsObject() ? config.FindMember("embeds") : config.MemberEnd();
  if (!config.IsObject() || list == config.MemberEnd() || !list->value.IsArray()) return out;
  for (const auto& v : list->value.GetArray()) {
    if (!v.IsObject()) continue;
    Embed e;
    e.id = text(v, "id", "");
    const std::string where = "embed: embeds[" + e.id + "]";
    auto enabled = v.FindMember("enabled");
    e.enabled = enabled == v.MemberEnd() || !enabled->value.IsBool() || enabled->value.GetBool();
    e.title = text(v, "title", e.title);
    e.primary_color = text(v, "primary_color", e.primary_color);
    e.welcome_message = text(v, "welcome_message", e.welcome_message);
    e.placeholder = text(v, "placeholder", e.placeholder);
    e.tenant = text(v, "tenant", e.tenant);
    auto origins = v.FindMember("allowed_origins");
    if (origins != v.MemberEnd() && origins->value.IsArray()) {
      for (const auto& o : origins->value.GetArray()) {
        if (o.IsString()) e.allowed_origins.emplace_back(o.GetString());
      }
    }
    std::string key = text(v, "api_key", "");
    std::string key_hash = text(v, "api_key_sha256", "");
    auto demo = v.FindMember("demo_page");
    e.demo_page = demo != v.MemberEnd() && demo->value.IsBool() && demo->value.GetBool();
    if (!key.empty()) {
      if (key.size() < 24)
        throw std::invalid_argument(where + ".api_key is too short (24+ characters)");
      e.key_sha256 = sha256(key);
      if (e.demo_page) {
        for (char c : key) {
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
            throw std::invalid_argument(where +
                                        ".demo_page needs a key of letters, digits, _ and -");
          }
        }
        e.demo_key = key;
      }
      sodium_memzero(key.data(), key.size());
    } else if (auto raw = from_hex(key_hash)) {
      e.key_sha256 = *raw;
    } else {
      throw std::invalid_argument(where + " needs api_key or api_key_sha256");
    }
    if (e.demo_page && e.demo_key.empty()) {
      throw std::invalid_argument(where + ".demo_page needs api_key (the page carries the key)");
    }
    e.rate_limit = number(v, "rate_limit", e.rate_limit);
    e.max_queries_per_session = number(v, "max_queries_per_session", e.max_queries_per_session);
    auto answer = v.FindMember("answer");
    if (answer != v.MemberEnd() && answer->value.IsObject()) {
      const auto& a = answer->value;
      std::string source = text(a, "source", "rag");
      e.source = source == "datachat" ? AnswerSource::kDatachat
                 : source == "llm"    ? AnswerSource::kLlm
                                      : AnswerSource::kRag;
      e.endpoint = text(a, "endpoint", "");
      e.top_k = static_cast<int>(number(a, "top_k", e.top_k));
      e.llm = text(a, "llm", e.llm);
      e.system_prompt = text(a, "system_prompt", e.system_prompt);
    }
    if (e.source == AnswerSource::kRag && e.endpoint.empty()) {
      throw std::invalid_argument(where + ".answer.endpoint is required for source rag");
    }
    if (!out.emplace(e.id, e).second) throw std::invalid_argument(where + " is declared twice");
  }
  return out;
}

bool key_matches(const Embed& e, std::string_view key) {
  std::string hashed = sha256(key);
  return hashed.size() == e.key_sha256.size() &&
         sodium_memcmp(hashed.data(), e.key_sha256.data(), hashed.size()) == 0;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point: linear in practice, no recursion.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && lower(pattern[p]) == lower(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string origin_of_url(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos || scheme == 0) return "";
  size_t end = url.find_first_of("/?#", scheme + 3);
  std::string_view origin = url.substr(0, end);
  return origin.size() > scheme + 3 ? std::string(origin) : "";
}

bool origin_allowed(const Embed& e, std::string_view origin) {
  if (origin.empty() || origin == "null") return false;
  if (e.allowed_origins.empty()) return true;
  size_t scheme = origin.find("://");
  std::string_view host_port =
      scheme == std::string_view::npos ? origin : origin.substr(scheme + 3);
  std::string_view host =
      host_port.substr(0, host_port.rfind(':') == std::string_view::npos || host_port.back() == ']'
                              ? host_port.size()
                              : host_port.rfind(':'));
  for (const auto& pattern : e.allowed_origins) {
    if (pattern == "*" || glob_match(pattern, origin) || glob_match(pattern, host_port) ||
        glob_match(pattern, host)) {
      return true;
    }
  }
  return false;
}

}  // namespace embed
