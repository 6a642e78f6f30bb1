#include "offline_translator.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "sql_text.hpp"

namespace datachat {

namespace {

// ---- dates -----------------------------------------------------------------------------------

struct Day {
  int y = 1970, m = 1, d = 1;
};

// Days since 1970-01-01 (proleptic Gregorian), after H. Hinnant's days_from_civil.
int64_t to_days(Day v) {
  int y = v.y - (v.m <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (v.m + (v.m > 2 ? -3 : 9)) + 2) / 5 + v.d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Day from_days(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  Day r;
  r.d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  r.m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  r.y = static_cast<int>(yoe + era * 400 + (r.m <= 2));
  return r;
}

std::string format_day(int64_t days) {
  Day v = from_days(days);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", v.y, v.m, v.d);
  return buf;
}

std::optional<int64_t> parse_day(const std::string& s) {
  static const std::regex kDate("(\\d{4})-(\\d{2})-(\\d{2})");
  std::smatch m;
  if (!std::regex_match(s, m, kDate)) return std::nullopt;
  Day v{std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3])};
  if (v.m < 1 || v.m > 12 || v.d < 1 || v.d > 31) return std::nullopt;
  return to_days(v);
}

int64_t month_start(int y, int m) {
  return to_days({y, m, 1});
}
int64_t next_month_start(int y, int m) {
  return m == 12 ? month_start(y + 1, 1) : month_start(y, m + 1);
}

struct DateRange {
  std::optional<int64_t> from;  // inclusive
  std::optional<int64_t> to;    // exclusive
  std::string words;            // how the question said it, for the answer
};

// ---- the question's words --------------------------------------------------------------------

// Words that carry no meaning of their own in a question about data. A word neither here nor
// matched to the schema makes the translator refuse.
const std::set<std::string> kStopWords = {
    "a",      "an",         "the",    "of",        "in",      "on",         "for",   "to",
    "is",     "are",        "was",    "were",      "be",      "been",       "being", "do",
    "does",   "did",        "have",   "has",       "had",     "there",      "what",  "whats",
    "what's", "which",      "who",    "whose",     "where",   "how",        "me",    "show",
    "list",   "give",       "tell",   "find",      "get",     "all",        "our",   "we",
    "i",      "you",        "my",     "with",      "from",    "at",         "and",   "then",
    "that",   "those",      "these",  "this",      "it",      "its",        "their", "they",
    "them",   "any",        "please", "place",     "placed",  "made",       "make",  "received",
    "got",    "exist",      "exists", "currently", "overall", "altogether", "so",    "far",
    "value",  "values",     "data",   "records",   "rows",    "entries",    "up",    "signed",
    "joined", "registered", "new",    "ordered",   "bought",  "purchased",  "buy",   "created",
    "as",     "than",       "per",    "each",      "by",      "single",     "one",   "ones",
    "much",   "many",       "number", "count",     "only",    "also",       "now",   "about",
    "same",   "period",     "time",   "during",    "within"};

const std::set<std::string> kWriteVerbs = {"delete",   "drop",  "update", "insert", "remove",
                                           "truncate", "alter", "create", "modify", "change",
                                           "rename",   "add",   "set",    "grant",  "erase"};
const std::set<std::string> kSpeculation = {"why",      "predict",   "forecast", "will",
                                            "should",   "recommend", "expect",   "future",
                                            "tomorrow", "next",      "guess",    "opinion"};

const std::map<std::string, int> kMonths = {
    {"january", 1},   {"february", 2},  {"march", 3},  {"april", 4},     {"may", 5},
    {"june", 6},      {"july", 7},      {"august", 8}, {"september", 9}, {"october", 10},
    {"november", 11}, {"december", 12}, {"jan", 1},    {"feb", 2},       {"mar", 3},
    {"apr", 4},       {"jun", 6},       {"jul", 7},    {"aug", 8},       {"sep", 9},
    {"sept", 9},      {"oct", 10},      {"nov", 11},   {"dec", 12}};

std::vector<std::string> tokenize(const std::string& question) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    while (!cur.empty() && (cur.back() == '-' || cur.back() == '.')) cur.pop_back();
    if (cur.size() > 2 && cur.compare(cur.size() - 2, 2, "'s") == 0) cur.resize(cur.size() - 2);
    if (!cur.empty() && cur != "'") out.push_back(cur);
    cur.clear();
  };
  for (size_t i = 0; i < question.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(question[i]);
    bool keep =
        std::isalnum(c) || c == '-' || c == '_' || c == '\'' || c >= 0x80 ||
        (c == '.' && !cur.empty() && std::isdigit(static_cast<unsigned char>(cur.back())) &&
         i + 1 < question.size() && std::isdigit(static_cast<unsigned char>(question[i + 1])));
    if (c == '$' || c == 0xE2 || c == 0x82 || c == 0xAC) continue;  // $ and € before a number
    if (keep) {
      cur += static_cast<char>(std::tolower(c));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

bool is_number(const std::string& w) {
  static const std::regex kNumber("\\d+(\\.\\d+)?");
  return std::regex_match(w, kNumber);
}

std::optional<int> small_number(const std::string& w) {
  static const std::map<std::string, int> kWords = {
      {"one", 1}, {"two", 2},   {"three", 3}, {"four", 4}, {"five", 5},
      {"six", 6}, {"seven", 7}, {"eight", 8}, {"nine", 9}, {"ten", 10}};
  if (is_number(w) && w.find('.') == std::string::npos && w.size() < 6) return std::stoi(w);
  auto it = kWords.find(w);
  if (it != kWords.end()) return it->second;
  return std::nullopt;
}

std::string singular(const std::string& w) {
  if (w.size() > 3 && w.compare(w.size() - 3, 3, "ies") == 0)
    return w.substr(0, w.size() - 3) + "y";
  if (w.size() > 3 && w.compare(w.size() - 2, 2, "es") == 0 &&
      (w[w.size() - 3] == 's' || w[w.size() - 3] == 'x' || w[w.size() - 3] == 'h')) {
    return w.substr(0, w.size() - 2);
  }
  if (w.size() > 2 && w.back() == 's' && w[w.size() - 2] != 's') return w.substr(0, w.size() - 1);
  return w;
}

std::string plural(const std::string& w) {
  if (w.size() > 2 && w.back() == 'y' && !std::strchr("aeiou", w[w.size() - 2])) {
    return w.substr(0, w.size() - 1) + "ies";
  }
  if (!w.empty() && (w.back() == 's' || w.back() == 'x' || w.back() == 'h')) return w + "es";
  return w + "s";
}

// ---- what a phrase can mean ------------------------------------------------------------------

enum class Agg { kNone, kCount, kSum, kAvg, kMax, kMin };

struct ColumnRef {
  std::string table, column;
  bool operator==(const ColumnRef& o) const { return table == o.table && column == o.column; }
};

// A numeric quantity to aggregate or rank by: a column, or quantity × price.
struct Measure {
  std::string table;
  std::string expr_column;  // the column, or empty for the product below
  std::string quantity, price;
  std::string label;
};

enum class Kind { kMoney, kPrice, kQuantity };

struct Filter {
  ColumnRef col;
  std::string op;  // "=", ">", ">=", "<", "<="
  std::string value;
  bool numeric = false;
};

struct Intent {
  Agg agg = Agg::kNone;
  bool agg_explicit = false;
  std::vector<std::string> tables;  // mentioned tables, in order
  std::string subject;              // what is counted or listed
  std::optional<Measure> measure;
  std::optional<Kind> measure_kind;
  std::optional<ColumnRef> measure_column;  // a numeric column named in the question
  std::vector<ColumnRef> group_columns;
  std::vector<std::string> group_tables;
  std::vector<Filter> filters;
  std::optional<DateRange> dates;
  int limit = 0;
  bool ascending = false;
  bool rank = false;
  bool follow_up = false;
  std::vector<std::string> unknown;
  // Tables named only to qualify a value ("business customers", "Toys products"): they do not
  // own the question's dates when another table is named.
  std::set<std::string> qualifiers;
};

struct Lexicon {
  const Schema* schema = nullptr;
  std::map<std::string, std::string> tables;  // phrase -> table
  std::map<std::string, std::vector<ColumnRef>> columns;
  std::map<std::string, std::vector<Filter>> values;  // phrase -> equality filters
  size_t max_words = 1;
};

size_t word_count(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), ' ')) + 1;
}

