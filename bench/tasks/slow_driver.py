"""Slow tasks: N `sleep` tasks of S seconds on the server's C cpu slots. Prints one line:
slow <N> <wall_s> <ideal_s> <first_visible_s> <max_attempt>
where ideal_s = ceil(N / C) * S and first_visible_s is when the first finished task could be
seen as succeeded through the API (from submission)."""
import math
import sys
import time

from argus_client import Client

url, key, n, seconds, slots = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), \
    int(sys.argv[5])
client = Client(url, key)
call = client.call
client.ensure_namespace()
start = time.monotonic()
reply = call("POST", "/v1/tasks/batch",
             {"tasks": [{"kind": "sleep", "input": {"seconds": seconds}} for _ in range(n)]})
ids = [t["id"] for t in reply["tasks"]]
first_visible = None
while first_visible is None:
    page = call("GET", "/v1/tasks?status=succeeded&kind=sleep&limit=1")
    if page["items"]:
        first_visible = time.monotonic() - start
    else:
        time.sleep(0.01)
call("GET", "/v1/tasks/%s" % ids[-1])
while True:
    queues = {q["queue"]: q for q in call("GET", "/v1/queues")["items"]}
    q = queues.get("cpu", {"pending": 0, "scheduled": 0, "running": 0})
    if q["pending"] + q["scheduled"] + q["running"] == 0:
        break
    time.sleep(0.05)
wall = time.monotonic() - start
max_attempt = 0
cursor = None
while True:
    page = call("GET", "/v1/tasks?limit=1000" + ("&cursor=" + cursor if cursor else ""))
    for t in page["items"]:
        max_attempt = max(max_attempt, t["attempt"])
    cursor = page.get("next_cursor")
    if not cursor:
        break
ideal = math.ceil(n / slots) * seconds
print("slow %d %.2f %.2f %.2f %d" % (n, wall, ideal, first_visible, max_attempt))
