-- wrk script for bench/perf-wrk.sh: requests on a fixed schedule (each wrk thread sends its share of
-- WRK_RATE requests/s at evenly spaced due times, read from the monotonic clock through LuaJIT's FFI, so a
-- slow answer on one connection does not slow the rate), either the ingest path (PUT /api/v1/chunks/{id},
-- 384-dimension embeddings, one in five an update of an earlier chunk) or the floor (GET liveness).
-- Prints p50/p95/p99/max in microseconds as "WRK-RESULT ..." for the shell script to read.
local mode = os.getenv("WRK_MODE") or "ingest"
local rate = tonumber(os.getenv("WRK_RATE") or "500")
local connections = tonumber(os.getenv("WRK_CONNECTIONS") or "8")
local prefix = os.getenv("WRK_PREFIX") or "wrk"
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } vs_timespec;
  int clock_gettime(int clk_id, vs_timespec *tp);
]]
local ts = ffi.new("vs_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local threads_count = tonumber(os.getenv("WRK_THREADS") or "2")
local next_due = nil
local bodies = {}
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(7 + (tid or 0))
  for b = 1, 16 do
    local v = {}
    for d = 1, 384 do v[d] = string.format("%.6f", math.random() * 2 - 1) end
    bodies[b] = '{"documentId":"doc-' .. b .. '","content":"Benchmark chunk ' .. b .. '. '
      .. string.rep("lorem ipsum dolor sit amet ", 6) .. '","embedding":[' .. table.concat(v, ",")
      .. '],"metadata":{"lang":"en","source":"perf"}}'
  end
end

function delay()
  local interval = threads_count * 1000 / rate -- this thread's share of the rate
  local now = now_ms()
  if next_due == nil then next_due = now end
  next_due = next_due + interval
  local wait = next_due - interval - now
  if wait < 0 then return 0 end
  return wait
end

function request()
  if mode == "floor" then
    return wrk.format("GET", "/actuator/health/liveness")
  end
  counter = counter + 1
  local id = counter
  if counter % 5 == 0 and counter > 10 then id = math.random(1, counter - 1) end
  return wrk.format("PUT", "/api/v1/chunks/" .. prefix .. "-" .. tid .. "-" .. id,
    { ["Content-Type"] = "application/json" }, bodies[(counter % 16) + 1])
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("WRK-RESULT requests=%d errors=%d p50=%d p95=%d p99=%d max=%d\n",
    summary.requests, errors, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max))
end
