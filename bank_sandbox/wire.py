"""The sandbox's own implementation of the 信用就医 wire protocol v1 (see docs/bank-api.md).

The sandbox plays the bank, so it must not share code with the hospital's client: this module is a second,
independent implementation of the same rules (canonical string, HMAC-SM3 signature, SM4-GCM field
encryption). Both are checked against the GB/T 32905 (SM3) / GB/T 32907 (SM4) vectors and the worked example
in the docs.
"""

from __future__ import annotations

import base64
import binascii
import hmac as std_hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as c_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

VERSION = "1"
TAG = "XYJY-V1"
MAX_SKEW_MS = 5 * 60 * 1000  # timestamps older (or newer) than five minutes are refused


class WireError(Exception):
    """The envelope could not be accepted; ``code`` is one of :mod:`bank_sandbox.codes`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def hmac_sm3_hex(key: bytes, data: bytes) -> str:
    mac = c_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()


def sm4_ecb_block(key: bytes, block: bytes) -> bytes:
    """One raw SM4 block (only for the standard's test vector)."""
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def canonical_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical_string(kind: str, merchant_id: str, interface: str, timestamp: str, nonce: str, data: Any) -> str:
    """``kind`` is ``REQ`` for a request and ``RSP`` for a reply (a reply echoes the request's nonce)."""
    return "\n".join([TAG, kind, merchant_id, interface, timestamp, nonce, canonical_json(data)])


def sign(key: bytes, kind: str, merchant_id: str, interface: str, timestamp: str, nonce: str, data: Any) -> str:
    text = canonical_string(kind, merchant_id, interface, timestamp, nonce, data)
    return hmac_sm3_hex(key, text.encode("utf-8"))


def encrypt_field(data_key: bytes, merchant_id: str, field: str, plain: str, iv: bytes | None = None) -> str:
    """SM4-GCM; the field name is bound as associated data so a name cannot be swapped for an ID number."""
    iv = iv if iv is not None else os.urandom(12)
    enc = Cipher(algorithms.SM4(data_key), modes.GCM(iv)).encryptor()
    enc.authenticate_additional_data(f"{merchant_id}|{field}".encode())
    body = enc.update(plain.encode("utf-8")) + enc.finalize()
    return base64.b64encode(iv + body + enc.tag).decode("ascii")


def decrypt_field(data_key: bytes, merchant_id: str, field: str, token: Any) -> str:
    from bank_sandbox.codes import DECRYPT_FAILED

    try:
        raw = base64.b64decode(str(token), validate=True)
        if len(raw) < 12 + 16:
            raise ValueError("short")
        iv, body, tag = raw[:12], raw[12:-16], raw[-16:]
        dec = Cipher(algorithms.SM4(data_key), modes.GCM(iv, tag)).decryptor()
        dec.authenticate_additional_data(f"{merchant_id}|{field}".encode())
        return (dec.update(body) + dec.finalize()).decode("utf-8")
    except (ValueError, InvalidTag, binascii.Error, UnicodeDecodeError) as exc:
        raise WireError(DECRYPT_FAILED, f"字段 {field} 解密失败") from exc


def parse_request(raw: bytes, interface: str, keys: dict[str, bytes], now_ms: int) -> dict[str, Any]:
    """Check the envelope (shape, merchant, freshness, signature) and return it. Nonce replay is checked by
    the caller, which persists nonces."""
    from bank_sandbox import codes

    try:
        env = json.loads(raw.decode("utf-8"), parse_float=_no_float)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError(codes.VALIDATION, "报文不是有效的 JSON") from exc
    if not isinstance(env, dict):
        raise WireError(codes.VALIDATION, "报文格式错误")
    for name in ("version", "merchant_id", "interface", "timestamp", "nonce", "sign"):
        if not isinstance(env.get(name), str):
            raise WireError(codes.VALIDATION, f"报文缺少字段 {name}")
    if not isinstance(env.get("data"), dict):
        raise WireError(codes.VALIDATION, "报文缺少字段 data")
    if env["version"] != VERSION:
        raise WireError(codes.VALIDATION, "不支持的协议版本")
    if env["interface"] != interface:
        raise WireError(codes.VALIDATION, "接口名与地址不符")
    key = keys.get(env["merchant_id"])
    if key is None:
        raise WireError(codes.UNKNOWN_MERCHANT, "商户号不存在")
    expected = sign(key, "REQ", env["merchant_id"], interface, env["timestamp"], env["nonce"], env["data"])
    if not std_hmac.compare_digest(expected, env["sign"].lower()):
        raise WireError(codes.BAD_SIGNATURE, "签名验证失败")
    if not env["timestamp"].isdigit() or abs(now_ms - int(env["timestamp"])) > MAX_SKEW_MS:
        raise WireError(codes.STALE_TIMESTAMP, "时间戳超出五分钟有效期")
    if not (16 <= len(env["nonce"]) <= 64):
        raise WireError(codes.VALIDATION, "随机数长度应为 16–64 个字符")
    return env


def _no_float(text: str) -> Any:
    from bank_sandbox import codes

    raise WireError(codes.VALIDATION, f"金额与数量必须为整数（分），收到 {text}")


def build_reply(key: bytes, merchant_id: str, interface: str, nonce: str, data: dict[str, Any],
                timestamp_ms: int) -> bytes:
    ts = str(timestamp_ms)
    text = canonical_json(data)
    signature = hmac_sm3_hex(key, "\n".join([TAG, "RSP", merchant_id, interface, ts, nonce, text]).encode("utf-8"))
    head = json.dumps({"version": VERSION, "merchant_id": merchant_id, "interface": interface, "timestamp": ts,
                       "nonce": nonce}, ensure_ascii=False, separators=(",", ":"))
    return (head[:-1] + ',"data":' + text + ',"sign":"' + signature + '"}').encode("utf-8")
