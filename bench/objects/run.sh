#!/usr/bin/env bash
# bench/objects: object uploads on Argus, same machine, same run.
#  1. one large object (1 GiB of random bytes, curl -T, streamed) against plain writes of the same
#     file on the same disk: dd conv=fsync (the primary ratio), copy + SHA-256 + fsync (Python),
#     and nginx WebDAV PUT (no hash, no fsync); best of RUNS, interleaved.
#  2. 10 KiB objects of distinct random bytes, 16 keep-alive clients (wrk), against a durable
#     Python PUT server (sha256 + fdatasync + rename + dir fsync) and nginx WebDAV PUT (no fsync).
#   SIZE_MIB=1024 RUNS=2 DURATION=10 CLIENTS=16 OBJ_BYTES=10240 bench/objects/run.sh
# PARTS=large or PARTS=small runs only that part (default: both).
# The temporary directory (data dirs, the 1 GiB file, the baseline copies) is made under
# BENCH_TMPDIR (default /tmp): point it at the disk you want to measure, not at a tmpfs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/bench/objects"
size_mib=${SIZE_MIB:-1024}
runs=${RUNS:-2}
duration=${DURATION:-10}
clients=${CLIENTS:-16}
obj_bytes=${OBJ_BYTES:-10240}
parts=${PARTS:-large small}

if [[ ! -x "$root/build/argus" ]]; then
  echo "bench: $root/build/argus is missing; run 'make build' first" >&2
  exit 1
fi
for tool in curl wrk nginx; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (SETUP_BENCH=1 scripts/setup.sh)" >&2; exit 1; }
done

source "$root/bench/lib.sh"
bench_workdir objects

fstype=$(df --output=fstype "$work" | tail -1)
[[ "$fstype" == tmpfs ]] && echo "bench: $work is on tmpfs: the disk is not measured (set BENCH_TMPDIR)" >&2

wait_port() {
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.05
  done
  echo "bench: nothing listens on port $1" >&2; return 1
}
now() { date +%s.%N; }
# CPU seconds (user + system) a process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

export BENCH_KEY="bench-key-$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
export BENCH_NS=bench
auth=(-H "Authorization: Bearer $BENCH_KEY")

# Argus: access log off, like nginx; models load on first use (none is used here), so their
# warm-up does not share the cores with the measurement; the default configuration otherwise.
ARGUS_ADMIN_KEY="$BENCH_KEY" ARGUS_HTTP_ACCESS_LOG=false ARGUS_LOG_LEVEL=warn ARGUS_INFERENCE_PRELOAD=false \
  "$root/build/argus" serve --listen 127.0.0.1:0 --data-dir "$work/argus" &
argus_pid=$!
pids+=("$argus_pid")
for _ in $(seq 1 200); do [[ -s "$work/argus/listen.addr" ]] && break; sleep 0.05; done
argus_url=$(cat "$work/argus/listen.addr")
curl -sSf -o /dev/null "${auth[@]}" -H 'Content-Type: application/json' \
  -d "{\"name\":\"$BENCH_NS\"}" "$argus_url/v1/namespaces"
curl -sSf -o /dev/null "${auth[@]}" -H "X-Namespace: $BENCH_NS" -H 'Content-Type: application/json' \
  -d '{"name":"bench"}' "$argus_url/v1/buckets"

nginx_port=$(free_port)
mkdir -p "$work/nginx-root/tmp" "$work/nginx-root/files"
# nginx workers run as another user (www-data) when started by root.
chmod 755 "$work"
chmod 777 "$work/nginx-root/tmp" "$work/nginx-root/files"
sed -e "s|@DIR@|$work|g" -e "s|@PORT@|$nginx_port|g" "$here/nginx.conf.in" >"$work/nginx.conf"
nginx -c "$work/nginx.conf" -e "$work/nginx-error.log"
wait_port "$nginx_port"

py_port=$(free_port)
/usr/bin/python3 "$here/put_server.py" "$py_port" "$work/pyput" 2>"$work/pyput.log" &
pids+=($!)
wait_port "$py_port"

# ---------------------------------------------------------------- 1. one large object
declare -A secs best all   # name → space-separated seconds of every run; best and all MiB/s
argus_cpu=()
if [[ " $parts " == *" large "* ]]; then
big="$work/big.bin"
echo "bench: writing ${size_mib} MiB of random bytes to $big ($fstype)" >&2
head -c "$((size_mib * 1048576))" /dev/urandom >"$big"
sync