std::string spaced(const std::string& identifier) {
  std::string s = lower_ascii(identifier);
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

Lexicon build_lexicon(const Schema& schema) {
  Lexicon lx;
  lx.schema = &schema;
  auto add_phrase = [&](const std::string& p) {
    lx.max_words = std::max(lx.max_words, word_count(p));
  };
  for (const auto& t : schema.tables) {
    std::string p = spaced(t.name);
    for (const auto& v : {p, singular(p)}) {
      lx.tables.emplace(v, t.name);
      add_phrase(v);
    }
    auto last = p.rfind(' ');
    if (last != std::string::npos) {  // "order items" is also "items"
      std::string tail = p.substr(last + 1);
      lx.tables.emplace(tail, t.name);
      lx.tables.emplace(singular(tail), t.name);
    }
    for (const auto& c : t.columns) {
      std::string cp = spaced(c.name);
      for (const auto& v : {cp, plural(cp), singular(cp)}) {
        lx.columns[v].push_back({t.name, c.name});
        add_phrase(v);
      }
      if (!c.all_values) continue;
      for (const auto& value : c.values) {
        std::string vp;
        for (const auto& w : tokenize(value)) vp += (vp.empty() ? "" : " ") + w;
        if (vp.empty()) continue;
        for (const auto& v : {vp, vp + "s"}) {
          lx.values[v].push_back({{t.name, c.name}, "=", value, false});
          add_phrase(v);
        }
      }
    }
  }
  return lx;
}

// ---- the schema as a graph -------------------------------------------------------------------

struct Edge {
  std::string from_table, from_column, to_table, to_column;
  bool many_to_one;  // following it from `from_table` cannot multiply rows
};

std::vector<Edge> edges_of(const Schema& s, const std::string& table) {
  std::vector<Edge> out;
  for (const auto& t : s.tables) {
    for (const auto& fk : t.foreign_keys) {
      if (t.name == table) out.push_back({t.name, fk.column, fk.table, fk.to, true});
      if (fk.table == table) out.push_back({fk.table, fk.to, t.name, fk.column, false});
    }
  }
  return out;
}

// Shortest join path from `from` to `to` (breadth first, many-to-one edges tried first).
std::optional<std::vector<Edge>> join_path(const Schema& s, const std::string& from,
                                           const std::string& to) {
  if (from == to) return std::vector<Edge>{};
  std::map<std::string, std::vector<Edge>> paths = {{from, {}}};
  std::deque<std::string> queue = {from};
  while (!queue.empty()) {
    std::string at = queue.front();
    queue.pop_front();
    auto edges = edges_of(s, at);
    std::stable_sort(edges.begin(), edges.end(),
                     [](const Edge& a, const Edge& b) { return a.many_to_one > b.many_to_one; });
    for (const auto& e : edges) {
      if (paths.count(e.to_table)) continue;
      auto p = paths[at];
      p.push_back(e);
      if (e.to_table == to) return p;
      paths[e.to_table] = p;
      queue.push_back(e.to_table);
    }
  }
  return std::nullopt;
}

std::string primary_key(const Table& t) {
  for (const auto& c : t.columns) {
    if (c.primary_key) return c.name;
  }
  return t.columns.empty() ? "id" : t.columns.front().name;
}

// The column that names a row: name/title/label, else the primary key.
std::string label_column(const Table& t) {
  for (const char* n : {"name", "title", "label", "full_name", "username", "email"}) {
    if (t.column(n)) return n;
  }
  for (const auto& c : t.columns) {
    if (c.name.find("name") != std::string::npos) return c.name;
  }
  return primary_key(t);
}

std::optional<std::string> date_column(const Table& t) {
  for (const auto& c : t.columns) {
    if (c.temporal()) return c.name;
  }
  for (const auto& c : t.columns) {
    std::string n = lower_ascii(c.name);
    if (n.find("date") != std::string::npos || n == "created_at") return c.name;
  }
  return std::nullopt;
}

bool name_has(const std::string& column, std::initializer_list<const char*> parts) {
  std::string n = lower_ascii(column);
  for (const char* p : parts) {
    if (n.find(p) != std::string::npos) return true;
  }
  return false;
}

// Candidate measures of a kind, best first.
std::vector<Measure> measures_of(const Schema& s, Kind kind) {
  std::vector<Measure> direct, computed;
  for (const auto& t : s.tables) {
    std::string quantity, price;
    for (const auto& c : t.columns) {
      if (!c.numeric() || c.primary_key) continue;
      bool is_price = name_has(c.name, {"price", "cost"});
      bool is_quantity = name_has(c.name, {"quantity", "qty", "units"});
      bool is_money = name_has(c.name, {"amount", "revenue", "total", "sales"});
      if (is_price && price.empty()) price = c.name;
      if (is_quantity && quantity.empty()) quantity = c.name;
      if ((kind == Kind::kMoney && is_money) || (kind == Kind::kPrice && is_price) ||
          (kind == Kind::kQuantity && is_quantity)) {
        direct.push_back({t.name, c.name, {}, {}, c.name});
      }
    }
    if (kind == Kind::kMoney && !quantity.empty() && !price.empty()) {
      computed.push_back({t.name, {}, quantity, price, "revenue"});
    }
  }
  direct.insert(direct.end(), computed.begin(), computed.end());
  return direct;
}

// ---- parsing ---------------------------------------------------------------------------------

class Parser {
 public:
  Parser(const Lexicon& lx, std::vector<std::string> words, int64_t today)
      : lx_(lx), w_(std::move(words)), used_(w_.size(), false), today_(today) {}

  Intent parse();

 private:
  bool at(size_t i, const char* word) const { return i < w_.size() && w_[i] == word; }
  bool free(size_t i) const { return i < w_.size() && !used_[i]; }
  void use(size_t i, size_t n = 1) {
    for (size_t k = i; k < i + n && k < used_.size(); ++k) used_[k] = true;
  }
  std::string phrase(size_t i, size_t n) const {
    std::string p;
    for (size_t k = i; k < i + n; ++k) p += (k > i ? " " : "") + w_[k];
    return p;
  }
  void dates();
  void ranking();
  void aggregates();
  void thresholds();
  void grouping();
  void names();
  void measures();

  const Lexicon& lx_;
  std::vector<std::string> w_;
  std::vector<bool> used_;
  int64_t today_;
  Intent in_;
  std::vector<std::pair<size_t, ColumnRef>> column_mentions_;  // word index, column
  std::vector<std::pair<size_t, std::string>> table_mentions_;
  std::map<size_t, std::string> value_ends_;  // word index after a value -> its table
};

void Parser::dates() {
  Day t = from_days(today_);
  auto set = [&](std::optional<int64_t> from, std::optional<int64_t> to, size_t i, size_t n) {
    DateRange r{from, to, phrase(i, n)};
    in_.dates = r;
    use(i, n);
  };
  for (size_t i = 0; i < w_.size(); ++i) {
    const std::string& a = w_[i];
    std::string b = i + 1 < w_.size() ? w_[i + 1] : "";
    std::string c = i + 2 < w_.size() ? w_[i + 2] : "";
    if (a == "today") {
      set(today_, today_ + 1, i, 1);
    } else if (a == "yesterday") {
      set(today_ - 1, today_, i, 1);
    } else if ((a == "this" || a == "current") && (b == "week" || b == "month" || b == "year")) {
      int64_t monday = today_ - ((today_ + 3) % 7 + 7) % 7;  // 1970-01-01 was a Thursday
      int64_t from = b == "week"    ? monday
                     : b == "month" ? month_start(t.y, t.m)
                                    : to_days({t.y, 1, 1});
      set(from, today_ + 1, i, 2);
    } else if ((a == "last" || a == "previous" || a == "past") &&
               (b == "week" || b == "month" || b == "year")) {
      int64_t monday = today_ - ((today_ + 3) % 7 + 7) % 7;
      if (b == "week") set(monday - 7, monday, i, 2);
      if (b == "month") {
        int y = t.m == 1 ? t.y - 1 : t.y, m = t.m == 1 ? 12 : t.m - 1;
        set(month_start(y, m), month_start(t.y, t.m), i, 2);
      }
      if (b == "year") set(to_days({t.y - 1, 1, 1}), to_days({t.y, 1, 1}), i, 2);
    } else if ((a == "last" || a == "past" || a == "previous") && small_number(b) &&
               (c == "days" || c == "day" || c == "weeks" || c == "week" || c == "months" ||
                c == "month")) {
      int n = *small_number(b);
      int64_t from = today_;
      if (c.rfind("day", 0) == 0) from = today_ - n + 1;
      if (c.rfind("week", 0) == 0) from = today_ - 7 * n + 1;
      if (c.rfind("month", 0) == 0) {
        int months = t.y * 12 + (t.m - 1) - n;
        Day d{months / 12, months % 12 + 1, std::min(t.d, 28)};
        from = to_days(d);
      }
      set(from, today_ + 1, i, 3);
    } else if ((a == "since" || a == "after" || a == "from") && parse_day(b)) {
      int64_t d = *parse_day(b);
      set(a == "after" ? d + 1 : d, std::nullopt, i, 2);
    } else if ((a == "before" || a == "until") && parse_day(b)) {
      int64_t d = *parse_day(b);
      set(std::nullopt, a == "until" ? d + 1 : d, i, 2);
    } else if (a == "between" && parse_day(b) && (c == "and" || c == "to") && i + 3 < w_.size() &&
               parse_day(w_[i + 3])) {
      set(*parse_day(b), *parse_day(w_[i + 3]) + 1, i, 4);
    } else if (a == "on" && parse_day(b)) {
      set(*parse_day(b), *parse_day(b) + 1, i, 2);
    } else if ((a == "in" || a == "during") && kMonths.count(b)) {
      int m = kMonths.at(b);
      bool has_year = c.size() == 4 && is_number(c);
      int y = has_year ? std::stoi(c) : (m <= t.m ? t.y : t.y - 1);
      set(month_start(y, m), next_month_start(y, m), i, has_year ? 3 : 2);
    } else if ((a == "in" || a == "during") && b.size() == 4 && is_number(b) && b[0] == '2') {
      int y = std::stoi(b);
      set(to_days({y, 1, 1}), to_days({y + 1, 1, 1}), i, 2);
    }
  }
}

void Parser::ranking() {
  for (size_t i = 0; i < w_.size(); ++i) {
    if (!free(i)) continue;
    const std::string& a = w_[i];
    if ((a == "top" || a == "bottom")) {
      in_.rank = true;
      in_.ascending = a == "bottom";
      auto n = i + 1 < w_.size() ? small_number(w_[i + 1]) : std::nullopt;
      in_.limit = n ? *n : (in_.limit ? in_.limit : 1);
      use(i, n ? 2 : 1);
    } else if (small_number(a) && i + 1 < w_.size() &&
               (w_[i + 1] == "most" || w_[i + 1] == "least" || w_[i + 1] == "largest" ||
                w_[i + 1] == "biggest" || w_[i + 1] == "highest" || w_[i + 1] == "lowest" ||
                w_[i + 1] == "cheapest" || w_[i + 1] == "smallest" ||
                w_[i + 1] == "best-selling")) {
      in_.limit = *small_number(a);
      use(i);
    }
  }
  for (size_t i = 0; i < w_.size(); ++i) {
    if (!free(i)) continue;
    const std::string& a = w_[i];
    std::string b = i + 1 < w_.size() ? w_[i + 1] : "";
    bool up = a == "most" || a == "highest" || a == "largest" || a == "biggest" || a == "best";
    bool down =
        a == "least" || a == "lowest" || a == "smallest" || a == "fewest" || a == "cheapest";
    if (a == "best-selling" ||
        (a == "best" && (b == "selling" || b == "sellers" || b == "seller"))) {
      in_.rank = true;
      in_.measure_kind = Kind::kQuantity;
      use(i, a == "best" ? 2 : 1);
    } else if ((a == "most" || a == "least") && b == "expensive") {
      in_.rank = true;
      in_.ascending = a == "least";
      in_.measure_kind = Kind::kPrice;
      use(i, 2);
    } else if (a == "cheapest") {
      in_.rank = true;
      in_.ascending = true;
      in_.measure_kind = Kind::kPrice;
      use(i);
    } else if (up || down) {
      in_.rank = true;
      in_.ascending = down;
      use(i);
    } else {
      continue;
    }
    if (!in_.limit) in_.limit = 1;
  }
}

void Parser::aggregates() {
  for (size_t i = 0; i < w_.size(); ++i) {
    if (!free(i)) continue;
    const std::string& a = w_[i];
    std::string b = i + 1 < w_.size() ? w_[i + 1] : "";
    auto set = [&](Agg g, size_t n) {
      in_.agg = g;
      in_.agg_explicit = true;
      use(i, n);
    };
    if (a == "how" && (b == "many" || b == "much")) {
      // "how much" asks for a sum of money; "how many" for a count.
      if (b == "much") {
        set(Agg::kSum, 2);
        if (!in_.measure_kind) in_.measure_kind = Kind::kMoney;
      } else {
        set(Agg::kCount, 2);
      }
    } else if ((a == "number" && b == "of") || a == "count") {
      set(Agg::kCount, a == "count" ? 1 : 2);
    } else if (a == "total" || a == "sum" || a == "overall") {
      set(Agg::kSum, 1);
    } else if (a == "average" || a == "avg" || a == "mean") {
      set(Agg::kAvg, 1);
    } else if (a == "maximum" || a == "max") {
      set(Agg::kMax, 1);
    } else if (a == "minimum" || a == "min") {
      set(Agg::kMin, 1);
    }
  }
}

void Parser::thresholds() {
  static const std::map<std::string, std::string> kOne = {
      {"over", ">"}, {"above", ">"}, {"exceeding", ">"}, {"under", "<"}, {"below", "<"}};
  static const std::map<std::string, std::string> kTwo = {
      {"more than", ">"}, {"greater than", ">"}, {"higher than", ">"},  {"larger than", ">"},
      {"less than", "<"}, {"lower than", "<"},   {"fewer than", "<"},   {"cheaper than", "<"},
      {"at least", ">="}, {"at most", "<="},     {"no more than", "<="}};
  for (size_t i = 0; i < w_.size(); ++i) {
    if (!free(i)) continue;
    std::string op;
    size_t n = 0;
    if (kOne.count(w_[i])) {
      op = kOne.at(w_[i]);
      n = 1;
    } else if (i + 1 < w_.size() && kTwo.count(phrase(i, 2))) {
      op = kTwo.at(phrase(i, 2));
      n = 2;
    }
    if (!n || i + n >= w_.size() || !is_number(w_[i + n])) continue;
    Filter f;
    f.op = op;
    f.value = w_[i + n];
    f.numeric = true;
    // The column is the numeric one named just before ("amount over 500"), else decided later.
    for (const auto& [at, col] : column_mentions_) {
      if (at + 2 >= i && at < i) f.col = col;
    }
    in_.filters.push_back(f);
    use(i, n + 1);
  }
}

void Parser::names() {
  // Longest phrases first: values ("Laptop Pro 14"), then columns and tables.
  for (size_t n = lx_.max_words; n >= 1; --n) {
    for (size_t i = 0; i + n <= w_.size(); ++i) {
      bool all_free = true;
      for (size_t k = i; k < i + n; ++k) all_free = all_free && free(k);
      if (!all_free) continue;
      std::string p = phrase(i, n);
      auto v = lx_.values.find(p);
      if (v != lx_.values.end()) {
        in_.filters.push_back(v->second.front());
        value_ends_.emplace(i + n, v->second.front().col.table);
        use(i, n);
        continue;
      }
      auto c = lx_.columns.find(p);
      if (c != lx_.columns.end() && !lx_.tables.count(p)) {
        column_mentions_.emplace_back(i, c->second.front());
        // Prefer the column of a table the question names.
        for (const auto& ref : c->second) {
          for (const auto& [at, t] : table_mentions_) {
            (void)at;
            if (ref.table == t) column_mentions_.back().second = ref;
          }
        }
        use(i, n);
        continue;
      }
      auto t = lx_.tables.find(p);
      if (t != lx_.tables.end()) {
        table_mentions_.emplace_back(i, t->second);
        use(i, n);
      }
    }
  }
  std::sort(table_mentions_.begin(), table_mentions_.end());
  std::sort(column_mentions_.begin(), column_mentions_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& tm : table_mentions_) {
    in_.tables.push_back(tm.second);
    auto v = value_ends_.find(tm.first);
    if (v != value_ends_.end() && v->second == tm.second) in_.qualifiers.insert(tm.second);
  }
}

void Parser::measures() {
  static const std::map<std::string, Kind> kWords = {
      {"revenue", Kind::kMoney},   {"sales", Kind::kMoney},      {"turnover", Kind::kMoney},
      {"income", Kind::kMoney},    {"spent", Kind::kMoney},      {"spend", Kind::kMoney},
      {"spending", Kind::kMoney},  {"money", Kind::kMoney},      {"worth", Kind::kMoney},
      {"expensive", Kind::kPrice}, {"price", Kind::kPrice},      {"prices", Kind::kPrice},
      {"cost", Kind::kPrice},      {"costs", Kind::kPrice},      {"sold", Kind::kQuantity},
      {"units", Kind::kQuantity},  {"quantity", Kind::kQuantity}};
  for (size_t i = 0; i < w_.size(); ++i) {
    if (!free(i) || !kWords.count(w_[i])) continue;
    if (!in_.measure_kind) in_.measure_kind = kWords.at(w_[i]);
    use(i);
  }
}

void Parser::grouping() {
  for (size_t i = 0; i + 1 < w_.size(); ++i) {
    bool marker = (w_[i] == "by" || w_[i] == "per" || w_[i] == "each" ||
                   (w_[i] == "for" && at(i + 1, "each")) || (w_[i] == "in" && at(i + 1, "each")));
    if (!marker) continue;
    size_t j = w_[i + 1] == "each" ? i + 2 : i + 1;
    for (const auto& [at, col] : column_mentions_) {
      if (at == j) {
        const Table* t = lx_.schema->table(col.table);
        const Column* c = t ? t->column(col.column) : nullptr;
        if (c && c->numeric() && !c->primary_key && in_.rank) continue;  // "top 5 by amount"
        if (std::find(in_.group_columns.begin(), in_.group_columns.end(), col) !=
            in_.group_columns.end()) {
          continue;  // "in each country": "in each" and "each" name the same group
        }
        in_.group_columns.push_back(col);
        use(i, j - i);
      }
    }
    for (const auto& [at, table] : table_mentions_) {
      // "per product category": a table named before one of its columns groups by the column.
      auto own_column = std::find_if(
          column_mentions_.begin(), column_mentions_.end(),
          // (a structured binding is named through an init-capture: C++17 clang cannot capture it)
          [&, &wanted = table](const auto& cm) {
            return cm.first == j + 1 && cm.second.table == wanted;
          });
      if (at == j && own_column != column_mentions_.end()) {
        if (std::find(in_.group_columns.begin(), in_.group_columns.end(), own_column->second) ==
            in_.group_columns.end()) {
          in_.group_columns.push_back(own_column->second);
        }
        use(i, j - i);
      } else if (at == j && std::find(in_.group_tables.begin(), in_.group_tables.end(), table) ==
                                in_.group_tables.end()) {
        in_.group_tables.push_back(table);
        use(i, j - i);
      }
    }
  }
  // "which city has the most customers", "top 3 cities by revenue": the column after "which"
  // or "top N" is a group.
  for (size_t i = 0; i + 1 < w_.size(); ++i) {
    if (w_[i] != "which" && w_[i] != "what" && w_[i] != "top" && !small_number(w_[i])) continue;
    for (const auto& [at, col] : column_mentions_) {
      const Table* t = lx_.schema->table(col.table);
      const Column* c = t ? t->column(col.column) : nullptr;
      // "which product category": the column may follow its own table's name.
      bool after_table =
          at == i + 2 && std::any_of(table_mentions_.begin(), table_mentions_.end(),
                                     [&, &wanted = col](const auto& tm) {
                                       return tm.first == i + 1 && tm.second == wanted.table;
                                     });
      bool already = std::find(in_.group_columns.begin(), in_.group_columns.end(), col) !=
                     in_.group_columns.end();
      if ((at == i + 1 || after_table) && c && !c->numeric() && in_.rank && !already) {
        in_.group_columns.push_back(col);
      }
    }
  }
}

Intent Parser::parse() {
  // "and this month?", "only for business customers", "what about in Madrid?"
  static const std::set<std::string> kContinuations = {"and", "only", "now", "also"};
  bool about = w_.size() > 1 && w_[1] == "about" && (w_[0] == "what" || w_[0] == "how");
  if (!w_.empty() && (kContinuations.count(w_[0]) || about)) in_.follow_up = true;
  dates();
  aggregates();
  ranking();
  names();
  thresholds();
  grouping();
  measures();
  for (const auto& [at, col] : column_mentions_) {
    const Table* t = lx_.schema->table(col.table);
    const Column* c = t ? t->column(col.column) : nullptr;
    bool grouped = std::find(in_.group_columns.begin(), in_.group_columns.end(), col) !=
                   in_.group_columns.end();
    if (c && c->numeric() && !c->primary_key && !grouped) {
      bool in_filter = false;
      for (const auto& f : in_.filters) in_filter = in_filter || (f.numeric && f.col == col);
      if (!in_filter) in_.measure_column = col;
    }
    (void)at;
  }
  for (size_t i = 0; i < w_.size(); ++i) {
    if (used_[i] || kStopWords.count(w_[i])) continue;
    in_.unknown.push_back(w_[i]);
  }
  return std::move(in_);
}

// ---- from intent to SQL ----------------------------------------------------------------------

struct Plan {
  std::string base;
  std::vector<Edge> joins;  // in order, each joining a new table
  bool fan_out = false;     // some join follows a one-to-many edge
};

// Joins every table in `needed` to `base`; nullopt when one cannot be reached.
std::optional<Plan> plan_joins(const Schema& s, const std::string& base,
                               const std::vector<std::string>& needed) {
  Plan p;
  p.base = base;
  std::set<std::string> have = {base};
  for (const auto& t : needed) {
    if (have.count(t)) continue;
    // Reach t from the nearest table already joined.
    std::optional<std::vector<Edge>> best;
    for (const auto& h : have) {
      auto path = join_path(s, h, t);
      if (path && (!best || path->size() < best->size())) best = path;
    }
    if (!best) return std::nullopt;
    for (const auto& e : *best) {
      if (have.count(e.to_table)) continue;
      p.joins.push_back(e);
      p.fan_out = p.fan_out || !e.many_to_one;
      have.insert(e.to_table);
    }
  }
  return p;
}

// The closest table with a date that `from` reaches without multiplying rows; "" if none.
std::string nearest_dated_table(const Schema& s, const std::string& from) {
  std::string best;
  size_t best_length = 0;
  for (const auto& t : s.tables) {
    if (!date_column(t) || t.name == from) continue;
    auto p = join_path(s, from, t.name);
    if (!p || !std::all_of(p->begin(), p->end(), [](const Edge& e) { return e.many_to_one; })) {
      continue;
    }
    if (best.empty() || p->size() < best_length) {
      best = t.name;
      best_length = p->size();
    }
  }
  return best;
}

std::string qcol(const std::string& table, const std::string& column) {
  return quote_identifier(table) + "." + quote_identifier(column);
}

std::string measure_expr(const Measure& m) {
  if (!m.expr_column.empty()) return qcol(m.table, m.expr_column);
  return qcol(m.table, m.quantity) + " * " + qcol(m.table, m.price);
}

const char* agg_sql(Agg a) {
  switch (a) {
    case Agg::kSum: return "SUM";
    case Agg::kAvg: return "AVG";
    case Agg::kMax: return "MAX";
    case Agg::kMin: return "MIN";
    default: return "COUNT";
  }
}

const char* agg_alias(Agg a) {
  switch (a) {
    case Agg::kSum: return "total";
    case Agg::kAvg: return "average";
    case Agg::kMax: return "maximum";
    case Agg::kMin: return "minimum";
    default: return "count";
  }
}

struct Refusal {
  std::string reason;
};

// Merges a follow-up into the intent of the turn before: what the follow-up says replaces what
// the earlier turn said about the same thing.
Intent merge(Intent prev, const Intent& next) {
  if (next.dates) prev.dates = next.dates;
  for (const auto& f : next.filters) {
    prev.filters.erase(
        std::remove_if(prev.filters.begin(), prev.filters.end(),
                       [&](const Filter& p) { return p.col == f.col && !f.col.table.empty(); }),
        prev.filters.end());
    prev.filters.push_back(f);
  }
  if (!next.group_columns.empty() || !next.group_tables.empty()) {
    prev.group_columns = next.group_columns;
    prev.group_tables = next.group_tables;
  }
  if (next.agg_explicit) {
    prev.agg = next.agg;
    prev.agg_explicit = true;
  }
  if (next.measure_kind) prev.measure_kind = next.measure_kind;
  if (next.measure_column) prev.measure_column = next.measure_column;
  if (next.rank) {
    prev.rank = true;
    prev.limit = next.limit;
    prev.ascending = next.ascending;
  }
  for (const auto& t : next.tables) prev.tables.push_back(t);
  prev.unknown = next.unknown;
  return prev;
}

std::string build_sql(const Schema& s, Intent in) {
  if (!in.unknown.empty()) {
    std::string words;
    for (const auto& w : in.unknown) words += (words.empty() ? "\"" : ", \"") + w + "\"";
    throw Refusal{"I don't know what " + words +
                  " refers to in this database, so I can't answer that reliably."};
  }
  // The subject: the first table named that is not a group; else the table of the first value
  // or column named.
  for (const auto& t : in.tables) {
    bool is_group =
        std::find(in.group_tables.begin(), in.group_tables.end(), t) != in.group_tables.end();
    if (!is_group) {
      in.subject = t;
      break;
    }
  }
  if (in.rank && in.subject.empty() && !in.group_tables.empty()) {
    in.subject = in.group_tables.front();
    in.group_tables.clear();
  }
  // "top 5 customers by revenue": rank customers (a group) by a measure of another table.
  if (in.rank && !in.subject.empty() && in.group_tables.empty() && in.group_columns.empty() &&
      (in.measure_kind || in.measure_column || in.tables.size() > 1)) {
    std::string first = in.subject;
    std::string other;
    for (const auto& t : in.tables) {
      if (t != first && other.empty()) other = t;
    }
    bool measure_elsewhere = false;
    if (in.measure_column) measure_elsewhere = in.measure_column->table != first;
    if (in.measure_kind) {
      auto ms = measures_of(s, *in.measure_kind);
      measure_elsewhere = !ms.empty() && std::none_of(ms.begin(), ms.end(), [&](const Measure& m) {
        return m.table == first && (*in.measure_kind != Kind::kMoney || !m.expr_column.empty());
      });
    }
    if (measure_elsewhere || !other.empty()) {
      in.group_tables.push_back(first);
      in.subject = other;
      if (!in.measure_kind && !in.measure_column) in.agg = Agg::kCount;
    }
  }
  if (in.subject.empty()) {
    if (in.measure_column)
      in.subject = in.measure_column->table;
    else if (!in.group_columns.empty())
      in.subject = in.group_columns.front().table;
    else if (!in.filters.empty() && !in.filters.front().col.table.empty())
      in.subject = in.filters.front().col.table;
  }
  if (in.subject.empty() && in.measure_kind) {
    auto ms = measures_of(s, *in.measure_kind);
    if (!ms.empty()) in.subject = ms.front().table;
  }
  if (in.subject.empty()) {
    throw Refusal{"I couldn't tell which table the question is about. Mention one of: " + [&] {
      std::string names;
      for (const auto& t : s.tables) names += (names.empty() ? "" : ", ") + t.name;
      return names;
    }() + "."};
  }
  const Table* subject = s.table(in.subject);
  // "the largest order": a superlative about rows of a table with an amount ranks by it.
  if (in.rank && in.agg == Agg::kNone && !in.measure_kind && !in.measure_column &&
      in.group_columns.empty() && in.group_tables.empty()) {
    for (const auto& m : measures_of(s, Kind::kMoney)) {
      if (m.table == in.subject && !m.expr_column.empty()) in.measure_kind = Kind::kMoney;
    }
  }

  // Numeric thresholds without a named column apply to the subject's money (or price) column.
  for (auto& f : in.filters) {
    if (!f.numeric || !f.col.table.empty()) continue;
    for (Kind k : {Kind::kMoney, Kind::kPrice, Kind::kQuantity}) {
      for (const auto& m : measures_of(s, k)) {
        if (m.table == in.subject && !m.expr_column.empty() && f.col.table.empty()) {
          f.col = {m.table, m.expr_column};
        }
      }
    }
    if (f.col.table.empty()) {
      throw Refusal{"I don't know which number \"" + f.value + "\" should be compared with."};
    }
  }

  // The measure: a named numeric column, else the best column of the kind asked for.
  std::optional<Measure> measure;
  std::vector<Measure> candidates;
  if (in.measure_column) {
    candidates.push_back(
        {in.measure_column->table, in.measure_column->column, {}, {}, in.measure_column->column});
  } else if (in.measure_kind) {
    candidates = measures_of(s, *in.measure_kind);
  } else if (in.agg == Agg::kSum || in.agg == Agg::kAvg || in.agg == Agg::kMax ||
             in.agg == Agg::kMin) {
    candidates = measures_of(s, Kind::kMoney);
    if (candidates.empty()) candidates = measures_of(s, Kind::kPrice);
  }
  Agg agg = in.agg;
  // "how many units were sold" sums quantities; "how many orders over 500" counts rows.
  bool counts_units = in.measure_kind == Kind::kQuantity && !in.measure_column;
  if (!candidates.empty() && agg == Agg::kCount && !in.measure_column && !counts_units) {
    candidates.clear();
  }
  // Measures of the tables the question names come first ("most expensive products").
  std::stable_sort(candidates.begin(), candidates.end(), [&](const Measure& a, const Measure& b) {
    auto named = [&](const Measure& m) {
      return std::find(in.tables.begin(), in.tables.end(), m.table) != in.tables.end();
    };
    return named(a) && !named(b) && in.rank && in.group_tables.empty();
  });
  if (!candidates.empty() && (agg == Agg::kNone || agg == Agg::kCount)) {
    // "revenue by city" sums; "most expensive product" ranks rows without aggregating.
    agg = Agg::kSum;
  }

  // Tables the query must reach besides the measure's.
  std::vector<std::string> needed;
  for (const auto& g : in.group_columns) needed.push_back(g.table);
  for (const auto& g : in.group_tables) needed.push_back(g);
  for (const auto& f : in.filters) needed.push_back(f.col.table);

  std::string date_table;
  if (in.dates) {
    // The date of the last-named table that has one, else of the measure's or subject's table.
    for (bool skip_qualifiers : {true, false}) {
      for (auto it = in.tables.rbegin(); it != in.tables.rend() && date_table.empty(); ++it) {
        const Table* t = s.table(*it);
        bool group =
            std::find(in.group_tables.begin(), in.group_tables.end(), *it) != in.group_tables.end();
        bool qualifier = skip_qualifiers && in.qualifiers.count(*it);
        if (t && date_column(*t) && !group && !qualifier) date_table = *it;
      }
    }
  }

  std::optional<Plan> plan;
  bool row_ranking = false;
  if (!candidates.empty()) {
    for (const auto& m : candidates) {
      std::vector<std::string> need = needed;
      if (in.group_tables.empty() && in.group_columns.empty() && in.rank && m.table == in.subject &&
          in.agg == Agg::kNone) {
        row_ranking = true;
      }
      std::string dt;
      if (in.dates) {
        if (date_column(*s.table(m.table))) {
          dt = m.table;
        } else {
          // The nearest table reachable without fan-out that has a date.
          dt = nearest_dated_table(s, m.table);
        }
      }
      if (!dt.empty()) need.push_back(dt);
      auto p = plan_joins(s, m.table, need);
      if (p && !p->fan_out) {
        measure = m;
        plan = p;
        date_table = dt;
        break;
      }
    }
    if (!measure) {
      throw Refusal{
          "Answering that would need joins that count some rows more than once; "
          "ask about one table's totals at a time."};
    }
    // "average quantity per order item": grouping a measure by its own rows is no grouping.
    in.group_tables.erase(
        std::remove(in.group_tables.begin(), in.group_tables.end(), measure->table),
        in.group_tables.end());
  } else {
    if (in.dates && date_table.empty()) {
      if (date_column(*subject)) {
        date_table = in.subject;
      } else {
        date_table = nearest_dated_table(s, in.subject);
      }
      if (date_table.empty())
        throw Refusal{"The " + in.subject + " table has no date to filter on."};
    }
    if (!date_table.empty()) needed.push_back(date_table);
    if (agg == Agg::kNone && (!in.group_columns.empty() || !in.group_tables.empty() || in.rank)) {
      agg = Agg::kCount;
    }
    plan = plan_joins(s, in.subject, needed);
    if (!plan) throw Refusal{"I can't find how those tables are related in this database."};
  }

  // SELECT list, GROUP BY and ORDER BY.
  std::vector<std::string> select, group_by;
  for (const auto& g : in.group_tables) {
    const Table* t = s.table(g);
    std::string label = label_column(*t);
    select.push_back(qcol(g, label) + " AS " +
                     quote_identifier(singular(lower_ascii(g)) == lower_ascii(label)
                                          ? label
                                          : singular(lower_ascii(g)) + "_" + label));
    group_by.push_back(qcol(g, primary_key(*t)));
    if (label != primary_key(*t)) group_by.push_back(qcol(g, label));
  }
  for (const auto& g : in.group_columns) {
    select.push_back(qcol(g.table, g.column) + " AS " + quote_identifier(g.column));
    group_by.push_back(qcol(g.table, g.column));
  }
  std::string value_expr;
  // A count is named for what it counts ("orders_count"), so the answer can say "7 orders".
  std::string value_alias =
      agg == Agg::kCount && !measure ? lower_ascii(in.subject) + "_count" : agg_alias(agg);
  if (row_ranking && measure) {
    select.insert(select.begin(), qcol(in.subject, label_column(*subject)) + " AS " +
                                      quote_identifier(label_column(*subject)));
    value_expr = measure_expr(*measure);
    value_alias = measure->label;
  } else if (measure) {
    value_expr = std::string(agg_sql(agg)) + "(" + measure_expr(*measure) + ")";
    if (agg == Agg::kAvg || agg == Agg::kSum) value_expr = "ROUND(" + value_expr + ", 2)";
    value_alias = std::string(agg_alias(agg)) + "_" + measure->label;
  } else if (agg == Agg::kCount) {
    value_expr = plan->fan_out ? "COUNT(DISTINCT " + qcol(in.subject, primary_key(*subject)) + ")"
                               : "COUNT(*)";
  }
  bool aggregated = !value_expr.empty() && !row_ranking;
  if (!value_expr.empty()) select.push_back(value_expr + " AS " + quote_identifier(value_alias));
  if (select.empty()) {
    select.push_back(plan->fan_out ? "DISTINCT " + quote_identifier(in.subject) + ".*"
                                   : quote_identifier(in.subject) + ".*");
  }

  std::string sql = "SELECT ";
  for (size_t i = 0; i < select.size(); ++i) sql += (i ? ", " : "") + select[i];
  sql += " FROM " + quote_identifier(plan->base);
  for (const auto& e : plan->joins) {
    sql += " JOIN " + quote_identifier(e.to_table) + " ON " + qcol(e.to_table, e.to_column) +
           " = " + qcol(e.from_table, e.from_column);
  }
  std::vector<std::string> where;
  for (const auto& f : in.filters) {
    where.push_back(qcol(f.col.table, f.col.column) + " " + f.op + " " +
                    (f.numeric ? f.value : quote_literal(f.value)));
  }
  if (in.dates && !date_table.empty()) {
    std::string col = qcol(date_table, *date_column(*s.table(date_table)));
    if (in.dates->from) where.push_back(col + " >= " + quote_literal(format_day(*in.dates->from)));
    if (in.dates->to) where.push_back(col + " < " + quote_literal(format_day(*in.dates->to)));
  }
  for (size_t i = 0; i < where.size(); ++i) sql += (i ? " AND " : " WHERE ") + where[i];
  if (aggregated && !group_by.empty()) {
    sql += " GROUP BY ";
    for (size_t i = 0; i < group_by.size(); ++i) sql += (i ? ", " : "") + group_by[i];
  }
  if (in.rank && !value_expr.empty()) {
    sql += " ORDER BY " + quote_identifier(value_alias) + (in.ascending ? " ASC" : " DESC");
    sql += " LIMIT " + std::to_string(std::max(1, in.limit));
  } else if (aggregated && !group_by.empty()) {
    sql += " ORDER BY " + quote_identifier(value_alias) + " DESC";
  }
  return sql;
}

}  // namespace

