// Step-config templates: `{{ event.payload.x }}`, `{{ event.type }}`, `{{ steps.<id>.output.x }}`
// (alias `{{ previous.<id>.x }}`). A template is a dotted path into the run's context, nothing
// more: no code runs and no environment is reachable. A missing key is an error naming it.
#pragma once

#include <rapidjson/document.h>

#include <stdexcept>
#include <string>

namespace automate {

class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `value` with every string rendered against `context` ({"event": …, "steps": {id: {"output":
// …}}}), into `alloc`. A string that is exactly one `{{ path }}` becomes the value at that path
// (any JSON type); otherwise each `{{ path }}` is replaced by the value's text (strings as is,
// others as JSON). Throws TemplateError for a missing key or a malformed expression.
// The value at `path` ("event.payload.x", "steps.a.output.y", "previous.a.y") in `context`.
// Throws TemplateError for a malformed path, an unknown root or a missing key.
const rapidjson::Value& lookup_path(const std::string& path, const rapidjson::Value& context);

rapidjson::Value render_templates(const rapidjson::Value& value, const rapidjson::Value& context,
                                  rapidjson::Document::AllocatorType& alloc);

}  // namespace automate
