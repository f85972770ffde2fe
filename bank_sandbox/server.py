"""The sandbox as an HTTP server: the protocol interfaces under ``/api/v1/<interface>``, the admin API under
``/admin/<name>`` (token in ``X-Admin-Token``), the OpenAPI document at ``/openapi.json``.

An asyncio server with HTTP/1.1 keep-alive: a client's whole pool of concurrent connections is served by one
event loop, injected delays are timers, and the bank's rules run one request at a time (as a ledger posts).
Measured on the 2-core machine it costs about a third of the CPU per request of ``ThreadingHTTPServer``
(whose email-based header parsing and thread per connection dominated; see docs/bank-api.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
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

    def plan(self, interface: str) -> tuple[dict[str, Any], float]:
        """Draw this request's faults; returns them and the injected delay in seconds."""
        if interface not in INTERFACES:
            return {}, 0.0
        fired = {f.kind: f for f in self.faults.draw(interface)}
        return fired, (fired["delay"].delay_ms / 1000 if "delay" in fired else 0.0)

    def respond(self, interface: str, raw: bytes, fired: dict[str, Any]) -> tuple[str, int, bytes]:
        """One protocol request → (action, HTTP status, body); action is ``reply``, ``drop`` or ``refuse``."""
        if interface not in INTERFACES:
            return "reply", 404, _plain(failed(codes.UNKNOWN_INTERFACE))
        if "refuse" in fired:
            return "refuse", 0, b""
        now_ms = int(time.time() * 1000)
        try:
            env = wire.parse_request(raw, interface, self.keys, now_ms)
        except wire.WireError as exc:
            return "reply", 200, self._envelope_error(raw, interface, exc, now_ms)
        result = self._execute(interface, env, fired, now_ms)
        if "http_error" in fired:
            status = int(fired["http_error"].code or 503)
            return "reply", status, f"<html><body><h1>{status}</h1>upstream error</body></html>".encode()
        if "drop_reply" in fired:
            return "drop", 0, b""
        if "garbage" in fired:
            return "reply", 200, b'{"version":"1","data":\x00\xff garbage'
        key = self.keys[env["merchant_id"]]
        return "reply", 200, wire.build_reply(key, env["merchant_id"], interface, env["nonce"], result,
                                              int(time.time() * 1000))

    def api(self, interface: str, raw: bytes) -> tuple[str, int, bytes]:
        """``plan`` + (blocking) delay + ``respond``: for callers without an event loop (tests)."""
        fired, delay = self.plan(interface)
        if delay:
            time.sleep(delay)
        return self.respond(interface, raw, fired)

    def _execute(self, interface: str, env: dict[str, Any], fired: dict, now_ms: int) -> dict[str, Any]:
        mid = env["merchant_id"]

        def decrypt(field: str, token: Any) -> str:
            return wire.decrypt_field(self.data_keys[mid], mid, field, token)

        with self.store.tx():
            if not self.store.run("INSERT OR IGNORE INTO nonce VALUES (?, ?)", env["nonce"],
                                  int(env["timestamp"])).rowcount:
                return failed(codes.REPLAYED_NONCE)
            self._prune_nonces(now_ms)
            error, processing, garbage = fired.get("error"), fired.get("processing"), fired.get("garbage")
            if processing and interface in QUERY_OPS:
                return {"status": "PROCESSING", "code": codes.PROCESSING, "message": codes.message(codes.PROCESSING)}
            http_error = fired.get("http_error")
            if http_error and not http_error.commit:
                return failed(codes.VALIDATION)  # never sent: the caller gets the 5xx
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


