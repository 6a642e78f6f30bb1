// text.hpp — byte-level text helpers: what a subprocess writes is arbitrary bytes, what the API
// answers is UTF-8 JSON.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace inspector {

// `in` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view in);
// Number of code points (what Django's max_length counts), for valid UTF-8.
size_t code_points(std::string_view utf8);
// Lines of `text` without their "\n" (and a trailing "\r"); no empty last line for a final "\n".
std::vector<std::string> split_lines(std::string_view text);
// `s` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view s);
// A number as Python prints it in f-strings: "60" for 60.0, "1.5" for 1.5.
std::string python_number(double value);

}  // namespace inspector
