-- wrk script: GET with the bench key and namespace (unauthenticated routes ignore them).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
wrk.headers["X-Namespace"] = os.getenv("BENCH_NS")
