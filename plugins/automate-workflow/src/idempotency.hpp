// X-Request-ID on a mutation: the first request with a key runs and its answer is stored; a
// repeat with the same key, route (method + path), tenant and principal gets that stored answer
// again without running anything. The same key with another body is 409 CONFLICT, and so is a
// repeat while the first is still running. Answers expire after `ttl_seconds`; 5xx answers are
// not kept (the client may retry them).
#pragma once

#include <functional>
#include <plughost/plugin.hpp>

#include "services.hpp"

namespace automate {

struct IdempotencySettings {
  double ttl_seconds = 86400;
  double pending_seconds = 60;  // a claim of a key whose request died is free again after this
};

// Answers `rq` with `handler`'s Reply, or with the stored one (see above). HttpErrors of the
// handler below 500 are answered (and kept) as their error envelope.
void answer_idempotently(const Services& p, const IdempotencySettings& settings,
                         const plughost::sdk::Request& rq, plughost::sdk::Response& rs,
                         const std::function<Reply()>& handler);

// Deletes expired keys; returns how many.
int64_t purge_expired_request_keys(const Services& p);

}  // namespace automate