for i in $(seq 1 "$runs"); do
  # Argus: fresh bytes every run (new SHA-256), so the blob store never takes its dedup path.
  dd if=/dev/urandom of="$big" bs=32 count=1 conv=notrunc status=none
  sync
  c0=$(cpu_s "$argus_pid")
  out=$(curl -sS -o "$work/resp.json" -w '%{http_code} %{time_total}' -T "$big" "${auth[@]}" \
          -H "X-Namespace: $BENCH_NS" "$argus_url/v1/buckets/bench/objects/large/$i.bin")
  argus_cpu+=("$(awk -v a="$c0" -v b="$(cpu_s "$argus_pid")" 'BEGIN{printf "%.2f", b-a}')")
  read -r code t <<<"$out"
  if [[ "$code" != 201 ]] || ! grep -q "\"size\":$((size_mib * 1048576))" "$work/resp.json"; then
    echo "bench: argus large upload answered $code: $(head -c 300 "$work/resp.json")" >&2; exit 1
  fi
  secs[argus]+="$t "

  sync
  t0=$(now)
  dd if="$big" of="$work/plain.bin" bs=1M conv=fsync status=none
  t1=$(now)
  secs[plain]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", b-a}') "
  rm -f "$work/plain.bin"

  sync
  secs[hash]+="$(/usr/bin/python3 "$here/copy_hash.py" "$big" "$work/hash.bin") "
  rm -f "$work/hash.bin"

  sync
  out=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' -T "$big" \
          "http://127.0.0.1:$nginx_port/large/$i.bin")
  read -r code t <<<"$out"
  [[ "$code" == 201 || "$code" == 204 ]] || { echo "bench: nginx large upload answered $code" >&2; exit 1; }
  secs[nginx]+="$t "
  rm -f "$work/nginx-root/files/large/$i.bin"
  sync
done
rm -f "$big"

# "MiB/s best (run1 run2 ...)" from a list of seconds.
rates() { awk -v mib="$size_mib" '{best=0; all=""; for (i=1;i<=NF;i++) {r=mib/$i; if (r>best) best=r; all=all sprintf("%s%.0f", (i>1?" ":""), r)}; printf "%.0f %s", best, all}' <<<"$1"; }
for name in argus plain hash nginx; do
  read -r b a <<<"$(rates "${secs[$name]}")"
  best[$name]=$b; all[$name]=$a
done
fi

# ---------------------------------------------------------------- 2. small objects
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }
declare -A ops p50 p99 total
small() {
  local name=$1 url=$2
  # A short warm-up (its own keys) so every server has its files, caches and connections ready.
  wrk -t2 -c"$clients" -d2s -s "$here/put.lua" "$url" -- warm "$obj_bytes" >/dev/null
  local out; out=$(wrk -t2 -c"$clients" -d"${duration}s" --latency -s "$here/put.lua" "$url" -- run "$obj_bytes")
  local errors; errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
  [[ -n "$errors" ]] && echo "bench: $name: $errors" >&2
  ops[$name]=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  total[$name]=$(awk '/requests in/ {print $1}' <<<"$out")
  p50[$name]=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)
  p99[$name]=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
}
if [[ " $parts " == *" small "* ]]; then
small argus "$argus_url/v1/buckets/bench/objects/small"
sync
small python "http://127.0.0.1:$py_port/small"
sync
small nginx "http://127.0.0.1:$nginx_port/small"
fi

# ---------------------------------------------------------------- table
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
echo
echo "bench/objects, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), data on $fstype ($work)"
if [[ " $parts " == *" large "* ]]; then
echo "large upload ${size_mib} MiB, best of $runs (each run in brackets):"
printf '  %-50s %7s %-13s %9s\n' system MiB/s "(runs)" vs_plain
printf '  %-50s %7s %-13s %9s\n' "argus PUT (curl -T; sha256, fdatasync)" "${best[argus]}" "(${all[argus]})" "$(ratio "${best[argus]}" "${best[plain]}")"
printf '  %-50s %7s %-13s %9s\n' "plain write (dd bs=1M conv=fsync)" "${best[plain]}" "(${all[plain]})" 1.00
printf '  %-50s %7s %-13s %9s\n' "write + sha256 + fsync (python hashlib)" "${best[hash]}" "(${all[hash]})" "$(ratio "${best[hash]}" "${best[plain]}")"
printf '  %-50s %7s %-13s %9s\n' "nginx WebDAV PUT (no hash, no fsync)" "${best[nginx]}" "(${all[nginx]})" "$(ratio "${best[nginx]}" "${best[plain]}")"
echo "  argus CPU seconds per upload: ${argus_cpu[*]}"
echo "  ratio argus/plain: $(ratio "${best[argus]}" "${best[plain]}") (target >= 0.8);" \
     "argus/(write+sha256): $(ratio "${best[argus]}" "${best[hash]}")"
fi
[[ " $parts " == *" small "* ]] || exit 0
echo "small objects $((obj_bytes / 1024)) KiB, distinct random bytes, $clients keep-alive clients (wrk -t2 -c$clients -d${duration}s):"
printf '  %-50s %9s %9s %8s %8s %9s\n' system objects/s objects p50_ms p99_ms vs_python
for s in "argus argus PUT (sha256, fdatasync, SQLite row)" \
         "python python PUT server (sha256, fdatasync, dir fsync)" \
         "nginx nginx WebDAV PUT (no fsync)"; do
  read -r name label <<<"$s"
  printf '  %-50s %9s %9s %8s %8s %9s\n' "$label" "${ops[$name]}" "${total[$name]}" "${p50[$name]}" \
    "${p99[$name]}" "$(ratio "${ops[$name]}" "${ops[python]}")x"
done
