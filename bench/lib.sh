# Shared by bench/*/run.sh (sourced): a work directory removed on exit, background processes
# (their pids in `pids`, and nginx through its pid file) stopped, and a free loopback port.

# Sets `work` to a new directory under ${BENCH_TMPDIR:-/tmp} named after $1, and `pids` to ().
bench_workdir() {
  work=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/argus-bench-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Benches drive Argus from one loopback address with one key, far above the default rate limits
# (README, "Rate limits are on by default"): measure the server, not the limiter.
export ARGUS_RATE_LIMIT_PER_KEY_RPS=0 ARGUS_RATE_LIMIT_PER_IP_RPS=0

# Starts $root/build/argus serve on a free loopback port with admin key $1 (extra NAME=value
# settings after it), waits until /readyz answers 200, and sets `url`.
argus_start() {
  local key=$1
  shift
  env ARGUS_ADMIN_KEY="$key" ARGUS_HTTP_ACCESS_LOG=false ARGUS_LOG_LEVEL=warn "$@" \
    "$root/build/argus" serve --listen 127.0.0.1:0 --data-dir "$work/argus" &
  pids+=($!)
  for _ in $(seq 1 200); do [[ -s "$work/argus/listen.addr" ]] && break; sleep 0.05; done
  url=$(cat "$work/argus/listen.addr")
  for _ in $(seq 1 600); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" == 200 ]] && break
    sleep 0.1
  done
}
