"""``BankClient``: one HTTP round trip per call, over the pooled connections of a ``requests.Session``.

Never raises for the network: connection refused → ADPTSY0003, read timeout → ADPTSY0004, a connection
broken mid-exchange → ADPTSY0005, any other transport error → ADPTSY0006, a reply that is not a correctly
signed answer to this request → ADPTSY0008. Each is a :class:`BankResult` whose ``state`` is UNKNOWN — never
FAILED — because the request may have been executed.
"""

from __future__ import annotations

import logging
from datetime import date
from urllib.parse import urlsplit

import requests
import urllib3.connection
from requests.adapters import HTTPAdapter
from urllib3 import Timeout
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from desktop_his.services.bank.adapter import BankAdapter, DecodeError
from desktop_his.services.bank.protocol import (
    AfterPayQuery,
    BankRequest,
    BankResult,
    BillRequest,
    CancelRequest,
    Code,
    ConfirmRequest,
    DeductRequest,
    LockRequest,
    MerchantBalanceRequest,
    PayCheckRequest,
    PayQuery,
    PayRequest,
    RefundQuery,
    RefundRequest,
    SignQuery,
)

log = logging.getLogger(__name__)


class _OneWrite:
    """Send a request's header block and body in one ``send``: urllib3 writes them separately, which on
    loopback costs a second system call and a second wake-up of the bank per request (measured)."""

    _held = b""

    def send(self, data: bytes) -> None:  # type: ignore[override]
        if not self._held and isinstance(data, bytes) and data.endswith(b"\r\n\r\n"):
            self._held = data  # the header block: wait for the body
            return
        data, self._held = (self._held + data if self._held else data), b""
        super().send(data)  # type: ignore[misc]

    def getresponse(self, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN002, ANN003, ANN201
        if self._held:  # a request without a body
            held, self._held = self._held, b""
            super().send(held)  # type: ignore[misc]
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _OneWriteHTTPConnection(_OneWrite, urllib3.connection.HTTPConnection):
    pass


class _OneWriteHTTPSConnection(_OneWrite, urllib3.connection.HTTPSConnection):
    pass


class BankClient:
    def __init__(self, base_url: str, adapter: BankAdapter, *, connect_timeout: float = 3.0,
                 read_timeout: float = 10.0, pool_size: int = 64) -> None:
        self.base_url = base_url.rstrip("/")
        self.adapter = adapter
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        # No proxy/netrc look-ups from the environment on every call (they doubled the CPU per request); a
        # hospital that needs a proxy to reach the bank sets it here explicitly.
        self.session.trust_env = False
        # No automatic retries: a retried money request must be the journal's decision, never urllib3's.
        http = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, pool_block=True, max_retries=0)
        self.session.mount("http://", http)
        self.session.mount("https://", http)
        # Calls go straight to the session adapter's urllib3 pool for this bank: requests' per-call preparation
        # (merging settings, hooks, cookies) cost ~0.5 ms of CPU per call — the bulk of the client's time in
        # concurrent mode on two cores (measured, see docs/bank-api.md).
        self._pool = http.get_connection_with_tls_context(
            requests.Request("POST", self.base_url).prepare(), verify=True) \
            if hasattr(http, "get_connection_with_tls_context") else http.get_connection(self.base_url)
        self._pool.ConnectionCls = (_OneWriteHTTPSConnection if self.base_url.startswith("https")
                                    else _OneWriteHTTPConnection)
        self._path = urlsplit(self.base_url).path.rstrip("/")
        self._headers = {"Content-Type": "application/json; charset=utf-8", "Connection": "keep-alive"}
        self._timeout = Timeout(connect=connect_timeout, read=read_timeout)

    def close(self) -> None:
        self.session.close()

    def call(self, request: BankRequest) -> BankResult:
        wire = self.adapter.encode(request)
        try:
            reply = self._pool.urlopen("POST", self._path + wire.path, body=wire.body, headers=self._headers,
                                       timeout=self._timeout, retries=False, redirect=False, preload_content=True)
            status, body = reply.status, reply.data
        except (NewConnectionError, ConnectTimeoutError) as exc:
            return self._lost(request, Code.CONNECT_FAILED, exc)
        except (ReadTimeoutError, TimeoutError) as exc:
            return self._lost(request, Code.RESPONSE_TIMEOUT, exc)
        except (ProtocolError, ConnectionError, OSError) as exc:
            return self._lost(request, Code.INTERACTION_ERROR, exc)
        except HTTPError as exc:
            return self._lost(request, Code.INTERACTION_ERROR_2, exc)
        try:
            return self.adapter.decode(wire, status, body)
        except DecodeError as exc:
            return self._lost(request, Code.DECODE_ERROR, exc)

    @staticmethod
    def _lost(request: BankRequest, code: str, exc: Exception) -> BankResult:
        log.warning("bank %s: %s (%s)", request.op, code, type(exc).__name__)
        return BankResult.no_answer(code, type(exc).__name__)

    # One method per interface (typed in, BankResult out); the gateway adds journaling and typed results.
    def sign_query(self, name: str, id_type: str, id_number: str) -> BankResult:
        return self.call(SignQuery(name, id_type, id_number))

    def confirm(self, request: ConfirmRequest) -> BankResult:
        return self.call(request)

    def lock(self, request: LockRequest) -> BankResult:
        return self.call(request)

    def deduct(self, request: DeductRequest) -> BankResult:
        return self.call(request)

    def cancel(self, request: CancelRequest) -> BankResult:
        return self.call(request)

    def refund(self, request: RefundRequest) -> BankResult:
        return self.call(request)

    def pay_check(self, agreement_no: str, amount_fen: int) -> BankResult:
        return self.call(PayCheckRequest(agreement_no, amount_fen))

    def pay(self, request: PayRequest) -> BankResult:
        return self.call(request)

    def pay_query(self, payment_no: str) -> BankResult:
        return self.call(PayQuery(payment_no))

    def after_pay_query(self, *, visit_no: str | None = None, lock_no: str | None = None) -> BankResult:
        return self.call(AfterPayQuery(visit_no=visit_no, lock_no=lock_no))

    def refund_query(self, refund_no: str) -> BankResult:
        return self.call(RefundQuery(refund_no))

    def bill(self, bill_date: date) -> BankResult:
        return self.call(BillRequest(bill_date))

    def merchant_balance(self) -> BankResult:
        return self.call(MerchantBalanceRequest())
