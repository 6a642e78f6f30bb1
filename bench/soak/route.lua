-- wrk script for one route of bench/soak.sh: the method, body and credentials come from the
-- environment (METHOD, BODY, API_KEY, SIGNATURE; unset ones are left out), and every answer is
-- counted by status: the one expected (EXPECT), other 2xx-4xx, and 5xx. done() prints
-- "statuses: expected N other N 5xx N".
wrk.method = os.getenv("METHOD") or "GET"
local body = os.getenv("BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local key = os.getenv("API_KEY")
if key and key ~= "" then wrk.headers["X-API-Key"] = key end
local signature = os.getenv("SIGNATURE")
if signature and signature ~= "" then
  wrk.headers["X-Webhook-Signature"] = "sha256=" .. signature
end
local expect = tonumber(os.getenv("EXPECT") or "200")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

expected, other, server_errors = 0, 0, 0
function response(status, headers, body)
  if status == expect then
    expected = expected + 1
  elseif status >= 500 then
    server_errors = server_errors + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local e, o, s = 0, 0, 0
  for _, t in ipairs(threads) do
    e = e + t:get("expected")
    o = o + t:get("other")
    s = s + t:get("server_errors")
  end
  io.write(string.format("statuses: expected %d other %d 5xx %d\n", e, o, s))
end
