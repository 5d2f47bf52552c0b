#!/usr/bin/env python3
"""A tiny Argus worker in Python 3, standard library only.

It leases tasks of the kinds it knows, runs them, heartbeats while they run, and reports the
result or the error. Bring your own kinds by adding functions to HANDLERS.

    ARGUS_URL=http://127.0.0.1:7070 ARGUS_API_KEY=... python3 examples/worker.py --kinds text.upper

Options: --max-tasks N stops after N tasks (tests), --wait S long-poll seconds, --publish
publishes the kinds (description and input schema) to the task catalog first (a global admin
key), so Argus checks each submission's input and lists the kinds at GET /v1/task-kinds.
"""
import argparse
import json
import os
import socket
import sys
import threading
import urllib.error
import urllib.request


def upper(task, heartbeat):
    """text.upper: {"text": "abc"} -> {"text": "ABC"}."""
    text = task["input"].get("text")
    if not isinstance(text, str):
        raise TaskError("invalid_argument", "input.text must be a string", retryable=False)
    heartbeat(0.5, "uppercasing")
    return {"text": text.upper()}


def fail(task, heartbeat):
    """text.fail: always fails (to see retries and the dead-letter list)."""
    raise TaskError("always_fails", "this kind never succeeds")


HANDLERS = {"text.upper": upper, "text.fail": fail}
# JSON Schema of each kind's input, published with --publish.
INPUT_SCHEMAS = {
    "text.upper": {"type": "object", "required": ["text"],
                   "properties": {"text": {"type": "string"}}},
    "text.fail": {"type": "object"},
}


class TaskError(Exception):
    def __init__(self, code, message, retryable=True):
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable


class Client:
    def __init__(self, url, key, namespace=None):
        self.url, self.key, self.namespace = url.rstrip("/"), key, namespace

    def post(self, path, body, timeout=90):
        return self.call("POST", path, body, timeout)

    def call(self, method, path, body, timeout=90):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", "Bearer " + self.key)
        if self.namespace:
            req.add_header("X-Namespace", self.namespace)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def run_task(client, task, lease_s):
    lost = threading.Event()

    def heartbeat(progress=None, message=None):
        body = {"lease_id": task["lease_id"], "extend_s": lease_s}
        if progress is not None:
            body["progress"] = progress
        if message is not None:
            body["message"] = message
        status, answer = client.post("/v1/tasks/%s/heartbeat" % task["id"], body)
        if status != 200 or answer.get("cancel_requested"):
            lost.set()  # cancelled, or the lease moved on: stop working on it
        return not lost.is_set()

    handler = HANDLERS.get(task["kind"])
    try:
        if handler is None:
            raise TaskError("unimplemented", "no handler for " + task["kind"], retryable=False)
        result = handler(task, heartbeat)
        status, _ = client.post("/v1/tasks/%s/complete" % task["id"],
                                {"lease_id": task["lease_id"], "result": result})
    except TaskError as e:
        status, _ = client.post("/v1/tasks/%s/fail" % task["id"],
                                {"lease_id": task["lease_id"], "retryable": e.retryable,
                                 "error": {"code": e.code, "message": e.message}})
    except Exception as e:  # a bug in a handler is an error of this attempt, not of the worker
        status, _ = client.post("/v1/tasks/%s/fail" % task["id"],
                                {"lease_id": task["lease_id"],
                                 "error": {"code": "internal", "message": repr(e)}})
    return status == 200


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get("ARGUS_URL", "http://127.0.0.1:7070"))
    p.add_argument("--key", default=os.environ.get("ARGUS_API_KEY"))
    p.add_argument("--namespace", default=os.environ.get("ARGUS_NAMESPACE"))
    p.add_argument("--kinds", default=",".join(HANDLERS))
    p.add_argument("--queues", default="")
    p.add_argument("--worker-id", default="py-%s-%d" % (socket.gethostname(), os.getpid()))
    p.add_argument("--max-tasks", type=int, default=0, help="stop after this many (0: never)")
    p.add_argument("--wait", type=float, default=20)
    p.add_argument("--lease", type=float, default=30)
    p.add_argument("--publish", action="store_true", help="publish the kinds to the catalog")
    args = p.parse_args()
    if not args.key:
        sys.exit("worker: set --key or ARGUS_API_KEY")
    client = Client(args.url, args.key, args.namespace)
    if args.publish:
        for kind in args.kinds.split(","):
            body = {"description": (HANDLERS[kind].__doc__ or "").strip(),
                    "input_schema": INPUT_SCHEMAS.get(kind, {})}
            if args.queues:
                body["queues"] = args.queues.split(",")
            status, answer = client.call("PUT", "/v1/task-kinds/" + kind, body)
            if status not in (200, 201):
                sys.exit("worker: publishing %s failed: %s %s" % (kind, status, answer))
    done = 0
    while args.max_tasks == 0 or done < args.max_tasks:
        want = 10 if args.max_tasks == 0 else min(10, args.max_tasks - done)
        body = {"worker_id": args.worker_id, "kinds": args.kinds.split(","),
                "max_tasks": want, "wait_s": args.wait, "lease_s": args.lease}
        if args.queues:
            body["queues"] = args.queues.split(",")
        status, answer = client.post("/v1/workers/lease", body)
        if status != 200:
            sys.exit("worker: lease failed: %s %s" % (status, answer))
        for task in answer["tasks"]:
            run_task(client, task, args.lease)
            done += 1
    print("worker: ran %d tasks" % done)


if __name__ == "__main__":
    main()
