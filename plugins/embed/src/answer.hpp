// answer.hpp — turning retrieved passages into a reply a chat widget can show: the sentences of
// the best passages that share the most words with the question, in reading order, and the
// sources they came from. No model involved, so nothing is invented: every sentence of the reply
// is in the corpus.
#pragma once

#include <string>
#include <vector>

namespace embed {

struct Passage {
  std::string id;
  std::string title;  // what the reply cites ("" → id)
  std::string content;
  double score = 0;
};

struct ComposedAnswer {
  std::string text;             // the reply; empty when no passage answers the question
  std::vector<size_t> sources;  // indexes of the passages the reply quotes, best first
};

// At most `max_sentences` sentences (and about `max_chars` characters), each sharing at least
// one content word with `question`.
ComposedAnswer compose_answer(const std::string& question, const std::vector<Passage>& passages,
                              size_t max_sentences = 3, size_t max_chars = 700);

// Lower-cased content words of `text` (letters and digits; stop words and one-letter words out).
std::vector<std::string> content_words(const std::string& text);

}  // namespace embed
