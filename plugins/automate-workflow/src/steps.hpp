// The step types this plugin ships, each a connector of kind "step" (operation "run", input the
// node's config with its templates already rendered, output the step's output object).
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "services.hpp"

namespace automate {

// Step types backed by another plugin's connector, offered only while that connector exists.
constexpr const char* kRagQueryStep = "rag.query";        // needs retriever/rag
constexpr const char* kDatachatAskStep = "datachat.ask";  // needs datachat/datachat

// The step types a workflow may use now: the "step" connectors, without rag.query/datachat.ask
// while the connector they call is missing.
std::set<std::string> available_step_types(const Services& host);

// `logging`: {"message": "…"} -> {"logged": true, "message": "…"}.
std::string run_logging_step(std::string_view input_json);

// `transform`: {"output": <any JSON>} -> that JSON (an object, or {"value": <it>}).
std::string run_transform_step(std::string_view input_json);

// `condition`: {"expression": "…", "context": {event, steps}} -> {"result": bool, "branch":
// "true"|"false"}. The engine passes the raw expression (never template-rendered) and the run's
// context; see expression.hpp for the language.
std::string run_condition_step(std::string_view input_json);

// `delay`: {"seconds": n} (0 ≤ n ≤ 30 days) -> {"seconds": n}. Validates only; the engine does
// the waiting (see engine.hpp).
std::string run_delay_step(std::string_view input_json);

// `http.request`: {url, method?, headers?, json? | body?, timeout_seconds? (30), retries? (0),
// expect_json?} -> {status, ok, headers, body, elapsed_ms, attempts}. A transport error, a 5xx or
// a 429 is retried `retries` times (0.5 s doubling, at most 5 s apart); a final non-2xx fails the
// step with "HTTP <code>: <first 200 chars of the body>".
std::string run_http_request_step(std::string_view input_json);

// `slack.send_message`: {message | text, channel?, username?, icon_emoji?, blocks?} POSTed as a
// Slack incoming-webhook payload to `webhook_url` -> {ok, status, channel}.
std::string run_slack_step(std::string_view input_json, const std::string& webhook_url,
                           double timeout_seconds);

// `rag.query`: {endpoint, query, top_k? (5), filters?, tenant} -> retriever/rag "query" output.
std::string run_rag_query_step(const Services& host, std::string_view input_json);

// `datachat.ask`: {question, session_id?, context?, tenant} -> datachat/datachat "ask" output.
std::string run_datachat_ask_step(const Services& host, std::string_view input_json);

}  // namespace automate
