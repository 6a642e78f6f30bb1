// Text handling shared by ingestion and search: tokens, front matter, HTML to text, chunking,
// content hashes. Pure functions, no host access; safe on any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rag {

// Lower-cased alphanumeric words (ASCII letters and digits; other bytes split words, UTF-8
// sequences are kept inside words), stop words dropped, a trailing plural "s" folded.
std::vector<std::string> keyword_tokens(std::string_view text);

// Same words without stop-word removal or folding (for the embedder's n-grams).
std::vector<std::string> raw_words(std::string_view text);

// "---\nkey: value\n---\n" at the start of a Markdown file. Values stay text; "[a, b]" becomes a
// list. `body` receives the text after the block (the whole text when there is none).
struct FrontMatter {
  std::map<std::string, std::vector<std::string>> lists;
  std::map<std::string, std::string> values;
  std::string body;
};
FrontMatter parse_front_matter(std::string_view text);

// Visible text of an HTML page: tags removed, script/style dropped, common entities decoded,
// blank runs collapsed. `title` receives <title> when present.
std::string html_to_text(std::string_view html, std::string* title = nullptr);

// The first Markdown heading ("# x") of a text, or "".
std::string first_heading(std::string_view text);

// Splits text into chunks of about `size` characters (never more, except for a single word longer
// than `size`), preferring paragraph, then sentence, then word boundaries; consecutive chunks
// share about `overlap` characters of whole words. Empty text yields no chunk.
std::vector<std::string> chunk_text(std::string_view text, size_t size, size_t overlap);

// Lower-case hex SHA-256.
std::string sha256_hex(std::string_view data);

// Standard base64 of raw bytes and back (decode returns false on malformed input).
std::string base64_encode(std::string_view bytes);
bool base64_decode(std::string_view text, std::string& bytes);

}  // namespace rag
