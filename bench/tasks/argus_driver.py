"""Submits N no-op tasks to Argus in HTTP batches and waits until every one has succeeded.
Prints one line: argus <N> <seconds> <tasks/s>."""
import json
import sys
import time
import urllib.error
import urllib.request

url, key, n, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def call(method, path, body=None, namespace="bench", extra=None):
    req = urllib.request.Request(url + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", "Bearer " + key)
    if namespace:
        req.add_header("X-Namespace", namespace)
    req.add_header("Content-Type", "application/json")
    for name, value in (extra or {}).items():
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read() or b"null")


try:
    call("POST", "/v1/namespaces", {"name": "bench"}, namespace=None)
except urllib.error.HTTPError:
    pass
start = time.monotonic()
sent = 0
last_id = None
while sent < n:
    k = min(batch, n - sent)
    reply = call("POST", "/v1/tasks/batch", {"tasks": [{"kind": "noop"} for _ in range(k)]})
    last_id = reply["tasks"][-1]["id"]
    sent += k
# Wait on the newest task (no polling: the server answers when it finishes), then confirm
# that nothing is left in the queue (tasks run in priority, then submission order).
call("GET", "/v1/tasks/%s" % last_id, extra={"Prefer": "wait=120"})
while True:
    queues = {q["queue"]: q for q in call("GET", "/v1/queues")["items"]}
    q = queues.get("cpu", {"pending": 0, "scheduled": 0, "running": 0})
    if q["pending"] + q["scheduled"] + q["running"] == 0:
        break
    time.sleep(0.01)
elapsed = time.monotonic() - start
print("argus %d %.3f %.0f" % (n, elapsed, n / elapsed))
