#include "text.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_set>

namespace rag {

namespace {

bool word_byte(unsigned char c) {
  return std::isalnum(c) || c >= 0x80;
}

const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> words = {
      "a",    "about", "an",   "and",  "are",   "as",     "at",    "be",    "by",    "can",
      "do",   "does",  "for",  "from", "has",   "have",   "how",   "i",     "if",    "in",
      "into", "is",    "it",   "its",  "me",    "my",     "not",   "of",    "on",    "or",
      "our",  "so",    "that", "the",  "their", "them",   "then",  "there", "these", "they",
      "this", "to",    "us",   "was",  "we",    "what",   "when",  "where", "which", "who",
      "why",  "will",  "with", "you",  "your",  "should", "would", "could", "get",   "any",
      "all",  "there", "been", "were", "than",  "also",   "only",  "each"};
  return words;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

bool starts_with_ci(std::string_view s, size_t at, std::string_view prefix) {
  if (at + prefix.size() > s.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[at + i])) != prefix[i]) return false;
  }
  return true;
}

// Collapses runs of spaces/tabs inside lines and runs of 3+ newlines to one blank line.
std::string collapse_blank(std::string_view s) {
  std::string out;
  int newlines = 0;
  bool space = false;
  for (char c : s) {
    if (c == '\r') continue;
    if (c == '\n') {
      ++newlines;
      space = false;
      continue;
    }
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (newlines > 0 && !out.empty()) {
      out.append(newlines > 1 ? "\n\n" : "\n");
    } else if (space && !out.empty()) {
      out.push_back(' ');
    }
    newlines = 0;
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<std::string> raw_words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char c : text) {
    if (word_byte(c)) {
      cur.push_back(static_cast<char>(std::tolower(c)));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::vector<std::string> keyword_tokens(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : raw_words(text)) {
    if (stop_words().count(w)) continue;
    if (w.size() > 3 && w.back() == 's' && w[w.size() - 2] != 's') w.pop_back();
    out.push_back(std::move(w));
  }
  return out;
}

FrontMatter parse_front_matter(std::string_view text) {
  FrontMatter fm;
  if (text.rfind("---\n", 0) != 0 && text.rfind("---\r\n", 0) != 0) {
    fm.body = std::string(text);
    return fm;
  }
  size_t start = text.find('\n') + 1;
  size_t end = text.find("\n---", start - 1);
  if (end == std::string_view::npos) {
    fm.body = std::string(text);
    return fm;
  }
  std::string_view block = text.substr(start, end + 1 > start ? end + 1 - start : 0);
  size_t after = text.find('\n', end + 4);
  fm.body = after == std::string_view::npos ? "" : std::string(text.substr(after + 1));
  size_t pos = 0;
  while (pos < block.size()) {
    size_t nl = block.find('\n', pos);
    std::string_view line = block.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? block.size() : nl + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key = trim(line.substr(0, colon));
    std::string value = trim(line.substr(colon + 1));
    if (key.empty() || key[0] == '#') continue;
    if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
      std::vector<std::string> items;
      std::string_view inner = std::string_view(value).substr(1, value.size() - 2);
      size_t p = 0;
      while (p <= inner.size()) {
        size_t comma = inner.find(',', p);
        std::string item =
            unquote(trim(inner.substr(p, comma == std::string_view::npos ? comma : comma - p)));
        if (!item.empty()) items.push_back(item);
        if (comma == std::string_view::npos) break;
        p = comma + 1;
      }
      fm.lists[key] = std::move(items);
    } else {
      fm.values[key] = unquote(value);
    }
  }
  return fm;
}

std::string html_to_text(std::string_view html, std::string* title) {
  std::string out;
  size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    if (c == '<') {
      for (std::string_view skip : {"script", "style"}) {
        if (starts_with_ci(html, i + 1, skip)) {
          std::string close = "</" + std::string(skip);
          size_t j = i;
          while (j < html.size() && !starts_with_ci(html, j, close)) ++j;
          i = j;
          break;
        }
      }
      if (title && starts_with_ci(html, i + 1, "title")) {
        size_t open_end = html.find('>', i);
        size_t j = open_end == std::string_view::npos ? html.size() : open_end + 1;
        size_t k = j;
        while (k < html.size() && !starts_with_ci(html, k, "</title")) ++k;
        *title = trim(html.substr(j, k - j));
      }
      size_t close = html.find('>', i);
      std::string_view tag = html.substr(i, close == std::string_view::npos ? 0 : close - i);
      bool block = starts_with_ci(tag, 1, "p") || starts_with_ci(tag, 1, "/p") ||
                   starts_with_ci(tag, 1, "br") || starts_with_ci(tag, 1, "div") ||
                   starts_with_ci(tag, 1, "/div") || starts_with_ci(tag, 1, "h") ||
                   starts_with_ci(tag, 1, "/h") || starts_with_ci(tag, 1, "li") ||
                   starts_with_ci(tag, 1, "tr");
      out.append(block ? "\n\n" : " ");
      i = close == std::string_view::npos ? html.size() : close + 1;
      continue;
    }
    if (c == '&') {
      static const std::pair<std::string_view, char> entities[] = {
          {"&amp;", '&'},  {"&lt;", '<'},   {"&gt;", '>'},   {"&quot;", '"'},
          {"&#39;", '\''}, {"&nbsp;", ' '}, {"&apos;", '\''}};
      bool done = false;
      for (const auto& [name, ch] : entities) {
        if (html.substr(i, name.size()) == name) {
          out.push_back(ch);
          i += name.size();
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    out.push_back(c);
    ++i;
  }
  if (title && title->empty()) {
    // keep empty: the caller falls back to the first heading or the address
  }
  return collapse_blank(out);
}

std::string first_heading(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    if (line.rfind("#", 0) == 0) {
      size_t b = line.find_first_not_of('#');
      if (b != std::string_view::npos) return trim(line.substr(b));
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return "";
}

namespace {

// Pieces no longer than `size`: paragraphs, else sentences, else words (a lone longer word stays).
void split_units(std::string_view text, size_t size, std::vector<std::string>& out) {
  std::string t = trim(text);
  if (t.empty()) return;
  if (t.size() <= size) {
    out.push_back(std::move(t));
    return;
  }
  for (std::string_view sep : {"\n\n", "\n", ". ", " "}) {
    if (t.find(sep) == std::string::npos) continue;
    size_t p = 0;
    while (p < t.size()) {
      size_t at = t.find(sep, p);
      size_t end = at == std::string::npos ? t.size() : at + (sep == ". " ? 1 : 0);
      std::string_view piece = std::string_view(t).substr(p, end - p);
      if (sep == " ") {
        std::string w = trim(piece);
        if (!w.empty()) out.push_back(std::move(w));
      } else {
        split_units(piece, size, out);
      }
      if (at == std::string::npos) break;
      p = at + sep.size();
    }
    return;
  }
  out.push_back(std::move(t));
}

// The trailing whole words of `s` totalling at most `n` characters.
std::string tail_words(const std::string& s, size_t n) {
  if (n == 0 || s.empty()) return "";
  if (s.size() <= n) return s;
  size_t from = s.size() - n;
  size_t space = s.find(' ', from);
  if (space == std::string::npos) return "";
  return s.substr(space + 1);
}

}  // namespace

std::vector<std::string> chunk_text(std::string_view text, size_t size, size_t overlap) {
  if (size == 0) size = 1;
  if (overlap >= size) overlap = size / 2;
  std::vector<std::string> units;
  split_units(text, size, units);
  std::vector<std::string> chunks;
  std::string cur;
  bool cur_has_new = false;
  for (auto& u : units) {
    std::string joined = cur.empty() ? u : cur + (u.size() > 40 ? "\n\n" : " ") + u;
    if (joined.size() <= size || cur.empty()) {
      cur = std::move(joined);
      cur_has_new = true;
      continue;
    }
    chunks.push_back(cur);
    std::string carry = tail_words(cur, overlap);
    cur = carry.empty() || carry.size() + 1 + u.size() > size ? u : carry + " " + u;
    cur_has_new = true;
  }
  if (cur_has_new && !cur.empty()) chunks.push_back(cur);
  return chunks;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(sizeof digest * 2);
  for (unsigned char b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

bool base64_decode(std::string_view text, std::string& bytes) {
  bytes.assign(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  bytes.resize(len);
  return true;
}

}  // namespace rag
