#!/usr/bin/env bash
# `make run`: start argus serve in the foreground and tell the user where to look.
set -euo pipefail
bin=${1:-build/argus}
data=${2:-./argus-data}
listen=${3:-127.0.0.1:7070}
url="http://${listen}"

mkdir -p "$data"
cat <<EOF

  Argus is starting at ${url}
  API docs:        ${url}/docs
  Metrics:         ${url}/metrics
  Admin key:       $(realpath "$data")/admin.key  (created on first start, mode 0600)

  Try:
    curl -s ${url}/healthz
    curl -s -H "Authorization: Bearer \$(cat ${data}/admin.key)" ${url}/v1/whoami
    curl -s -H "Authorization: Bearer \$(cat ${data}/admin.key)" -H 'Content-Type: application/json' \\
         -d '{"name":"media-team"}' ${url}/v1/namespaces

  Ctrl-C stops it (in-flight requests finish first).

EOF
exec "$bin" serve --listen "$listen" --data-dir "$data"
