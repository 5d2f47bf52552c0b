"""Submits N no-op Celery tasks and waits for every result. Prints: celery <N> <s> <tasks/s>."""
import sys
import time

from celery_app import noop

n = int(sys.argv[1])
start = time.monotonic()
results = [noop.delay() for _ in range(n)]
for r in results:
    r.get(timeout=600)
elapsed = time.monotonic() - start
print("celery %d %.3f %.0f" % (n, elapsed, n / elapsed))
