// The step types this plugin ships, each a connector of kind "step" (operation "run", input the
// node's config with its templates already rendered, output the step's output object).
#pragma once

#include <string>
#include <string_view>

namespace automate {

// `logging`: {"message": "…", "level"?: "info"|"warn"} -> {"logged": true, "message": "…"}.
std::string run_logging_step(std::string_view input_json);

// `transform`: {"output": <any JSON>} -> that JSON (an object, or {"value": <it>}).
std::string run_transform_step(std::string_view input_json);

}  // namespace automate
