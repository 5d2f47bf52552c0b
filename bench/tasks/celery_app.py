"""The Celery + Redis peer for bench/tasks: the same no-op task, durable settings
(acks_late, prefetch 1: a crash loses nothing), results in Redis."""
import os

from celery import Celery

broker = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
app = Celery("bench", broker=broker, backend=broker)
app.conf.task_acks_late = os.environ.get("BENCH_ACKS_LATE", "1") == "1"
app.conf.worker_prefetch_multiplier = 1 if app.conf.task_acks_late else 4
app.conf.result_expires = 3600


@app.task
def noop():
    return None
