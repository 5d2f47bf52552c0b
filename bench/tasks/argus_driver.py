"""Submits N no-op tasks to Argus in HTTP batches and waits until every one has succeeded.
Prints one line: argus <N> <seconds> <tasks/s>."""
import sys
import time

from argus_client import Client

url, key, n, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
client = Client(url, key)
call = client.call
client.ensure_namespace()
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
