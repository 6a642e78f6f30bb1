// http_json_source.hpp — the built-in `http_json` source type: a paginated JSON REST endpoint (the
// real client behind a connector like Stripe's) read into one table.
//
// Options (config.schema.json documents each): `url`; `token` (secret: masked in answers, never in
// logs or errors) sent as `<auth_header>: <auth_scheme> <token>` (default `Authorization: Bearer`);
// `headers` (more, non-secret); `records_path` (dotted path of the records array in a page, empty:
// the page is the array); `paging`: `none`, `cursor` (the next cursor from `next_cursor_path`, or
// Stripe-style the last record's `cursor_record_field` while `has_more_path` is true, sent as
// `cursor_param`) or `offset` (`offset_param`, stops on a short page); `page_limit` sent as
// `limit_param`; `max_pages`; `timeout_seconds`; `max_retries` on 429/5xx/no answer with
// exponential backoff honouring Retry-After up to `retry_max_wait_seconds`; `table` (default: the
// source's name); `cursor_column` + `incremental_param` (incremental: the largest cursor loaded is
// kept in the state, sent as that query parameter and rows not past it are dropped), `primary_key`
// (appended rows replace loaded ones with the same key); `start_date_param`/`end_date_param`
// (query parameters receiving the sync's start_date/end_date).
#pragma once

#include "source_types.hpp"

namespace dango {

// Throws std::runtime_error (no secret in the message) when the endpoint fails after its retries
// or answers something that is not JSON; std::invalid_argument for bad options.
SourceBatch read_http_json_source(const ReadRequest& rq);

}  // namespace dango
