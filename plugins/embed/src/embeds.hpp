// embeds.hpp — the configured embeds: their look, who may use them (key and sites) and what
// answers them. Parsed once at init; read-only afterwards.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace embed {

enum class AnswerSource { kRag, kDatachat, kLlm };

struct Embed {
  std::string id;
  bool enabled = true;
  std::string title = "Data Assistant";
  std::string primary_color = "#2563eb";
  std::string welcome_message = "Hi! How can I help you today?";
  std::string placeholder = "Type your question...";
  std::vector<std::string> allowed_origins;  // empty: any site
  std::string key_sha256;                    // 32 raw bytes
  int64_t rate_limit = 60;                   // per minute per session
  int64_t max_queries_per_session = 100;
  AnswerSource source = AnswerSource::kRag;
  std::string tenant = "default";  // never the caller's X-Tenant-ID: callers are anonymous
  std::string endpoint;            // RAG endpoint slug
  int top_k = 4;
  std::string llm = "openai";
  std::string system_prompt;
  bool demo_page = false;
  std::string demo_key;  // the key, kept only for the demo page
};

// The embeds of the plugin config, by id. Throws std::invalid_argument naming the embed when
// one has no key, two share an id, or source rag has no endpoint.
std::map<std::string, Embed> parse_embeds(const rapidjson::Value& config);

// SHA-256 of `data`, 32 raw bytes.
std::string sha256(std::string_view data);

// Whether `key` is the embed's key (constant time).
bool key_matches(const Embed& e, std::string_view key);

// Whether a request from `origin` ("https://shop.example.com[:port]") may use the embed. Each
// allowed entry is a pattern with `*` wildcards matched against the whole origin, against
// host:port, or against the host. An empty list admits any site, but a missing origin or "null"
// is always refused.
bool origin_allowed(const Embed& e, std::string_view origin);

// "https://a.example:8443" from a Referer URL ("https://a.example:8443/page?x"); "" when it has
// no scheme://host.
std::string origin_of_url(std::string_view url);

// `*` matches any run of characters (none included); everything else literally, case-insensitive.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace embed
