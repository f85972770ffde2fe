"""The sandbox refuses what a bank must refuse: bad signatures, stale timestamps, replayed nonces, tampered
ciphertext, unknown merchants, fractional money."""

from __future__ import annotations

import json
import time

import requests

from bank_sandbox import RunningSandbox
from desktop_his.services.bank.adapter import BankKeys, JsonV1Adapter
from desktop_his.services.bank.protocol import LockRequest, SignQuery
from tests.services.bank.helpers import ZHANG_WEI


def post(sandbox: RunningSandbox, interface: str, envelope: dict) -> dict:
    body = json.dumps(envelope, ensure_ascii=False).encode()
    reply = requests.post(f"{sandbox.url}/api/v1/{interface}", data=body, timeout=5)
    return reply.json()


def signed(adapter: JsonV1Adapter, request, **changes) -> dict:  # noqa: ANN001, ANN003
    env = json.loads(adapter.encode(request).body)
    env.update(changes)
    env["sign"] = adapter.sign("REQ", env["interface"], env["timestamp"], env["nonce"], env["data"])
    return env


ADAPTER = JsonV1Adapter(BankKeys.demo())


def test_a_good_request_gets_a_signed_reply(sandbox: RunningSandbox) -> None:
    env = signed(ADAPTER, SignQuery(*ZHANG_WEI))
    reply = post(sandbox, "sign_query", env)
    assert reply["nonce"] == env["nonce"] and reply["data"]["signed"] is True
    assert reply["sign"] == ADAPTER.sign("RSP", "sign_query", reply["timestamp"], env["nonce"], reply["data"])


def test_bad_signature_is_refused(sandbox: RunningSandbox) -> None:
    env = signed(ADAPTER, SignQuery(*ZHANG_WEI))
    env["data"]["id_type"] = "02"  # changed after signing
    assert post(sandbox, "sign_query", env)["data"]["code"] == "XYP001"
    other = JsonV1Adapter(BankKeys("HIS0001", b"x" * 32, BankKeys.demo().data_key))
    assert post(sandbox, "sign_query", signed(other, SignQuery(*ZHANG_WEI)))["data"]["code"] == "XYP001"


def test_stale_timestamp_is_refused(sandbox: RunningSandbox) -> None:
    old = str(int(time.time() * 1000) - 5 * 60 * 1000 - 2000)
    assert post(sandbox, "sign_query", signed(ADAPTER, SignQuery(*ZHANG_WEI), timestamp=old))["data"]["code"] == "XYP002"
    future = str(int(time.time() * 1000) + 6 * 60 * 1000)
    assert post(sandbox, "sign_query", signed(ADAPTER, SignQuery(*ZHANG_WEI), timestamp=future))["data"]["code"] == "XYP002"
    recent = str(int(time.time() * 1000) - 4 * 60 * 1000)
    assert post(sandbox, "sign_query", signed(ADAPTER, SignQuery(*ZHANG_WEI), timestamp=recent))["data"]["code"] == "000000"


def test_replayed_nonce_is_refused_and_executes_nothing(sandbox: RunningSandbox) -> None:
    from desktop_his.services.bank.protocol import ConfirmRequest

    first = signed(ADAPTER, ConfirmRequest("XYDEMO000001", "V1"))
    assert post(sandbox, "confirm", first)["data"]["status"] == "SUCCESS"
    lock = signed(ADAPTER, LockRequest("XYDEMO000001", "V1", "L1", 100), nonce=first["nonce"])
    assert post(sandbox, "lock", lock)["data"]["code"] == "XYP003"
    assert sandbox.admin.ledger()["locks"] == []


def test_tampered_ciphertext_is_refused(sandbox: RunningSandbox) -> None:
    env = signed(ADAPTER, SignQuery(*ZHANG_WEI))
    token = bytearray(env["data"]["id_no_enc"].encode())
    token[20] = ord("A") if token[20] != ord("A") else ord("B")
    env["data"]["id_no_enc"] = token.decode()
    env["sign"] = ADAPTER.sign("REQ", "sign_query", env["timestamp"], env["nonce"], env["data"])  # re-signed
    assert post(sandbox, "sign_query", env)["data"]["code"] == "XYP007"
    env = signed(ADAPTER, SignQuery(*ZHANG_WEI))
    env["data"]["name_enc"], env["data"]["id_no_enc"] = env["data"]["id_no_enc"], env["data"]["name_enc"]
    env["sign"] = ADAPTER.sign("REQ", "sign_query", env["timestamp"], env["nonce"], env["data"])
    assert post(sandbox, "sign_query", env)["data"]["code"] == "XYP007"  # fields cannot be swapped


def test_unknown_merchant_gets_an_unsigned_refusal(sandbox: RunningSandbox) -> None:
    stranger = JsonV1Adapter(BankKeys("HIS9999", b"k" * 32, b"d" * 16))
    reply = post(sandbox, "sign_query", signed(stranger, SignQuery(*ZHANG_WEI)))
    assert reply["data"]["code"] == "XYP008" and "sign" not in reply


def test_money_must_be_integer_fen(sandbox: RunningSandbox) -> None:
    env = signed(ADAPTER, LockRequest("XYDEMO000001", "V1", "L1", 100))
    body = json.dumps(env).replace('"amount_fen": 100', '"amount_fen": 100.5')
    reply = requests.post(f"{sandbox.url}/api/v1/lock", data=body.encode(), timeout=5).json()
    assert reply["data"]["code"] == "XYP004"
    env = signed(ADAPTER, LockRequest("XYDEMO000001", "V1", "L1", 100))
    env["data"]["extra"] = 1
    env["sign"] = ADAPTER.sign("REQ", "lock", env["timestamp"], env["nonce"], env["data"])
    assert post(sandbox, "lock", env)["data"]["code"] == "XYP004"


def test_unknown_interface_and_path(sandbox: RunningSandbox) -> None:
    assert requests.post(f"{sandbox.url}/api/v1/steal", data=b"{}", timeout=5).status_code == 404
    assert requests.get(f"{sandbox.url}/admin/ledger", timeout=5).status_code == 401
