#!/usr/bin/env bash
# bench/io: small requests while slow work runs. Argus keeps its blobs on tests/s3/fake_s3.py (an
# S3 server that answers late on command); a resumable upload of SIZE_MIB is completed while wrk
# measures /healthz, GET /v1/whoami and GET /v1/buckets/{bucket} (a store read) one after the
# other, in three phases: idle; the completion running while every S3 request takes DELAY_MS
# (the I/O threads must not wait for it); the completion copying at full speed once S3 answers
# at once (CPU and disk busy). Prints req/s, p50 and p99 per route and phase (target p99 < 50 ms).
#   SIZE_MIB=2048 DELAY_MS=5000 DURATION=5 CONNECTIONS=8 bench/io/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/bench/io"
size_mib=${SIZE_MIB:-2048}
delay_ms=${DELAY_MS:-5000}
duration=${DURATION:-5}
connections=${CONNECTIONS:-8}
part_mib=64

[[ -x "$root/build/argus" ]] || { echo "bench: $root/build/argus is missing; run 'make build' first" >&2; exit 1; }
for tool in curl wrk python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (SETUP_BENCH=1 scripts/setup.sh)" >&2; exit 1; }
done
source "$root/bench/lib.sh"
bench_workdir io

mkdir -p "$work/s3"
python3 "$root/tests/s3/fake_s3.py" --dir "$work/s3" &
pids+=($!)
for _ in $(seq 1 200); do [[ -s "$work/s3/port" ]] && break; sleep 0.05; done
s3="http://127.0.0.1:$(cat "$work/s3/port")"

export BENCH_KEY="bench-key-$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
export BENCH_NS=bench
ARGUS_ADMIN_KEY="$BENCH_KEY" ARGUS_HTTP_ACCESS_LOG=false ARGUS_LOG_LEVEL=warn ARGUS_INFERENCE_PRELOAD=false \
  ARGUS_BLOBS_BACKEND=s3 ARGUS_BLOBS_S3_ENDPOINT="$s3" ARGUS_BLOBS_S3_BUCKET=argus-test \
  ARGUS_BLOBS_S3_ACCESS_KEY_ID=bench ARGUS_BLOBS_S3_SECRET_ACCESS_KEY=bench-secret \
  "$root/build/argus" serve --listen 127.0.0.1:0 --data-dir "$work/argus" &
pids+=($!)
for _ in $(seq 1 200); do [[ -s "$work/argus/listen.addr" ]] && break; sleep 0.05; done
url=$(cat "$work/argus/listen.addr")
auth=(-H "Authorization: Bearer $BENCH_KEY" -H "X-Namespace: $BENCH_NS")
json=(-H 'Content-Type: application/json')
curl -sSf -o /dev/null -H "Authorization: Bearer $BENCH_KEY" "${json[@]}" -d "{\"name\":\"$BENCH_NS\"}" "$url/v1/namespaces"
curl -sSf -o /dev/null "${auth[@]}" "${json[@]}" -d '{"name":"bench"}' "$url/v1/buckets"

# The parts: one 64 MiB random part sent SIZE_MIB/64 times (the blob store keeps it once; the
# completion still reads and writes SIZE_MIB).
head -c $((part_mib << 20)) /dev/urandom >"$work/part.bin"
parts=$((size_mib / part_mib))
sha256=$(python3 -c 'import hashlib,sys; p=open(sys.argv[1],"rb").read(); h=hashlib.sha256(); [h.update(p) for _ in range(int(sys.argv[2]))]; print(h.hexdigest())' "$work/part.bin" "$parts")
upload=$(curl -sSf "${auth[@]}" "${json[@]}" -d '{"key":"big.bin"}' "$url/v1/buckets/bench/uploads" |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "bench: sending $parts parts of $part_mib MiB" >&2
for n in $(seq 1 "$parts"); do
  curl -sSf -o /dev/null "${auth[@]}" -T "$work/part.bin" "$url/v1/buckets/bench/uploads/$upload/parts/$n"
done

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }
routes=(/healthz /v1/whoami /v1/buckets/bench)
declare -A rps p50 p99 errors
measure() {
  local phase=$1 route out
  for route in "${routes[@]}"; do
    out=$(wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$here/get.lua" "$url$route")
    rps[$phase,$route]=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
    p50[$phase,$route]=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)
    p99[$phase,$route]=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
    errors[$phase,$route]=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | paste -sd';' || true)
  done
}
task_status() {
  curl -sSf "${auth[@]}" "$url$task" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["status"], "%.0f%%" % (100 * t["progress"]["fraction"]))'
}

measure idle
curl -sSf -o /dev/null -X POST "$s3/_control?delay_ms=$delay_ms"
task=$(curl -sSf "${auth[@]}" "${json[@]}" -d "{\"sha256\":\"$sha256\"}" \
         "$url/v1/buckets/bench/uploads/$upload/complete" -D "$work/complete.head" -o /dev/null &&
       awk 'tolower($1)=="location:" {print $2}' "$work/complete.head" | tr -d '\r')
measure slow_s3
slow_state=$(task_status)
curl -sSf -o /dev/null -X POST "$s3/_control?delay_ms=0"
measure copying
copy_state=$(task_status)
final=$(curl -sSf "${auth[@]}" -H 'Prefer: wait=600' "$url$task" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["status"])')

echo
echo "bench/io, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ): a ${size_mib} MiB resumable upload completing on S3"
echo "(fake_s3.py), wrk -t1 -c$connections -d${duration}s per route; target p99 < 50 ms"
echo "  idle: no completion; slow_s3: every S3 request answered after ${delay_ms} ms (task: $slow_state);"
echo "  copying: S3 at full speed, the completion copying (task: $copy_state); task finally: $final"
printf '  %-9s %-20s %9s %9s %9s  %s\n' phase route req/s p50_ms p99_ms errors
for phase in idle slow_s3 copying; do
  for route in "${routes[@]}"; do
    printf '  %-9s %-20s %9s %9s %9s  %s\n' "$phase" "$route" "${rps[$phase,$route]}" \
      "${p50[$phase,$route]}" "${p99[$phase,$route]}" "${errors[$phase,$route]:-}"
  done
done
