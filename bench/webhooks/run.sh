#!/usr/bin/env bash
# bench/webhooks: webhook pushes from Argus to one local Node `http` receiver (receiver.js), and
# that receiver's own ceiling under wrk, same machine, same run:
#   1. deliveries/s: the cpu queue paused, N_DELIVERIES task.created events become deliveries
#      (nothing else runs); rate from the receiver's first to last POST;
#   2. the receiver's ceiling: wrk -t2 -c64 replaying the first delivery it got (same path,
#      headers and body); the ratio of (1) to (2) is printed;
#   3. catch-up: N_DELIVERIES task.created events left in the outbox by a server with
#      webhooks.dispatch false, delivered by the same data directory served again;
#   4. end to end: N no-op tasks with a webhook and a WebSocket subscriber on task.succeeded,
#      from the first submit until the receiver has every task's webhook-id and the WebSocket
#      every frame.
# Each Argus run starts on a fresh data directory (the catch-up's second on the first's). The delivery log is checked after each run.
#   N=10000 N_DELIVERIES=30000 DURATION=10 bench/webhooks/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${N:-10000}
n_deliveries=${N_DELIVERIES:-30000}
duration=${DURATION:-10}
source "$root/bench/lib.sh"
bench_workdir webhooks
here="$root/bench/webhooks"

node "$here/receiver.js" "$work/receiver.port" "$work/sample.json" &
pids+=($!)
for _ in $(seq 1 200); do [[ -s "$work/receiver.port" ]] && break; sleep 0.05; done
receiver="http://127.0.0.1:$(cat "$work/receiver.port")"

key="bench-key-$(head -c 24 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
# Runs driver.js <mode> <n> against a fresh argus serve; prints the driver's line.
run_argus() {
  local mode=$1 count=$2 dir="$work/argus-$1"
  ARGUS_ADMIN_KEY="$key" ARGUS_HTTP_ACCESS_LOG=false ARGUS_LOG_LEVEL=warn \
    ARGUS_INFERENCE_PRELOAD=false ARGUS_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true \
    "$root/build/argus" serve --listen 127.0.0.1:0 --data-dir "$dir" &
  local pid=$!
  pids+=($pid)
  for _ in $(seq 1 200); do [[ -s "$dir/listen.addr" ]] && break; sleep 0.05; done
  node "$here/driver.js" "$mode" "$(cat "$dir/listen.addr")" "$key" "$receiver" "$count"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}
deliveries_line=$(run_argus deliveries "$n_deliveries")

# Catch-up: the events of N_DELIVERIES submitted tasks wait in the outbox of a server with
# webhooks.dispatch false; the same data directory served again delivers them.
catchup_dir="$work/argus-catchup"
start_argus() {
  "$@" ARGUS_ADMIN_KEY="$key" ARGUS_HTTP_ACCESS_LOG=false ARGUS_LOG_LEVEL=error \
    ARGUS_INFERENCE_PRELOAD=false ARGUS_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true \
    "$root/build/argus" serve --listen 127.0.0.1:0 --data-dir "$catchup_dir" &
  argus_pid=$!
  pids+=($argus_pid)
  for _ in $(seq 1 200); do [[ -s "$catchup_dir/listen.addr" ]] && break; sleep 0.05; done
}
start_argus env ARGUS_WEBHOOKS_DISPATCH=false
read -r _ hook < <(node "$here/driver.js" outbox "$(cat "$catchup_dir/listen.addr")" "$key" \
  "$receiver" "$n_deliveries")
kill "$argus_pid"
wait "$argus_pid" 2>/dev/null || true
rm -f "$catchup_dir/listen.addr"
start_argus env
catchup_line=$(node "$here/driver.js" catchup "$(cat "$catchup_dir/listen.addr")" "$key" \
  "$receiver" "$n_deliveries" "$hook")
kill "$argus_pid"
wait "$argus_pid" 2>/dev/null || true
e2e_line=$(run_argus e2e "$n")

# The ceiling: wrk replays the first delivery the receiver got.
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1]));
  const fs = require("fs"), dir = process.argv[2];
  fs.writeFileSync(dir + "/sample.body", s.body);
  fs.writeFileSync(dir + "/sample.headers",
                   Object.entries(s.headers).map(([k, v]) => k + ": " + v + "\n").join(""));
  fs.writeFileSync(dir + "/sample.path", s.path);' "$work/sample.json" "$work"
export SAMPLE_PATH SAMPLE_BODY="$work/sample.body" SAMPLE_HEADERS="$work/sample.headers"
SAMPLE_PATH=$(cat "$work/sample.path")
wrk -t2 -c64 -d2s -s "$here/replay.lua" "$receiver" >/dev/null  # warm-up
wrk_out=$(wrk -t2 -c64 -d"${duration}s" -s "$here/replay.lua" "$receiver")
errors=$(grep -E 'Non-2xx|Socket errors' <<<"$wrk_out" || true)
[[ -n "$errors" ]] && echo "bench: wrk: $errors" >&2
ceiling=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$wrk_out")

read -r _ dn ds drate dreq dlog <<<"$deliveries_line"
read -r _ en es erate eframes ereq elog <<<"$e2e_line"
read -r _ cn cs crate creq clog <<<"$catchup_line"
echo
echo "bench/webhooks: one local Node http receiver, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-44s %10s %9s %10s\n' run count seconds per_s
printf '%-44s %10s %9s %10s\n' "argus deliveries (task.created, queue paused)" "$dn" "$ds" "$drate"
printf '%-44s %10s %9s %10s\n' "receiver ceiling (wrk -t2 -c64, same request)" "-" \
  "$duration" "$ceiling"
awk -v a="$drate" -v c="$ceiling" 'BEGIN{printf "ratio deliveries/ceiling: %.2fx (target >= 10,000 deliveries/s)\n", a/c}'
printf '%-44s %10s %9s %10s\n' "argus catch-up (events waiting in the outbox)" "$cn" "$cs" \
  "$crate"
awk -v a="$crate" -v c="$ceiling" 'BEGIN{printf "ratio catch-up/ceiling: %.2fx (target >= 10,000 deliveries/s)\n", a/c}'
printf '%-44s %10s %9s %10s\n' "end to end: tasks + webhook + WebSocket" "$en" "$es" "$erate"
echo "target >= 5,000 tasks/s end to end"
echo "deliveries run: $dreq POSTs for $dn events, $dlog succeeded in the delivery log"
echo "catch-up run: $creq POSTs for $cn events, $clog succeeded in the delivery log"
echo "end-to-end run: $ereq POSTs and $eframes WebSocket frames for $en tasks," \
  "$elog succeeded in the delivery log"
