// plughost/multipart.hpp — a strict multipart/form-data parser (RFC 7578 over RFC 2046) for
// request bodies the host has already buffered: the parts are views into the body, nothing copied.
//
// Strict on purpose: lines end in CRLF, the boundary comes from the Content-Type (1–70 allowed
// characters), every part has a `Content-Disposition: form-data; name="…"` header, the body ends
// with the close delimiter, and limits bound the number of parts and the size of their headers.
// Anything else is an error with a message fit for a 400 answer. Linear in the body's size;
// never throws on any input. Header-only, no dependency beyond the standard library.
#pragma once

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plughost::sdk::multipart {

struct Part {
  std::string name;                     // the form field's name
  std::optional<std::string> filename;  // set for a file field (may be empty: no file chosen)
  std::string content_type;             // the part's Content-Type, "" when absent
  std::string_view data;                // the part's bytes, a view into the parsed body
};

struct Limits {
  size_t max_parts = 64;
  size_t max_header_bytes = 8192;  // all header lines of one part together
};

// The boundary parameter of a `multipart/form-data` Content-Type value (quoted or not); nullopt
// when the type is another one or the boundary is missing or not a valid RFC 2046 boundary.
std::optional<std::string> form_data_boundary(std::string_view content_type);

// Splits `body` into its parts. On failure returns false with `error` set and `parts` unspecified.
bool parse(std::string_view body, std::string_view boundary, std::vector<Part>& parts,
           std::string& error, const Limits& limits = {});

// The first part named `name`, or nullptr.
inline const Part* find(const std::vector<Part>& parts, std::string_view name) {
  for (const auto& p : parts) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// ---- implementation ----

namespace detail {

inline std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

inline bool token_char(char c) {
  return c > 0x20 && c < 0x7f &&
         std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

// `; key=value; key="quoted \" value"` parameters after a header's main value. Keys lower-case;
// a repeated key or malformed text is an error.
inline bool parse_parameters(std::string_view text,
                             std::vector<std::pair<std::string, std::string>>& out) {
  size_t i = 0;
  const size_t n = text.size();
  auto skip_blanks = [&] {
    while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
  };
  while (true) {
    skip_blanks();
    if (i == n) return true;
    if (text[i] != ';') return false;
    ++i;
    skip_blanks();
    if (i == n) return true;  // a trailing ';' is tolerated
    size_t start = i;
    while (i < n && token_char(text[i])) ++i;
    if (i == start) return false;
    std::string key = lower(text.substr(start, i - start));
    skip_blanks();
    if (i == n || text[i] != '=') return false;
    ++i;
    skip_blanks();
    std::string value;
    if (i < n && text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        char c = text[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < n) c = text[i++];
        if (c == '\r' || c == '\n') return false;
        value += c;
      }
      if (!closed) return false;
    } else {
      start = i;
      while (i < n && token_char(text[i])) ++i;
      if (i == start) return false;
      value = std::string(text.substr(start, i - start));
    }
    for (const auto& kv : out) {
      if (kv.first == key) return false;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
}

inline bool boundary_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

// Parses one part's header block (without the blank line ending it) into `part`.
inline bool parse_part_headers(std::string_view block, Part& part, std::string& error) {
  bool disposition = false;
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    if (line.empty() || line.front() == ' ' || line.front() == '\t') {
      error = "malformed part header (folded or empty line)";
      return false;
    }
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos ||
        line.find('\0') != std::string_view::npos) {
      error = "malformed part header (bare CR, LF or NUL)";
      return false;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = "malformed part header (no name)";
      return false;
    }
    for (size_t k = 0; k < colon; ++k) {
      if (!token_char(line[k])) {
        error = "malformed part header name";
        return false;
      }
    }
    std::string name = lower(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      if (disposition) {
        error = "a part has two Content-Disposition headers";
        return false;
      }
      disposition = true;
      size_t semi = value.find(';');
      if (lower(trim(value.substr(0, semi))) != "form-data") {
        error = "a part's Content-Disposition is not form-data";
        return false;
      }
      std::vector<std::pair<std::string, std::string>> params;
      if (semi != std::string_view::npos && !parse_parameters(value.substr(semi), params)) {
        error = "malformed Content-Disposition parameters";
        return false;
      }
      bool named = false;
      for (auto& [key, v] : params) {
        if (key == "name") {
          part.name = std::move(v);
          named = true;
        } else if (key == "filename") {
          part.filename = std::move(v);
        }
      }
      if (!named) {
        error = "a part's Content-Disposition has no name";
        return false;
      }
    } else if (name == "content-type") {
      part.content_type = std::string(value);
    }
  }
  if (!disposition) {
    error = "a part has no Content-Disposition header";
    return false;
  }
  return true;
}

}  // namespace detail

inline std::optional<std::string> form_data_boundary(std::string_view content_type) {
  size_t semi = content_type.find(';');
  if (detail::lower(detail::trim(content_type.substr(0, semi))) != "multipart/form-data" ||
      semi == std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> params;
  if (!detail::parse_parameters(content_type.substr(semi), params)) return std::nullopt;
  for (const auto& [key, value] : params) {
    if (key != "boundary") continue;
    if (value.empty() || value.size() > 70 || value.back() == ' ' ||
        !std::all_of(value.begin(), value.end(), detail::boundary_char)) {
      return std::nullopt;
    }
    return value;
  }
  return std::nullopt;
}

inline bool parse(std::string_view body, std::string_view boundary, std::vector<Part>& parts,
                  std::string& error, const Limits& limits) {
  parts.clear();
  if (boundary.empty() || boundary.size() > 70) {
    error = "invalid multipart boundary";
    return false;
  }
  // Every delimiter but a first one at the very start is CRLF "--" boundary.
  const std::string delimiter = "\r\n--" + std::string(boundary);
  const std::boyer_moore_horspool_searcher search(delimiter.begin(), delimiter.end());
  auto find_delimiter = [&](size_t from) -> size_t {
    auto it = std::search(body.begin() + static_cast<std::ptrdiff_t>(from), body.end(), search);
    return it == body.end() ? std::string_view::npos : static_cast<size_t>(it - body.begin());
  };
  // The first delimiter: at offset 0 (no preamble) or after a preamble ending in CRLF.
  size_t pos;
  if (body.substr(0, delimiter.size() - 2) == std::string_view(delimiter).substr(2)) {
    pos = delimiter.size() - 2;
  } else {
    size_t at = find_delimiter(0);
    if (at == std::string_view::npos) {
      error = "the body has no multipart delimiter";
      return false;
    }
    pos = at + delimiter.size();
  }
  while (true) {
    // After a delimiter: "--" closes the body; else optional blanks, then CRLF.
    if (body.substr(pos, 2) == "--") return true;  // the epilogue, if any, is ignored
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") {
      error = "malformed multipart delimiter line";
      return false;
    }
    pos += 2;
    if (parts.size() >= limits.max_parts) {
      error = "too many parts (limit " + std::to_string(limits.max_parts) + ")";
      return false;
    }
    Part part;
    size_t headers_end;
    if (body.substr(pos, 2) == "\r\n") {
      headers_end = pos;  // no header at all: refused below (no Content-Disposition)
    } else {
      size_t blank = body.substr(pos, limits.max_header_bytes + 4).find("\r\n\r\n");
      if (blank == std::string_view::npos) {
        error = "part headers too long or not terminated";
        return false;
      }
      headers_end = pos + blank + 2;
    }
    if (!detail::parse_part_headers(body.substr(pos, headers_end - pos), part, error)) {
      return false;
    }
    size_t data_start = headers_end + 2;
    size_t next = find_delimiter(data_start);
    if (next == std::string_view::npos) {
      error = "the body ends inside a part (no closing delimiter)";
      return false;
    }
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(std::move(part));
    pos = next + delimiter.size();
  }
}

}  // namespace plughost::sdk::multipart
