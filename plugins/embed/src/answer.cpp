#include "answer.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_set>

namespace embed {
namespace {

const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> words = {
      "a",     "about", "an",     "and",   "are",  "as",      "at",    "be",     "by",    "can",
      "could", "did",   "do",     "does",  "for",  "from",    "has",   "have",   "how",   "i",
      "if",    "in",    "into",   "is",    "it",   "its",     "me",    "my",     "of",    "on",
      "or",    "our",   "should", "so",    "that", "the",     "their", "them",   "then",  "there",
      "these", "this",  "to",     "was",   "we",   "what",    "when",  "where",  "which", "who",
      "why",   "will",  "with",   "would", "you",  "your",    "tell",  "please", "get",   "use",
      "used",  "using", "need",   "want",  "know", "explain", "show",  "give",   "any",   "all"};
  return words;
}

// Words compare by a crude stem so "webhooks" finds "webhook" and "computed" finds "compute":
// plural, -ing and -ed endings off, then a final "e".
std::string stem(std::string w) {
  auto ends = [&](const char* suffix) {
    size_t n = std::char_traits<char>::length(suffix);
    return w.size() > n + 2 && w.compare(w.size() - n, n, suffix) == 0;
  };
  if (ends("ies")) {
    w.replace(w.size() - 3, 3, "y");
  } else if (ends("sses") || ends("xes") || ends("ches") || ends("shes")) {
    w.erase(w.size() - 2);
  } else if (ends("ing")) {
    w.erase(w.size() - 3);
  } else if (ends("ed")) {
    w.erase(w.size() - 2);
  } else if (ends("s") && !ends("ss")) {
    w.pop_back();
  }
  if (w.size() > 3 && w.back() == 'e') w.pop_back();
  return w;
}

struct Sentence {
  std::string text;
  size_t passage;
  size_t position;
  size_t hits = 0;
};

// Sentences of a passage: split at . ! ? followed by a space, and at line breaks (headings and
// list items are their own sentences); Markdown markers at a line's start are dropped.
std::vector<std::string> sentences_of(const std::string& content) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    size_t b = current.find_first_not_of(" \t#*->`");
    size_t e = current.find_last_not_of(" \t");
    if (b != std::string::npos && e != std::string::npos && e >= b) {
      std::string s = current.substr(b, e - b + 1);
      if (s.size() > 1) out.push_back(s);
    }
    current.clear();
  };
  for (size_t i = 0; i < content.size(); ++i) {
    char c = content[i];
    if (c == '\n' || c == '\r') {
      flush();
      continue;
    }
    current += c;
    if ((c == '.' || c == '!' || c == '?') &&
        (i + 1 == content.size() || content[i + 1] == ' ' || content[i + 1] == '\n')) {
      flush();
    }
  }
  flush();
  return out;
}

}  // namespace

std::vector<std::string> content_words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (word.size() > 1 && !stop_words().count(word)) out.push_back(stem(word));
    word.clear();
  };
  for (unsigned char c : text) {
    if (std::isalnum(c)) {
      word += static_cast<char>(std::tolower(c));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

ComposedAnswer compose_answer(const std::string& question, const std::vector<Passage>& passages,
                              size_t max_sentences, size_t max_chars) {
  ComposedAnswer answer;
  std::vector<std::string> q = content_words(question);
  std::set<std::string> terms(q.begin(), q.end());
  if (terms.empty()) return answer;

  std::vector<Sentence> candidates;
  for (size_t p = 0; p < passages.size(); ++p) {
    auto sentences = sentences_of(passages[p].content);
    for (size_t i = 0; i < sentences.size(); ++i) {
      auto words = content_words(sentences[i]);
      std::set<std::string> seen;
      for (const auto& w : words) {
        if (terms.count(w)) seen.insert(w);
      }
      if (!seen.empty()) candidates.push_back({sentences[i], p, i, seen.size()});
    }
  }
  // Most question words first; then the better passage; then the earlier sentence.
  std::stable_sort(candidates.begin(), candidates.end(), [](const Sentence& a, const Sentence& b) {
    if (a.hits != b.hits) return a.hits > b.hits;
    if (a.passage != b.passage) return a.passage < b.passage;
    return a.position < b.position;
  });
  std::vector<Sentence> chosen;
  size_t chars = 0;
  for (const auto& s : candidates) {
    if (chosen.size() == max_sentences) break;
    if (!chosen.empty() && chars + s.text.size() > max_chars) continue;
    chosen.push_back(s);
    chars += s.text.size();
  }
  if (chosen.empty()) return answer;
  // Reading order: passage by passage, sentence by sentence.
  std::sort(chosen.begin(), chosen.end(), [](const Sentence& a, const Sentence& b) {
    return a.passage != b.passage ? a.passage < b.passage : a.position < b.position;
  });
  for (const auto& s : chosen) {
    if (!answer.text.empty()) answer.text += ' ';
    answer.text += s.text;
    bool terminated = !s.text.empty() && (s.text.back() == '.' || s.text.back() == '!' ||
                                          s.text.back() == '?' || s.text.back() == ':');
    if (!terminated) answer.text += '.';
    if (std::find(answer.sources.begin(), answer.sources.end(), s.passage) ==
        answer.sources.end()) {
      answer.sources.push_back(s.passage);
    }
  }
  return answer;
}

}  // namespace embed
