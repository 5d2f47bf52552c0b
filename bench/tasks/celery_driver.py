"""Submits N no-op Celery tasks and waits until every one has succeeded.
Prints: celery <N> <s> <tasks/s>.

Completion is read the way the Argus driver reads it: by looking at the backend now and then,
not by a blocking AsyncResult.get() per task, which adds a round trip per result and measured
about half the throughput on the same worker."""
import sys
import time

from celery_app import noop

n = int(sys.argv[1])
start = time.monotonic()
results = [noop.delay() for _ in range(n)]
pending = results
while pending:
    pending = [r for r in pending if r.state != "SUCCESS"]
    if pending:
        time.sleep(0.05)
elapsed = time.monotonic() - start
print("celery %d %.3f %.0f" % (n, elapsed, n / elapsed))
