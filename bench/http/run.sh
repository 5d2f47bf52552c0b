#!/usr/bin/env bash
# bench/http: Argus vs nginx (fixed JSON, the ceiling) vs FastAPI + uvicorn (1 and 2 workers),
# same machine, same run, same two routes, wrk -t2 -c64. Prints req/s, p50, p99 and ratios.
#   DURATION=10 bench/http/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
duration=${DURATION:-10}
source "$root/bench/lib.sh"
bench_workdir http

wait_port() {
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.05
  done
  echo "bench: nothing listens on port $1" >&2; return 1
}

export BENCH_KEY="bench-key-$(head -c 24 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"

# Argus: access log off, like nginx below; two I/O threads (the machine's cores).
ARGUS_ADMIN_KEY="$BENCH_KEY" ARGUS_HTTP_ACCESS_LOG=false ARGUS_LOG_LEVEL=warn ARGUS_INFERENCE_PRELOAD=false \
  "$root/build/argus" serve --listen 127.0.0.1:0 --data-dir "$work/argus" &
pids+=($!)
for _ in $(seq 1 200); do [[ -s "$work/argus/listen.addr" ]] && break; sleep 0.05; done
argus_port=$(sed 's/.*://' "$work/argus/listen.addr")

nginx_port=$(free_port)
sed -e "s|@DIR@|$work|g" -e "s|@PORT@|$nginx_port|g" "$root/bench/http/nginx.conf.in" >"$work/nginx.conf"
nginx -c "$work/nginx.conf" -e "$work/nginx-error.log"
wait_port "$nginx_port"

start_uvicorn() {
  local port=$1 workers=$2
  (cd "$root/bench/http" && exec /usr/bin/python3 -m uvicorn fastapi_app:app --host 127.0.0.1 \
     --port "$port" --workers "$workers" --loop uvloop --http httptools --no-access-log \
     --log-level warning) &
  pids+=($!)
  wait_port "$port"
}
uv1_port=$(free_port); start_uvicorn "$uv1_port" 1
uv2_port=$(free_port); start_uvicorn "$uv2_port" 2

# wrk's latency lines look like "     50%  412.00us"; normalise to milliseconds.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }
declare -A rps p50 p99
run() {
  local name=$1 port=$2 route=$3 script=$4
  # A short warm-up so every server has its caches, JIT and connection pools ready.
  wrk -t2 -c64 -d2s -s "$root/bench/http/$script" "http://127.0.0.1:$port$route" >/dev/null
  local out; out=$(wrk -t2 -c64 -d"${duration}s" --latency -s "$root/bench/http/$script" \
                   "http://127.0.0.1:$port$route")
  local errors; errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
  [[ -n "$errors" ]] && echo "bench: $name $route: $errors" >&2
  rps[$name,$route]=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p50[$name,$route]=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)
  p99[$name,$route]=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
}

routes=("/v1/whoami get.lua" "/v1/diagnostics/echo post.lua")
servers=("argus $argus_port" "nginx $nginx_port" "uvicorn-1w $uv1_port" "uvicorn-2w $uv2_port")
for r in "${routes[@]}"; do
  read -r route script <<<"$r"
  for s in "${servers[@]}"; do
    read -r name port <<<"$s"
    run "$name" "$port" "$route" "$script"
  done
done

echo
echo "bench/http: wrk -t2 -c64 -d${duration}s on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-22s %-12s %10s %9s %9s %10s %12s\n' route server req/s p50_ms p99_ms vs_nginx vs_uvicorn2w
for r in "${routes[@]}"; do
  read -r route _ <<<"$r"
  for s in "${servers[@]}"; do
    read -r name _ <<<"$s"
    printf '%-22s %-12s %10s %9s %9s %10s %12s\n' "$route" "$name" "${rps[$name,$route]}" \
      "${p50[$name,$route]}" "${p99[$name,$route]}" \
      "$(awk -v a="${rps[$name,$route]}" -v b="${rps[nginx,$route]}" 'BEGIN{printf "%.2fx", a/b}')" \
      "$(awk -v a="${rps[$name,$route]}" -v b="${rps[uvicorn-2w,$route]}" 'BEGIN{printf "%.2fx", a/b}')"
  done
done
