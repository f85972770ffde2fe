"""Shared helpers for the bank tests: a sandbox on a loopback port, a raw protocol client, demo people."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bank_sandbox import RunningSandbox, start_background
from desktop_his.services.bank.adapter import BankKeys, JsonV1Adapter
from desktop_his.services.bank.client import BankClient

T0_ISO = "2026-11-23T09:00:00"  # the `clock` fixture's moment: a Monday morning

ZHANG_WEI = ("张伟", "01", "510104198503121232")  # holder, ¥5,000.00, agreement XYDEMO000001
LI_NA = ("李娜", "01", "510104198707212347")  # family member of 张伟, QFDEMO000001
XIAO_MING = ("张小明", "01", "510104201806150510")  # family member of 张伟, QFDEMO000002
WANG_FANG = ("王芳", "01", "510105199001052020")  # holder, ¥30.00 (low credit), XYDEMO000002
LIU_YANG = ("刘洋", "01", "510106197811301014")  # not signed
CHEN_JING = ("陈静", "01", "510107196505182020")  # holder, ¥20,000.00, XYDEMO000003
WU_MIN = ("吴敏", "01", "510104200106064027")  # terminated
ZW_AGREEMENT, LN_AGREEMENT, WF_AGREEMENT, CJ_AGREEMENT = "XYDEMO000001", "QFDEMO000001", "XYDEMO000002", "XYDEMO000003"


def new_sandbox(path: Path, **kwargs) -> RunningSandbox:  # noqa: ANN003
    sandbox = start_background(path, **kwargs)
    sandbox.admin.set_clock(T0_ISO)
    return sandbox


@contextmanager
def running_sandbox(path: Path, **kwargs) -> Iterator[RunningSandbox]:  # noqa: ANN003
    sandbox = new_sandbox(path, **kwargs)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def demo_client(url: str, *, read_timeout: float = 5.0, keys: BankKeys | None = None) -> BankClient:
    return BankClient(url, JsonV1Adapter(keys or BankKeys.demo()), connect_timeout=2.0, read_timeout=read_timeout,
                      pool_size=8)
