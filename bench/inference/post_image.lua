-- wrk: POST the image in $BENCH_IMAGE to the path given on the command line, with $BENCH_KEY.
local f = assert(io.open(os.getenv("BENCH_IMAGE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")

local errors = 0
response = function(status)
  if status ~= 200 then errors = errors + 1 end
end

done = function(summary, latency)
  io.write(string.format("non200=%d p50_ms=%.2f p99_ms=%.2f\n", errors,
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
