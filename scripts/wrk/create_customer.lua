-- wrk script: POST createCustomer to prismatic-sim's /api with a fresh name per request.
-- Usage: ACCESS_TOKEN=<jwt> wrk -t2 -c64 -d5s -s scripts/wrk/create_customer.lua http://127.0.0.1:PORT/api
-- Names are "<run>-<thread>-<n>", <run> from env WRK_RUN (default: the start time), so reruns against
-- the same simulator stay fresh. Non-200 answers are in wrk's "Non-2xx or 3xx responses"; answers whose
-- payload has errors (a duplicate, or no customer) are counted and printed at the end.

local token = os.getenv("ACCESS_TOKEN")
if token == nil or token == "" then
  io.stderr:write("create_customer.lua: set ACCESS_TOKEN to an access token of the simulator\n")
  os.exit(2)
end

local query = "mutation($name: String!, $externalId: String) { createCustomer(input: {name: $name, " ..
  "externalId: $externalId}) { customer { id name externalId } errors { field messages } } }"
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }

local threads = {}
local next_thread = 1
local run = os.getenv("WRK_RUN") or tostring(os.time())

function setup(thread)
  thread:set("thread_id", next_thread)
  thread:set("run", run)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

-- Globals, so that done() can read each thread's with thread:get.
counter = 0
rejected = 0 -- 200 answers whose payload has errors or no customer
failed = 0   -- answers other than 200

function init(args)
  prefix = run .. "-" .. thread_id .. "-"
end

function request()
  counter = counter + 1
  local name = prefix .. counter
  local body = '{"query":"' .. query .. '","variables":{"name":"Bench ' .. name ..
    '","externalId":"wrk-' .. name .. '"}}'
  return wrk.format("POST", nil, headers, body)
end

function response(status, response_headers, body)
  if status ~= 200 then
    failed = failed + 1
  elseif not string.find(body, '"errors":[]', 1, true) or string.find(body, '"customer":null', 1, true) then
    rejected = rejected + 1
  end
end

function done(summary, latency, requests)
  local total_failed, total_rejected, total_sent = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_failed = total_failed + thread:get("failed")
    total_rejected = total_rejected + thread:get("rejected")
    total_sent = total_sent + thread:get("counter")
  end
  io.write(string.format("createCustomer: %d sent, %d answered, %d not 200, %d with payload errors\n",
    total_sent, summary.requests, total_failed, total_rejected))
end
