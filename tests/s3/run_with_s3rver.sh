#!/usr/bin/env bash
# Runs a test command against a throw-away S3 server:
#   tests/s3/run_with_s3rver.sh [--no-blob-check] [--virtual-host] <command> [args...]
# Starts s3rver (web/node_modules, installed by scripts/setup.sh's `npm ci`; nothing is installed
# here) on 127.0.0.1 with a random port and a temporary directory, with bucket argus-test,
# exports ARGUS_TEST_S3_* for the command, runs it, and then, when the AWS CLI is installed,
# checks that a blob Argus wrote reads back through `aws s3 cp` with the bytes its name (their
# SHA-256) promises; --no-blob-check leaves that out, for commands that write no blobs.
# --virtual-host points the command at http://s3.localhost:<port> with ARGUS_TEST_S3_PATH_STYLE
# false, so requests go to <bucket>.s3.localhost (libcurl resolves *.localhost to loopback itself)
# and s3rver (--service-endpoint localhost) takes the bucket from the Host header.
# When s3rver is not installed it exits 77 (a CTest skip) on a developer's machine, but fails
# (exit 1) under CI (CI set to anything but "", 0 or false): there a missing server means the
# setup is broken, never a reason to pass. The same holds for the AWS CLI of the cross-check.
# ARGUS_S3RVER names another s3rver executable (tests/s3/run_with_s3rver_test.sh uses it).
set -euo pipefail

# Exits 77 (skipped) on a developer's machine, 1 under CI, after saying why.
missing() {
  case "${CI:-}" in
    "" | 0 | false)
      echo "run_with_s3rver: $1 (run scripts/setup.sh); skipping" >&2
      exit 77
      ;;
    *)
      echo "run_with_s3rver: $1 (run scripts/setup.sh); failing: CI=$CI never skips" >&2
      exit 1
      ;;
  esac
}

blob_check=1
virtual_host=0
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --no-blob-check) blob_check=0 ;;
    --virtual-host) virtual_host=1 ;;
    *) echo "run_with_s3rver: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

root=$(cd "$(dirname "$0")/../.." && pwd)
s3rver="${ARGUS_S3RVER:-$root/web/node_modules/.bin/s3rver}"
[[ -x "$s3rver" ]] || missing "$s3rver is missing"
(($#)) || { echo "usage: $0 <command> [args...]" >&2; exit 2; }

bucket=argus-test
tmp=$(mktemp -d "${TMPDIR:-/tmp}/argus-s3rver-XXXXXX")
pid=
cleanup() {
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$tmp/data"
# s3rver 3.7.1 makes ListObjectsV2 continuation tokens with DES, which Node >= 17 (OpenSSL 3) only
# offers through the legacy provider: without it every truncated listing is a 500.
export NODE_OPTIONS="--openssl-legacy-provider${NODE_OPTIONS:+ $NODE_OPTIONS}"
"$s3rver" -d "$tmp/data" -a 127.0.0.1 -p 0 --service-endpoint localhost --configure-bucket "$bucket" >"$tmp/s3rver.log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*S3rver listening on 127\.0\.0\.1:\([0-9]\+\).*/\1/p' "$tmp/s3rver.log" | head -1)
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "run_with_s3rver: s3rver did not start:" >&2
  cat "$tmp/s3rver.log" >&2
  exit 1
fi
endpoint="http://127.0.0.1:$port"
echo "run_with_s3rver: s3rver at $endpoint, bucket $bucket"

export ARGUS_TEST_S3_ENDPOINT="$endpoint" ARGUS_TEST_S3_BUCKET="$bucket"
if ((virtual_host)); then
  export ARGUS_TEST_S3_ENDPOINT="http://s3.localhost:$port" ARGUS_TEST_S3_PATH_STYLE=false
fi
export ARGUS_TEST_S3_REGION=us-east-1
export ARGUS_TEST_S3_ACCESS_KEY_ID=S3RVER ARGUS_TEST_S3_SECRET_ACCESS_KEY=S3RVER
"$@"

if ((!blob_check)); then
  exit 0
fi
command -v aws >/dev/null 2>&1 || missing "no aws CLI for the cross-check"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
key=$(aws --endpoint-url "$endpoint" s3api list-objects-v2 --bucket "$bucket" \
        --query 'Contents[].Key' --output text | tr '\t' '\n' |
      grep -E '/blobs/[0-9a-f]{64}$' | sort | tail -1 || true)
if [[ -z "$key" ]]; then
  echo "run_with_s3rver: the command left no blob in the bucket to cross-check" >&2
  exit 1
fi
aws --endpoint-url "$endpoint" s3 cp --only-show-errors "s3://$bucket/$key" "$tmp/blob"
got=$(sha256sum "$tmp/blob" | cut -d' ' -f1)
if [[ "$got" != "${key##*/}" ]]; then
  echo "run_with_s3rver: aws s3 cp of $key read bytes with SHA-256 $got" >&2
  exit 1
fi
echo "run_with_s3rver: aws s3 cp read $key back intact ($(stat -c %s "$tmp/blob") bytes)"
