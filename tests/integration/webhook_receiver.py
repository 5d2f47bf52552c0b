#!/usr/bin/env python3
"""A webhook receiver for the integration tests, verifying signatures on its own.

It checks each request the way the Standard Webhooks specification tells receivers to, with
Python's hmac (an implementation independent of Argus's). Everything lives in one directory:
  port       written once listening on 127.0.0.1 (port 0 is chosen by the kernel)
  secrets    whsec_ secrets, one per line, re-read for every request
  statuses   comma-separated HTTP statuses to answer, one per request (the last repeats);
             re-read for every request; 200 when absent
  log.jsonl  one line per request: id, timestamp, signature, body, matched (indices of the
             secrets whose signature is present), status
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
lock = threading.Lock()
count = 0


def read(name, default=""):
    try:
        with open(os.path.join(DIR, name)) as f:
            return f.read()
    except FileNotFoundError:
        return default


def matched_secrets(msg_id, timestamp, body, header):
    signed = f"{msg_id}.{timestamp}.".encode() + body
    given = [p.split(",", 1)[1] for p in header.split() if p.startswith("v1,")]
    matched = []
    for i, secret in enumerate(s.strip() for s in read("secrets").splitlines()):
        if not secret.startswith("whsec_"):
            continue
        key = base64.b64decode(secret[len("whsec_"):])
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, g) for g in given):
            matched.append(i)
    return matched


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            statuses = [int(s) for s in read("statuses", "200").strip().split(",") if s]
            status = statuses[min(count, len(statuses) - 1)]
            count += 1
            entry = {
                "path": self.path,
                "id": self.headers.get("webhook-id"),
                "timestamp": self.headers.get("webhook-timestamp"),
                "signature": self.headers.get("webhook-signature", ""),
                "content_type": self.headers.get("Content-Type"),
                "body": body.decode(),
                "matched": matched_secrets(self.headers.get("webhook-id"),
                                           self.headers.get("webhook-timestamp"), body,
                                           self.headers.get("webhook-signature", "")),
                "status": status,
            }
            with open(os.path.join(DIR, "log.jsonl"), "a") as f:
                f.write(json.dumps(entry) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tmp = os.path.join(DIR, "port.tmp")
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, os.path.join(DIR, "port"))
server.serve_forever()
