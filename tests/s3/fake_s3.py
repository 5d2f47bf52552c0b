#!/usr/bin/env python3
"""A small S3-compatible server for tests that need an S3 backend to misbehave on command.

  fake_s3.py --dir DIR [--bucket NAME] [--ignore-range]

Listens on 127.0.0.1 with a free port, which it writes to DIR/port (atomically). Speaks
path-style S3 with just what Argus's blob store uses: HEAD bucket; PUT, GET (with Range), HEAD and
DELETE of objects; server-side copy (x-amz-copy-source); multipart uploads (initiate, part,
complete, abort); ListObjectsV2. Signatures are not checked (as s3rver does not). Objects are
files under DIR, so gigabytes cost disk, not memory.

Control requests, for the test driving it:
  POST /_control?delay_ms=N   answer every later S3 request N ms after reading it (0: at once)
  GET  /_control              {"requests": n, "bytes_sent": n, "delay_ms": n} as JSON
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

CHUNK = 1 << 20


class State:
    def __init__(self, root, bucket, ignore_range):
        self.root = root
        self.bucket = bucket
        self.ignore_range = ignore_range
        self.delay_ms = 0
        self.requests = 0
        self.bytes_sent = 0
        self.lock = threading.Lock()
        os.makedirs(os.path.join(root, "objects"), exist_ok=True)
        os.makedirs(os.path.join(root, "uploads"), exist_ok=True)
        os.makedirs(os.path.join(root, "tmp"), exist_ok=True)

    def object_path(self, key):
        # Keys map to one flat directory: hex of the key, so any key is a valid file name.
        return os.path.join(self.root, "objects", key.encode().hex())

    def keys(self):
        out = []
        for name in os.listdir(os.path.join(self.root, "objects")):
            out.append(bytes.fromhex(name).decode())
        return sorted(out, key=lambda k: k.encode())


def iso8601(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set in main

    def log_message(self, *args):
        pass

    # ---------------------------------------------------------------- plumbing
    def parts(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        path = unquote(url.path)
        segments = path.lstrip("/").split("/", 1)
        bucket = segments[0]
        key = segments[1] if len(segments) > 1 else ""
        return bucket, key, query

    def body_to(self, path):
        """Streams the request body into `path`; returns its MD5 hex."""
        length = int(self.headers.get("Content-Length", "0"))
        md5 = hashlib.md5()
        tmp = os.path.join(self.state.root, "tmp", uuid.uuid4().hex)
        with open(tmp, "wb") as out:
            while length > 0:
                piece = self.rfile.read(min(CHUNK, length))
                if not piece:
                    raise ConnectionError("short body")
                md5.update(piece)
                out.write(piece)
                length -= len(piece)
        os.replace(tmp, path)
        return md5.hexdigest()

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length) if length > 0 else b""

    def answer(self, status, body=b"", headers=None, content_type="application/xml"):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
            with self.state.lock:
                self.state.bytes_sent += len(body)

    def error(self, status, code, message):
        body = f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>".encode()
        self.answer(status, body)

    def delay(self):
        with self.state.lock:
            self.state.requests += 1
            ms = self.state.delay_ms
        if ms > 0:
            time.sleep(ms / 1000)

    def control(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if self.command == "POST":
            self.read_body()
            with self.state.lock:
                self.state.delay_ms = int(query.get("delay_ms", ["0"])[0])
        with self.state.lock:
            stats = {"requests": self.state.requests, "bytes_sent": self.state.bytes_sent,
                     "delay_ms": self.state.delay_ms}
        self.answer(200, json.dumps(stats).encode(), content_type="application/json")

    def dispatch(self):
        if self.path.startswith("/_control"):
            return self.control()
        bucket, key, query = self.parts()
        # Read what the request carries before waiting, as a slow server would.
        if self.command == "PUT" and key and "x-amz-copy-source" not in self.headers:
            return self.put(key, query)
        self.delay()
        if bucket != self.state.bucket:
            self.read_body()
            return self.error(404, "NoSuchBucket", f"no bucket {bucket}")
        if not key:
            if self.command == "HEAD":
                return self.answer(200)
            if self.command == "GET":
                return self.list(query)
            return self.error(405, "MethodNotAllowed", "bucket method")
        if self.command == "PUT":
            return self.copy(key)
        if self.command == "POST" and "uploads" in query:
            self.read_body()
            upload = uuid.uuid4().hex
            os.makedirs(os.path.join(self.state.root, "uploads", upload))
            return self.answer(200, (
                "<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key>"
                "<UploadId>%s</UploadId></InitiateMultipartUploadResult>"
                % (escape(bucket), escape(key), upload)).encode())
        if self.command == "POST" and "uploadId" in query:
            return self.complete(key, query["uploadId"])
        if self.command == "DELETE":
            self.read_body()
            if "uploadId" in query:
                shutil.rmtree(os.path.join(self.state.root, "uploads", query["uploadId"]),
                              ignore_errors=True)
                return self.answer(204)
            try:
                os.remove(self.state.object_path(key))
            except FileNotFoundError:
                pass
            return self.answer(204)
        if self.command in ("GET", "HEAD"):
            return self.get(key)
        return self.error(405, "MethodNotAllowed", self.command)

    # ---------------------------------------------------------------- operations
    def put(self, key, query):
        if "uploadId" in query:
            folder = os.path.join(self.state.root, "uploads", query["uploadId"])
            if not os.path.isdir(folder):
                self.read_body()
                self.delay()
                return self.error(404, "NoSuchUpload", "no such upload")
            etag = self.body_to(os.path.join(folder, "%05d" % int(query["partNumber"])))
        else:
            etag = self.body_to(self.state.object_path(key))
        self.delay()
        self.answer(200, headers={"ETag": '"%s"' % etag})

    def copy(self, key):
        self.read_body()
        source = unquote(self.headers["x-amz-copy-source"]).lstrip("/").split("/", 1)
        src = self.state.object_path(source[1] if len(source) > 1 else "")
        if not os.path.exists(src):
            return self.error(404, "NoSuchKey", "no copy source")
        tmp = os.path.join(self.state.root, "tmp", uuid.uuid4().hex)
        os.link(src, tmp)  # objects are never written in place: a link is a copy
        os.replace(tmp, self.state.object_path(key))
        now = iso8601(time.time())
        self.answer(200, ("<CopyObjectResult><LastModified>%s</LastModified><ETag>\"x\"</ETag>"
                          "</CopyObjectResult>" % now).encode())

    def complete(self, key, upload):
        body = self.read_body().decode()
        folder = os.path.join(self.state.root, "uploads", upload)
        if not os.path.isdir(folder):
            return self.error(404, "NoSuchUpload", "no such upload")
        numbers = [int(n) for n in re.findall(r"<PartNumber>(\d+)</PartNumber>", body)]
        tmp = os.path.join(self.state.root, "tmp", uuid.uuid4().hex)
        with open(tmp, "wb") as out:
            for n in numbers:
                with open(os.path.join(folder, "%05d" % n), "rb") as part:
                    shutil.copyfileobj(part, out, CHUNK)
        os.replace(tmp, self.state.object_path(key))
        shutil.rmtree(folder, ignore_errors=True)
        self.answer(200, ("<CompleteMultipartUploadResult><Key>%s</Key><ETag>\"x\"</ETag>"
                          "</CompleteMultipartUploadResult>" % escape(key)).encode())

    def get(self, key):
        path = self.state.object_path(key)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return self.error(404, "NoSuchKey", "no such key")
        size = st.st_size
        first, last, status = 0, size - 1, 200
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if match and not self.state.ignore_range and size > 0:
            a, b = match.groups()
            if a == "":
                first = max(0, size - int(b))
            else:
                first = int(a)
                last = min(int(b), size - 1) if b else size - 1
            status = 206
        headers = {"ETag": '"%x-%x"' % (st.st_ino, int(st.st_mtime)),
                   "Last-Modified": formatdate(st.st_mtime, usegmt=True),
                   "Accept-Ranges": "bytes"}
        if status == 206:
            headers["Content-Range"] = "bytes %d-%d/%d" % (first, last, size)
        length = max(0, last - first + 1)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command == "HEAD":
            return
        with open(path, "rb") as f:
            f.seek(first)
            left = length
            while left > 0:
                piece = f.read(min(CHUNK, left))
                if not piece:
                    break
                self.wfile.write(piece)
                left -= len(piece)
                with self.state.lock:
                    self.state.bytes_sent += len(piece)

    def list(self, query):
        prefix = query.get("prefix", "")
        after = query.get("continuation-token") or query.get("start-after", "")
        max_keys = int(query.get("max-keys", "1000"))
        keys = [k for k in self.state.keys()
                if k.startswith(prefix) and k.encode() > after.encode()]
        page, truncated = keys[:max_keys], len(keys) > max_keys
        items = []
        for k in page:
            st = os.stat(self.state.object_path(k))
            items.append("<Contents><Key>%s</Key><Size>%d</Size><LastModified>%s</LastModified>"
                         "</Contents>" % (escape(k), st.st_size, iso8601(st.st_mtime)))
        body = "<ListBucketResult>%s<IsTruncated>%s</IsTruncated>%s</ListBucketResult>" % (
            "".join(items), "true" if truncated else "false",
            "<NextContinuationToken>%s</NextContinuationToken>" % escape(page[-1])
            if truncated else "")
        self.answer(200, body.encode())

    def handle_one(self):
        try:
            self.dispatch()
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--bucket", default="argus-test")
    parser.add_argument("--ignore-range", action="store_true")
    args = parser.parse_args()
    Handler.state = State(args.dir, args.bucket, args.ignore_range)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    with open(os.path.join(args.dir, "port.tmp"), "w") as f:
        f.write("%d\n" % port)
    os.replace(os.path.join(args.dir, "port.tmp"), os.path.join(args.dir, "port"))
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
