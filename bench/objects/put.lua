-- wrk script: PUT distinct objects of random bytes, one new key per request, keep-alive.
-- Each wrk thread reads a pool of random blocks from /dev/urandom once; every body is a block
-- with its first 24 bytes replaced by "<run>-<thread>-<counter>", so no two objects share bytes
-- (no deduplication shortcut) and generating a body costs one string copy.
--   wrk ... -s put.lua http://host:port/v1/buckets/b/objects -- <run tag> <object bytes>
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local pool, counter, run, size, prefix = {}, 0, "run", 10240, ""
function init(args)
  run = args[1] or "run"
  size = tonumber(args[2] or "10240")
  local f = assert(io.open("/dev/urandom", "rb"))
  for i = 1, 64 do pool[i] = f:read(size) end
  f:close()
  prefix = wrk.path .. "/" .. run .. "/" .. tid .. "/"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
  wrk.headers["X-Namespace"] = os.getenv("BENCH_NS") or "bench"
  wrk.headers["Content-Type"] = "application/octet-stream"
end

function request()
  counter = counter + 1
  local stamp = string.format("%-24s", run .. "-" .. tid .. "-" .. counter):sub(1, 24)
  local body = stamp .. pool[counter % 64 + 1]:sub(25)
  return wrk.format("PUT", prefix .. counter, nil, body)
end