class _Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, one request at a time per connection (what a pooled client sends).

    A minimal parser on purpose: requests carry ``Content-Length`` (no chunked bodies); each response goes out
    in one write. Injected delays are timers, so thousands of delayed requests cost no threads.
    """

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.app.connections.add(self)
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.app.connections.discard(self)
        if self.idle:
            self.idle.cancel()

    def _arm_idle(self) -> None:
        if self.idle:
            self.idle.cancel()
        self.idle = asyncio.get_running_loop().call_later(IDLE_TIMEOUT_S, self.close)

    def close(self) -> None:
        if self.transport and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._next()

    def _next(self) -> None:
        if self.busy:
            return
        head_end = self.buf.find(b"\r\n\r\n")
        if head_end < 0:
            if len(self.buf) > 65536:
                self._write(400, b'{"error":"header too large"}', close=True)
            return
        lines = bytes(self.buf[:head_end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if len(parts) != 3 or length < 0 or "chunked" in headers.get("transfer-encoding", ""):
            self._write(400, b'{"error":"bad request"}', close=True)
            return
        if len(self.buf) < head_end + 4 + length:
            return
        body = bytes(self.buf[head_end + 4:head_end + 4 + length])
        del self.buf[:head_end + 4 + length]
        self.busy = True
        self.keep_alive = headers.get("connection", "").lower() != "close"
        self.app.handle(self, parts[0], parts[1].split("?", 1)[0], headers, body)

    def reply(self, status: int, body: bytes) -> None:
        self._write(status, body, close=not self.keep_alive)
        self.busy = False
        self._arm_idle()
        if self.buf:
            self._next()

    def _write(self, status: int, body: bytes, *, close: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = (f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\nContent-Type: application/json; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n")
        self.transport.write(head.encode("latin-1") + body)
        if close:
            self.transport.close()

    def abort(self) -> None:
        """No answer at all: a TCP reset."""
        if self.transport is not None:
            self.transport.abort()


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict"}
IDLE_TIMEOUT_S = 300.0


class SandboxApp:
    """Routes requests to the sandbox inside the event loop thread."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.connections: set[_Connection] = set()
        self._batch: list[tuple[_Connection, str, bytes, dict[str, Any]]] = []
        self._flush_scheduled = False

    def handle(self, conn: _Connection, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        try:
            if path.startswith("/api/v1/") and method == "POST":
                interface = path.removeprefix("/api/v1/")
                fired, delay = self.sandbox.plan(interface)
                if delay:
                    asyncio.get_running_loop().call_later(delay, self._api, conn, interface, body, fired)
                else:
                    self._api(conn, interface, body, fired)
            elif path == "/openapi.json" and method == "GET":
                from bank_sandbox.openapi import document

                conn.reply(200, json.dumps(document(), ensure_ascii=False).encode("utf-8"))
            elif path == "/health":
                conn.reply(200, b'{"ok":true}')
            else:
                status, payload = self.sandbox.admin.dispatch(method, path, body, headers.get("x-admin-token"))
                conn.reply(status, json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8"))
        except Exception:  # noqa: BLE001 - one broken request must not take the server down
            log.exception("sandbox request %s %s failed", method, path)
            conn.abort()

    def _api(self, conn: _Connection, interface: str, body: bytes, fired: dict[str, Any]) -> None:
        """Queue the request; everything queued in this turn of the loop commits in one transaction (each
        request in its own savepoint) before any of their answers is written."""
        self._batch.append((conn, interface, body, fired))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        batch, self._batch, self._flush_scheduled = self._batch, [], False
        answers: list[tuple[_Connection, str, int, bytes]] = []
        try:
            with self.sandbox.store.tx():
                for conn, interface, body, fired in batch:
                    try:
                        answers.append((conn, *self.sandbox.respond(interface, body, fired)))
                    except Exception:  # noqa: BLE001 - its savepoint is rolled back; it gets no answer
                        log.exception("sandbox %s failed", interface)
                        answers.append((conn, "drop", 0, b""))
        except Exception:  # noqa: BLE001 - the commit failed: nobody may be told it happened
            log.exception("sandbox batch commit failed")
            answers = [(conn, "drop", 0, b"") for conn, *_ in batch]
        for conn, action, status, payload in answers:
            if action == "reply":
                conn.reply(status, payload)
            else:
                conn.abort()

    def close_connections(self) -> None:
        for conn in list(self.connections):
            conn.abort()


async def _serve(app: SandboxApp, host: str, port: int) -> asyncio.AbstractServer:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _Connection(app), host, port, backlog=512, reuse_address=True)


def serve_forever(sandbox: Sandbox, host: str, port: int, *, ready: Any = None) -> None:
    """Run the sandbox in this thread until interrupted (``python -m bank_sandbox``)."""

    async def main() -> None:
        server = await _serve(SandboxApp(sandbox), host, port)
        addr = server.sockets[0].getsockname()
        if ready:
            ready(addr[0], addr[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class RunningSandbox:
    """A sandbox serving on a loopback port from a background thread (demo mode and tests)."""

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        from bank_sandbox.admin import AdminClient

        self.sandbox = sandbox
        self.app = SandboxApp(sandbox)
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(host, port), name="bank-sandbox", daemon=True)
        self._thread.start()
        if not self._started.wait(10) or self._server is None:
            raise RuntimeError("bank sandbox did not start")
        host, port = self._server.sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        self.admin = AdminClient(self.url, sandbox.admin_token)

    def _run(self, host: str, port: int) -> None:
        asyncio.set_event_loop(self.loop)
        self._server: asyncio.AbstractServer | None = None
        try:
            self._server = self.loop.run_until_complete(_serve(self.app, host, port))
        finally:
            self._started.set()
        self.loop.run_forever()

    def stop(self) -> None:
        """Stop listening, drop every open connection, close the database."""

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed() if not self.app.connections else None
            self.app.close_connections()

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
        self.admin.close()
        self.sandbox.close()


def start_background(db_path: str | Path, *, host: str = "127.0.0.1", port: int = 0, demo: bool = True,
                     seed: int = 0, admin_token: str = DEMO_ADMIN_TOKEN, merchant_id: str = DEMO_MERCHANT_ID,
                     merchant_key: str = DEMO_MERCHANT_KEY, data_key: str = DEMO_DATA_KEY) -> RunningSandbox:
    """Start the sandbox in this process on ``host:port`` (0 = any free port); ``.url``, ``.admin``, ``.stop()``.

    ``demo=True`` seeds the residents of docs/demo-data.md into an empty sandbox database.
    """
    sandbox = Sandbox(db_path, merchant_id=merchant_id, merchant_key=merchant_key, data_key=data_key,
                      admin_token=admin_token, seed=seed, demo=demo)
    return RunningSandbox(sandbox, host, port)
