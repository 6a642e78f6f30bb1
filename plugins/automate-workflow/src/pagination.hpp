// Page-number pagination shared by the list endpoints: `page` (from 1), `page_size` (default 25,
// over 100 clamped to 100) and the `{count, next, previous, results}` envelope.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <plughost/plugin.hpp>
#include <string>

namespace automate {

struct Page {
  int64_t number = 1;
  int64_t size = 25;
  int64_t offset() const { return (number - 1) * size; }
};

constexpr int64_t kDefaultPageSize = 25;
constexpr int64_t kMaxPageSize = 100;

// Throws HttpError 400 VALIDATION_ERROR naming `page` or `page_size` when one is not an integer
// of at least 1.
Page read_page(const plughost::sdk::Request& rq);

// Wraps `results` (an array in `doc`'s allocator) in the envelope; `next`/`previous` link the
// request's path with its query, `page` replaced.
void write_page(rapidjson::Document& doc, const plughost::sdk::Request& rq, const Page& page,
                int64_t count, rapidjson::Value results);

}  // namespace automate
