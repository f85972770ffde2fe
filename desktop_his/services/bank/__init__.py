"""The 信用就医 bank gateway: typed protocol, wire adapter, HTTP client, write-ahead journal, resolver.

Workflows use :class:`BankGateway` (built once at start-up by :func:`build_gateway`) — see docs/bank-api.md
and the "bank" section of docs/architecture.md.
"""

from __future__ import annotations

from desktop_his.services.bank.adapter import BankKeys, JsonV1Adapter
from desktop_his.services.bank.client import BankClient
from desktop_his.services.bank.gateway import BankGateway, ResolveReport, ResolverThread
from desktop_his.services.bank.journal import Handler, JournalRefs
from desktop_his.services.bank.protocol import (
    BankResult,
    BankStatus,
    Bill,
    BillLine,
    CancelRequest,
    Code,
    ConfirmRequest,
    DeductRequest,
    Instalment,
    LockRequest,
    MerchantBalance,
    OpRecord,
    Outcome,
    OutcomeState,
    PayCheck,
    PayRequest,
    RefundRequest,
    SignStatus,
)
from desktop_his.services.clock import Clock
from desktop_his.services.config import Settings
from desktop_his.services.db import Database

CONCURRENT_POOL_SIZE = 64


def build_gateway(settings: Settings, db: Database, clock: Clock, *, base_url: str | None = None,
                  keys: BankKeys | None = None, pool_size: int = CONCURRENT_POOL_SIZE) -> BankGateway:
    """The gateway for these settings. Demo mode (``bank_url`` empty): pass the in-process sandbox's
    ``base_url`` (``bank_sandbox.start_background(...).url``); the published demo keys are used. A real bank:
    ``settings.bank_url`` and the keys from the OS keyring."""
    url = base_url or settings.bank_url
    if not url:
        raise ValueError("demo mode: start the sandbox and pass base_url=running_sandbox.url")
    client = BankClient(url, JsonV1Adapter(keys or BankKeys.for_settings(settings)),
                        connect_timeout=settings.bank_connect_timeout, read_timeout=settings.bank_read_timeout,
                        pool_size=pool_size)
    return BankGateway(db, client, clock)


__all__ = [
    "BankClient", "BankGateway", "BankKeys", "BankResult", "BankStatus", "Bill", "BillLine", "CancelRequest", "Code",
    "ConfirmRequest", "DeductRequest", "Handler", "Instalment", "JournalRefs", "JsonV1Adapter", "LockRequest",
    "MerchantBalance", "OpRecord", "Outcome", "OutcomeState", "PayCheck", "PayRequest", "RefundRequest",
    "ResolveReport", "ResolverThread", "SignStatus", "build_gateway",
]
