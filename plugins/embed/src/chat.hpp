// chat.hpp — answering one widget message from the embed's source: a RAG endpoint (an answer
// composed from its passages), the datachat plugin, or an llm connector given RAG context. Other
// plugins are reached through their connectors (retriever/rag, datachat/datachat, llm/<name>).
#pragma once

#include <plughost/plugin.hpp>
#include <string>

#include "embeds.hpp"
#include "sessions.hpp"

namespace embed {

struct Reply {
  std::string text;
  std::string sources_json = "[]";  // [{id, title, score}]
};

// Throws plughost::sdk::HttpError 502 UPSTREAM_ERROR when the source cannot answer (the plugin
// behind it missing or failing); the detail is logged, not answered.
Reply answer_message(const plughost::sdk::Services& services, const SessionStore& sessions,
                     const Embed& e, const std::string& session_id, const std::string& message,
                     const std::string& tenant, const plughost::sdk::Request& rq);

// The sentence a RAG embed answers when no passage shares a word with the question.
extern const char* const kNoAnswer;

}  // namespace embed
