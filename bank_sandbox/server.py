"""The sandbox as an HTTP server: the protocol interfaces under ``/api/v1/<interface>``, the admin API under
``/admin/<name>`` (token in ``X-Admin-Token``), the OpenAPI document at ``/openapi.json``.

``ThreadingHTTPServer`` with HTTP/1.1 keep-alive: one thread per connection, so a client's pool of
concurrent connections is served in parallel; the bank's rules themselves run one at a time in the store.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bank_sandbox import codes, wire
from bank_sandbox.admin_api import AdminApi
from bank_sandbox.engine import INTERFACES, MONEY_OPS, QUERY_OPS, Bank, failed
from bank_sandbox.faults import Faults
from bank_sandbox.store import Store

log = logging.getLogger(__name__)

DEMO_MERCHANT_ID = "HIS0001"
# Published demo keys (docs/bank-api.md): fine because the sandbox is not a bank. Never use them for real money.
DEMO_MERCHANT_KEY = "03478b259dce1c7a65b1f326e2db1b322ff7b3aa208af1948d488a556359f871"
DEMO_DATA_KEY = "dd6c31fa049bec79ce4b200e0e00f987"
DEMO_ADMIN_TOKEN = "sandbox-admin-demo"
NONCE_KEEP_MS = wire.MAX_SKEW_MS + 60_000


class Sandbox:
    """Everything one sandbox holds: its store and rules, faults, keys and admin token."""

    def __init__(self, db_path: str | Path, *, merchant_id: str = DEMO_MERCHANT_ID,
                 merchant_key: str = DEMO_MERCHANT_KEY, data_key: str = DEMO_DATA_KEY,
                 admin_token: str = DEMO_ADMIN_TOKEN, seed: int = 0, demo: bool = False) -> None:
        self.store = Store(db_path)
        self.bank = Bank(self.store)
        self.faults = Faults(seed)
        self.merchant_id = merchant_id
        self.keys = {merchant_id: bytes.fromhex(merchant_key)}
        self.data_keys = {merchant_id: bytes.fromhex(data_key)}
        self.admin_token = admin_token
        self.admin = AdminApi(self)
        self._requests = 0
        if demo:
            from bank_sandbox.demo import seed_demo

            seed_demo(self.bank)

    def api(self, interface: str, raw: bytes) -> tuple[str, int, bytes]:
        """One protocol request → (action, HTTP status, body); action is ``reply``, ``drop`` or ``refuse``."""
        if interface not in INTERFACES:
            return "reply", 404, _plain(failed(codes.UNKNOWN_INTERFACE))
        fired = {f.kind: f for f in self.faults.draw(interface)}
        delay = sum(f.delay_ms for f in self.faults_of(fired, "delay"))
        if delay:
            time.sleep(delay / 1000)
        if "refuse" in fired:
            return "refuse", 0, b""
        now_ms = int(time.time() * 1000)
        try:
            env = wire.parse_request(raw, interface, self.keys, now_ms)
        except wire.WireError as exc:
            return "reply", 200, self._envelope_error(raw, interface, exc, now_ms)
        result = self._execute(interface, env, fired, now_ms)
        if "drop_reply" in fired:
            return "drop", 0, b""
        if "garbage" in fired:
            return "reply", 200, b'{"version":"1","data":\x00\xff garbage'
        key = self.keys[env["merchant_id"]]
        return "reply", 200, wire.build_reply(key, env["merchant_id"], interface, env["nonce"], result,
                                              int(time.time() * 1000))

    @staticmethod
    def faults_of(fired: dict, kind: str) -> list:
        return [fired[kind]] if kind in fired else []

    def _execute(self, interface: str, env: dict[str, Any], fired: dict, now_ms: int) -> dict[str, Any]:
        mid = env["merchant_id"]

        def decrypt(field: str, token: Any) -> str:
            return wire.decrypt_field(self.data_keys[mid], mid, field, token)

        with self.store.tx():
            if self.store.one("SELECT 1 FROM nonce WHERE nonce = ?", env["nonce"]):
                return failed(codes.REPLAYED_NONCE)
            self.store.run("INSERT INTO nonce VALUES (?, ?)", env["nonce"], int(env["timestamp"]))
            self._prune_nonces(now_ms)
            error, processing, garbage = fired.get("error"), fired.get("processing"), fired.get("garbage")
            if processing and interface in QUERY_OPS:
                return {"status": "PROCESSING", "code": codes.PROCESSING, "message": codes.message(codes.PROCESSING)}
            if (error and not error.commit) or (garbage and not garbage.commit):
                return failed(error.code, error.message) if error else failed(codes.VALIDATION)
            try:
                result = self.bank.handle(interface, env["data"], decrypt)
            except wire.WireError as exc:
                return failed(exc.code, exc.message)
            if error:
                return failed(error.code, error.message)
            if processing and interface in MONEY_OPS:
                return {"status": "PROCESSING", "code": codes.PROCESSING, "message": codes.message(codes.PROCESSING)}
            return result

    def _prune_nonces(self, now_ms: int) -> None:
        self._requests += 1
        if self._requests % 1000 == 0:
            self.store.run("DELETE FROM nonce WHERE ts_ms < ?", now_ms - NONCE_KEEP_MS)

    def _envelope_error(self, raw: bytes, interface: str, exc: wire.WireError, now_ms: int) -> bytes:
        """Signed when the merchant is known (so the client can trust the refusal), plain otherwise."""
        try:
            env = json.loads(raw.decode("utf-8"))
            mid, nonce = env.get("merchant_id"), env.get("nonce")
        except (ValueError, UnicodeDecodeError, AttributeError):
            mid = nonce = None
        data = failed(exc.code, exc.message)
        if isinstance(mid, str) and mid in self.keys and isinstance(nonce, str):
            return wire.build_reply(self.keys[mid], mid, interface, nonce, data, now_ms)
        return _plain(data)

    def close(self) -> None:
        self.store.close()


def _plain(data: dict[str, Any]) -> bytes:
    return json.dumps({"version": wire.VERSION, "data": data}, ensure_ascii=False).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections are closed after five minutes
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: no access log
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:  # noqa: N802
        raw = self._body()
        path = self.path.split("?", 1)[0]
        if path.startswith("/api/v1/"):
            action, status, body = self.server.sandbox.api(path.removeprefix("/api/v1/"), raw)
            if action != "reply":
                self._reset()
                return
            self._send(status, body)
            return
        self._admin("POST", path, raw)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path == "/openapi.json":
            from bank_sandbox.openapi import document

            self._send(200, json.dumps(document(), ensure_ascii=False).encode("utf-8"))
        elif path == "/health":
            self._send(200, b'{"ok":true}')
        else:
            self._admin("GET", path, b"")

    def do_DELETE(self) -> None:  # noqa: N802
        self._admin("DELETE", self.path.split("?", 1)[0], self._body())

    def _admin(self, method: str, path: str, raw: bytes) -> None:
        status, payload = self.server.sandbox.admin.dispatch(method, path, raw, self.headers.get("X-Admin-Token"))
        self._send(status, json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8"))

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        """Abort the connection with a TCP reset: the client gets no answer at all."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        self.sandbox = sandbox
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        # A reset connection must not get the polite FIN that socketserver sends first.
        try:
            linger = request.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
        except OSError:
            linger = struct.pack("ii", 0, 0)
        if struct.unpack("ii", linger)[0]:
            self.close_request(request)
            return
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (or a request racing stop()) is not the sandbox's problem to print.
        log.debug("request from %s failed", client_address, exc_info=True)

    def close_connections(self) -> None:
        """Drop every open keep-alive connection (on stop: the next request must find the port closed)."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class RunningSandbox:
    """A sandbox serving on a loopback port in a background thread (demo mode and tests)."""

    def __init__(self, sandbox: Sandbox, server: SandboxServer) -> None:
        from bank_sandbox.admin import AdminClient

        self.sandbox = sandbox
        self.server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.admin = AdminClient(self.url, sandbox.admin_token)
        self._thread = threading.Thread(target=server.serve_forever, name="bank-sandbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.server.close_connections()
        self._thread.join(timeout=5)
        self.admin.close()
        with self.sandbox.store.lock:  # wait for a request still inside the bank's rules
            self.sandbox.close()


def start_background(db_path: str | Path, *, host: str = "127.0.0.1", port: int = 0, demo: bool = True,
                     seed: int = 0, admin_token: str = DEMO_ADMIN_TOKEN, merchant_id: str = DEMO_MERCHANT_ID,
                     merchant_key: str = DEMO_MERCHANT_KEY, data_key: str = DEMO_DATA_KEY) -> RunningSandbox:
    """Start the sandbox in this process on ``host:port`` (0 = any free port); ``.url``, ``.admin``, ``.stop()``.

    ``demo=True`` seeds the residents of docs/demo-data.md into an empty sandbox database.
    """
    sandbox = Sandbox(db_path, merchant_id=merchant_id, merchant_key=merchant_key, data_key=data_key,
                      admin_token=admin_token, seed=seed, demo=demo)
    return RunningSandbox(sandbox, SandboxServer(sandbox, host, port))
