-- wrk script: every request stores one new measurement. Each thread posts to its own 16 rooms,
-- with timestamps counting back a second at a time, so that no two requests share a key and
-- the stored count can be checked against the acknowledged one.
-- Arguments (after --): a label for this run, so that runs on one database never collide.
local threads = {}
counter, created = 0, 0  -- globals: done() reads `created` of each thread
local prefix, start

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  prefix = "/measurements/bench-" .. (args[1] or "run") .. "-" .. id .. "-"
  start = os.time() - 60
end

function request()
  counter = counter + 1
  local ts = os.date("!%Y-%m-%dT%H:%M:%SZ", start - counter)
  local body = string.format('{"v": %.1f, "u": "K", "ts": "%s"}', 290 + counter % 100 / 10, ts)
  return wrk.format("POST", prefix .. (counter % 16), {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 end
end

function done(summary, latency, requests)
  local acknowledged = 0
  for _, thread in ipairs(threads) do acknowledged = acknowledged + thread:get("created") end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "acknowledged": %d, "non_2xx": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, acknowledged, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
