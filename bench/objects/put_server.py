"""A minimal durable PUT server, the small-object peer: for each PUT it streams the body into a
temporary file while hashing it (SHA-256), fdatasyncs, renames it under its hash and fsyncs the
directory, then answers 201 JSON, the same durability as Argus's blob commit without metadata.
Standard library only; one thread per connection, HTTP/1.1 keep-alive.
  python3 put_server.py <port> <dir>"""
import hashlib
import http.server
import json
import os
import sys

port, root = int(sys.argv[1]), sys.argv[2]
os.makedirs(os.path.join(root, "tmp"), exist_ok=True)
os.makedirs(os.path.join(root, "blobs"), exist_ok=True)
blob_dir_fd = os.open(os.path.join(root, "blobs"), os.O_RDONLY)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def do_PUT(self):
        left = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        tmp = os.path.join(root, "tmp", f"{os.getpid()}-{id(self)}-{left}.part")
        with open(tmp, "wb", buffering=0) as f:
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    return
                h.update(chunk)
                f.write(chunk)
                left -= len(chunk)
            os.fdatasync(f.fileno())
        digest = h.hexdigest()
        os.rename(tmp, os.path.join(root, "blobs", digest))
        os.fsync(blob_dir_fd)
        body = json.dumps({"key": self.path, "sha256": digest}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
