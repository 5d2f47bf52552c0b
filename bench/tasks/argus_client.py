"""The few lines the bench drivers share: one JSON call to Argus with the bench namespace."""
import json
import urllib.error
import urllib.request


class Client:
    def __init__(self, url, key, namespace="bench"):
        self.url, self.key, self.namespace = url, key, namespace

    def call(self, method, path, body=None, namespace=True, extra=None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header("Authorization", "Bearer " + self.key)
        if namespace:
            req.add_header("X-Namespace", self.namespace)
        req.add_header("Content-Type", "application/json")
        for name, value in (extra or {}).items():
            req.add_header(name, value)
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read() or b"null")

    def ensure_namespace(self):
        try:
            self.call("POST", "/v1/namespaces", {"name": self.namespace}, namespace=False)
        except urllib.error.HTTPError:
            pass  # it exists already
