-- wrk script: POST the ~200-byte echo document with the bench key.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
wrk.body = '{"name":"camera-entrance-01","values":[0.12,0.56,0.98,1.5,2.25,3.0],' ..
           '"tags":["lobby","north","hd"],"enabled":true,' ..
           '"attributes":{"site":"berlin-03","model":"x200","firmware":"4.2.1"},"count":42}'
