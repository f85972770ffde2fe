"""Crypto vectors (GB/T 32905 SM3, GB/T 32907 SM4), HMAC-SM3 against its definition, and the worked example of
docs/bank-api.md reproduced by both implementations (the client's adapter and the sandbox's own wire code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bank_sandbox import wire as bank_wire
from desktop_his.services.bank import crypto
from desktop_his.services.bank.adapter import BankKeys, JsonV1Adapter, canonical_string
from desktop_his.services.bank.protocol import (
    AfterPayQuery,
    BankResult,
    BankStatus,
    DeductRequest,
    LockRequest,
    OutcomeState,
    request_from_params,
)
from desktop_his.services.errors import ValidationError

DOC = Path(__file__).resolve().parents[3] / "docs" / "bank-api.md"

SM3_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]
SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
SM4_CIPHER = "681edf34d206965e86b3e94f536e4246"

# The worked example (docs/bank-api.md, "Worked example").
EX_TIMESTAMP = "1795395600000"  # 2026-11-23 09:00:00 +08:00
EX_NONCE = "0123456789abcdef0123456789abcdef"
EX_REQUEST = LockRequest("XYDEMO000001", "V20261123000001", "L20261123000001", 2500)
EX_CANONICAL = ("XYJY-V1\nREQ\nHIS0001\nlock\n1795395600000\n0123456789abcdef0123456789abcdef\n"
                '{"agreement_no":"XYDEMO000001","amount_fen":2500,"lock_no":"L20261123000001",'
                '"visit_no":"V20261123000001"}')
EX_SIGNATURE = "df531abb5164ec23e69873f64b7e87ee083ebf0a5b8ed03890c2118eaf876694"
EX_NAME_ENC = "AAECAwQFBgcICQoLbd0TvqiNQnFEcG/860AsHl647Ny3Tg=="  # 张伟, IV 000102…0b
EX_ID_ENC = "DA0ODxAREhMUFRYXmuYu1CROZoXOH5OIfephsrW8GGVoRxyIo3eB+uInEwThBQ=="  # 510104198503121232, IV 0c0d…17


@pytest.mark.parametrize(("message", "digest"), SM3_VECTORS)
def test_sm3_vectors_both_sides(message: bytes, digest: str) -> None:
    assert crypto.sm3_hex(message) == digest
    assert bank_wire.sm3_hex(message) == digest


def test_sm4_vector_both_sides() -> None:
    assert crypto.sm4_ecb_block(SM4_KEY, SM4_KEY).hex() == SM4_CIPHER
    assert bank_wire.sm4_ecb_block(SM4_KEY, SM4_KEY).hex() == SM4_CIPHER


def _hmac_by_definition(key: bytes, message: bytes) -> str:
    """RFC 2104 spelled out over SM3 (block size 64)."""
    key = key.ljust(64, b"\0")
    inner = bytes.fromhex(crypto.sm3_hex(bytes(b ^ 0x36 for b in key) + message))
    return crypto.sm3_hex(bytes(b ^ 0x5C for b in key) + inner)


@pytest.mark.parametrize("key", [b"k" * 16, bytes(range(32)), b"\xff" * 64])
def test_hmac_sm3_is_rfc2104_over_sm3(key: bytes) -> None:
    message = "信用就医 HMAC".encode()
    assert crypto.hmac_sm3_hex(key, message) == _hmac_by_definition(key, message)
    assert bank_wire.hmac_sm3_hex(key, message) == _hmac_by_definition(key, message)


def test_worked_example_is_reproduced_and_documented() -> None:
    adapter = JsonV1Adapter(BankKeys.demo())
    data = adapter.wire_data(EX_REQUEST)
    assert canonical_string("REQ", "HIS0001", "lock", EX_TIMESTAMP, EX_NONCE, data) == EX_CANONICAL
    assert bank_wire.canonical_string("REQ", "HIS0001", "lock", EX_TIMESTAMP, EX_NONCE, data) == EX_CANONICAL
    assert adapter.sign("REQ", "lock", EX_TIMESTAMP, EX_NONCE, data) == EX_SIGNATURE
    key = bytes.fromhex(bank_wire_key())
    assert bank_wire.sign(key, "REQ", "HIS0001", "lock", EX_TIMESTAMP, EX_NONCE, data) == EX_SIGNATURE
    assert adapter.encrypt("name_enc", "张伟", iv=bytes(range(12))) == EX_NAME_ENC
    assert adapter.encrypt("id_no_enc", "510104198503121232", iv=bytes(range(12, 24))) == EX_ID_ENC
    data_key = BankKeys.demo().data_key
    assert bank_wire.decrypt_field(data_key, "HIS0001", "name_enc", EX_NAME_ENC) == "张伟"
    assert bank_wire.decrypt_field(data_key, "HIS0001", "id_no_enc", EX_ID_ENC) == "510104198503121232"
    doc = DOC.read_text(encoding="utf-8")
    for value in (EX_SIGNATURE, EX_NAME_ENC, EX_ID_ENC, EX_TIMESTAMP, EX_NONCE, BankKeys.demo().merchant_key.hex(),
                  BankKeys.demo().data_key.hex()):
        assert value in doc, f"{value} missing from docs/bank-api.md"
    assert EX_CANONICAL.replace("\n", "\n") in doc


def bank_wire_key() -> str:
    from bank_sandbox import DEMO_MERCHANT_KEY

    return DEMO_MERCHANT_KEY


def test_ciphertext_is_bound_to_its_field() -> None:
    adapter = JsonV1Adapter(BankKeys.demo())
    token = adapter.encrypt("name_enc", "张伟")
    with pytest.raises(bank_wire.WireError):
        bank_wire.decrypt_field(BankKeys.demo().data_key, "HIS0001", "id_no_enc", token)
    assert adapter.encrypt("name_enc", "张伟") != token  # a fresh IV every time


def test_requests_validate_their_fields() -> None:
    with pytest.raises(ValidationError):
        LockRequest("XY1", "V1", "L1", 0)
    with pytest.raises(ValidationError):
        LockRequest("XY1", "V1", "L1", True)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        LockRequest("XY1", "", "L1", 1)
    with pytest.raises(ValidationError):
        DeductRequest("L1", "S1", 1, "张伟", "09", "x")
    with pytest.raises(ValidationError):
        AfterPayQuery()
    request = DeductRequest("L1", "S1", 100, "张伟", "01", "510104198503121232")
    assert request_from_params(request.op, request.params()) == request
    assert (request.number, request.amount) == ("L1", 100)


@pytest.mark.parametrize(("status", "code", "state"), [
    (BankStatus.SUCCESS, "000000", OutcomeState.SUCCESS),
    (BankStatus.FAILED, "XYB002", OutcomeState.FAILED),
    (BankStatus.FAILED, "DCBS0004PL0974", OutcomeState.FAILED),
    (BankStatus.PROCESSING, "000001", OutcomeState.UNKNOWN),
    (BankStatus.FAILED, "ADPTSY0004", OutcomeState.UNKNOWN),
    (BankStatus.FAILED, "XYP001", OutcomeState.UNKNOWN),
    (BankStatus.FAILED, "XYP003", OutcomeState.UNKNOWN),
    (None, "ADPTSY0003", OutcomeState.UNKNOWN),
])
def test_what_counts_as_unknown(status: BankStatus | None, code: str, state: OutcomeState) -> None:
    assert BankResult(status, code, "").state is state
