-- wrk script: every request POSTs the same signed webhook (BODY and SIGNATURE from the
-- environment, set by bench/webhooks.sh) and counts the answers that are not 202.
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Webhook-Signature"] = "sha256=" .. os.getenv("SIGNATURE")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

not_accepted = 0
function response(status, headers, body)
  if status ~= 202 then not_accepted = not_accepted + 1 end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("not_accepted") end
  io.write(string.format("not 202: %d\n", n))
end
