#!/usr/bin/env bash
# bench/tasks: durable no-op tasks end to end (HTTP submit in batches → executed → succeeded)
# on Argus, against Celery 5 + Redis (AOF, acks_late) on the same machine in the same run.
# Then slow tasks: SLOW_N sleep tasks of SLOW_S seconds on the 2 cpu slots, wall time against the
# ideal (target <= 1.1x), when the first result became visible (target <= 1.5 s), and the
# highest attempt number seen (1: no task ran twice).
#   N=50000 CELERY_N=2000 SLOW_N=100 SLOW_S=1 bench/tasks/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${N:-50000}
celery_n=${CELERY_N:-2000}
source "$root/bench/lib.sh"
bench_workdir tasks

key="bench-key-$(head -c 24 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
ARGUS_ADMIN_KEY="$key" ARGUS_HTTP_ACCESS_LOG=false ARGUS_LOG_LEVEL=warn ARGUS_INFERENCE_PRELOAD=false \
  "$root/build/argus" serve --listen 127.0.0.1:0 --data-dir "$work/argus" &
pids+=($!)
for _ in $(seq 1 200); do [[ -s "$work/argus/listen.addr" ]] && break; sleep 0.05; done
url=$(cat "$work/argus/listen.addr")
argus_line=$(/usr/bin/python3 "$root/bench/tasks/argus_driver.py" "$url" "$key" "$n" 1000)
slow_line=$(/usr/bin/python3 "$root/bench/tasks/slow_driver.py" "$url" "$key" "${SLOW_N:-100}" \
  "${SLOW_S:-1}" 2)

redis_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --appendonly yes \
  --appendfsync everysec --save '' --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
export BENCH_REDIS="redis://127.0.0.1:$redis_port/0"
(cd "$root/bench/tasks" && exec /usr/bin/python3 -m celery -A celery_app worker -c 2 \
   --loglevel=warning >"$work/celery.log" 2>&1) &
pids+=($!)
sleep 3
celery_line=$(cd "$root/bench/tasks" && /usr/bin/python3 celery_driver.py "$celery_n")

echo
echo "bench/tasks: durable no-op tasks end to end, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-28s %8s %9s %10s\n' system tasks seconds tasks/s
read -r _ an as ar <<<"$argus_line"
read -r _ cn cs cr <<<"$celery_line"
printf '%-28s %8s %9s %10s\n' "argus (sqlite, WAL)" "$an" "$as" "$ar"
printf '%-28s %8s %9s %10s\n' "celery+redis (acks_late)" "$cn" "$cs" "$cr"
awk -v a="$ar" -v c="$cr" 'BEGIN{printf "ratio argus/celery: %.1fx\n", a/c}'
read -r _ sn swall sideal sfirst sattempt <<<"$slow_line"
echo
echo "slow tasks: $sn x ${SLOW_S:-1} s on 2 cpu slots"
awk -v w="$swall" -v i="$sideal" -v f="$sfirst" -v a="$sattempt" 'BEGIN{
  printf "wall %.2f s, ideal %.2f s: %.3fx (target <= 1.1x)\n", w, i, w/i;
  printf "first result visible after %.2f s (target <= 1.5 s); highest attempt %d\n", f, a}'
