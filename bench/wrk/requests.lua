-- wrk script of the KeyCare benchmarks: rotate over a list of requests, stop after a
-- bounded number of responses, and print one JSON line of figures at the end.
--
-- Environment: BENCH_REQUESTS  a file of requests, one per line: METHOD<TAB>PATH[<TAB>BODY]
--              BENCH_MAX       responses in all (split over the threads); wrk's -d bounds time
--              BENCH_HEADERS   a file of extra request headers, one "Name: value" per line
local threads = {}

local function read_lines(name)
  local lines = {}
  if name == nil or name == "" then return lines end
  for line in io.lines(name) do
    if line ~= "" then lines[#lines + 1] = line end
  end
  return lines
end

local function split_tab(line)
  local parts = {}
  for part in string.gmatch(line .. "\t", "([^\t]*)\t") do parts[#parts + 1] = part end
  return parts
end

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  local total = tonumber(os.getenv("BENCH_MAX") or "0")
  local count = #threads > 0 and #threads or 1
  limit = total > 0 and math.ceil(total / count) or 0
  done_count, bad = 0, 0
  local headers = {}
  for _, line in ipairs(read_lines(os.getenv("BENCH_HEADERS"))) do
    local name, value = string.match(line, "^([^:]+):%s*(.*)$")
    if name then headers[name] = value end
  end
  reqs = {}
  for _, line in ipairs(read_lines(os.getenv("BENCH_REQUESTS"))) do
    local p = split_tab(line)
    local body = p[3]
    if body == "" then body = nil end
    reqs[#reqs + 1] = wrk.format(p[1], p[2], headers, body)
  end
  -- each thread starts at a different place in the list
  cursor = (id * 7919) % #reqs
end

function request()
  cursor = cursor % #reqs + 1
  return reqs[cursor]
end

function response(status, headers, body)
  done_count = done_count + 1
  if status >= 400 then bad = bad + 1 end
  if limit > 0 and done_count >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do bad_total = bad_total + (thread:get("bad") or 0) end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.2f, "p50_ms": %.3f, "p95_ms": %.3f, ' ..
    '"p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, "http_errors": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    bad_total, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
