#!/usr/bin/env bash
# The S3 wrapper tells the truth about a missing server: skipped (77) on a developer's machine,
# failed under CI. Runs the wrapper with an s3rver that does not exist.
set -uo pipefail
wrapper="$(cd "$(dirname "$0")" && pwd)/run_with_s3rver.sh"
absent=/nonexistent/s3rver
failures=0

expect() {  # expect <wanted exit code> <CI value> <description>
  local out code
  out=$(env CI="$2" ARGUS_S3RVER="$absent" bash "$wrapper" true 2>&1)
  code=$?
  if [[ "$code" != "$1" ]]; then
    echo "FAIL: $3: exit $code, wanted $1: $out"
    failures=$((failures + 1))
  else
    echo "ok: $3 (exit $code)"
  fi
}

expect 77 "" "no CI: a missing s3rver skips"
expect 77 false "CI=false: a missing s3rver skips"
expect 1 true "CI=true: a missing s3rver fails"
expect 1 1 "CI=1: a missing s3rver fails"
echo "$((4 - failures)) passed, $failures failed"
((failures == 0))