std::string utc_today() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

Translation translate_offline(const TranslateRequest& request) {
  Translation out;
  auto words = tokenize(request.question);
  if (words.empty()) {
    out.cannot_answer = "The question is empty.";
    return out;
  }
  for (const auto& w : words) {
    if (kWriteVerbs.count(w) && (&w == &words.front() || w == "delete" || w == "drop")) {
      out.cannot_answer = "I only read data; I can't change it.";
      return out;
    }
    if (kSpeculation.count(w)) {
      out.cannot_answer =
          "I can only report what the data shows; I can't explain causes or predict the future.";
      return out;
    }
  }
  if (request.schema.tables.empty()) {
    out.cannot_answer = "No tables are available to answer from.";
    return out;
  }
  auto today = parse_day(request.today.empty() ? utc_today() : request.today);
  int64_t day = today ? *today : *parse_day(utc_today());
  Lexicon lx = build_lexicon(request.schema);
  Intent in = Parser(lx, words, day).parse();
  try {
    if (in.follow_up || (in.tables.empty() && !request.history.empty() && !in.agg_explicit &&
                         in.group_columns.empty())) {
      // Rebuild what the conversation asked so far, oldest first, then apply this turn.
      std::optional<Intent> context;
      for (const auto& turn : request.history) {
        Intent prev = Parser(lx, tokenize(turn.question), day).parse();
        if (!prev.unknown.empty()) continue;
        if (context && (prev.follow_up || prev.tables.empty())) {
          context = merge(*context, prev);
        } else {
          context = prev;
        }
      }
      if (context) in = merge(*context, in);
    }
    out.sql = build_sql(request.schema, in);
  } catch (const Refusal& r) {
    out.cannot_answer = r.reason;
  }
  return out;
}

}  // namespace datachat
