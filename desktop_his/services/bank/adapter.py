"""Wire adapter for protocol v1 (docs/bank-api.md): the only module that knows field names, the canonical
string, HMAC-SM3 signing and SM4-GCM field encryption. A real bank's format becomes a second adapter with
the same two methods; nothing else changes.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from desktop_his.services.bank.crypto import hmac_sm3_hex, sm4_gcm_encrypt
from desktop_his.services.bank.protocol import BankRequest, BankResult, BankStatus
from desktop_his.services.config import Settings
from desktop_his.services.errors import ConfigError
from desktop_his.services.secrets import BANK_DATA_KEY, BANK_MERCHANT_KEY, load_secret

VERSION = "1"
TAG = "XYJY-V1"
# Published demo keys, identical to the sandbox's: only ever used against the sandbox (demo mode).
DEMO_MERCHANT_KEY_HEX = "03478b259dce1c7a65b1f326e2db1b322ff7b3aa208af1948d488a556359f871"
DEMO_DATA_KEY_HEX = "dd6c31fa049bec79ce4b200e0e00f987"
SENSITIVE = {"name": "name_enc", "id_number": "id_no_enc"}  # plain field → encrypted wire field


class DecodeError(Exception):
    """The reply is not a well-formed, correctly signed answer to this request (→ ADPTSY0008)."""


@dataclass(frozen=True)
class BankKeys:
    merchant_id: str
    merchant_key: bytes  # HMAC-SM3 key
    data_key: bytes  # SM4 key (16 bytes)

    @classmethod
    def demo(cls, merchant_id: str = "HIS0001") -> BankKeys:
        return cls(merchant_id, bytes.fromhex(DEMO_MERCHANT_KEY_HEX), bytes.fromhex(DEMO_DATA_KEY_HEX))

    @classmethod
    def from_keyring(cls, merchant_id: str) -> BankKeys:
        """The real bank's keys (hex) from the OS keyring; a clear message when they are missing."""
        sign_hex, data_hex = load_secret(BANK_MERCHANT_KEY), load_secret(BANK_DATA_KEY)
        if not sign_hex or not data_hex:
            raise ConfigError("未在系统密钥环中配置银行商户密钥与数据密钥，请由管理员在“银行连接设置”中录入")
        try:
            keys = cls(merchant_id, bytes.fromhex(sign_hex), bytes.fromhex(data_hex))
        except ValueError as exc:
            raise ConfigError("银行密钥格式错误（应为十六进制）") from exc
        if len(keys.data_key) != 16 or len(keys.merchant_key) < 16:
            raise ConfigError("银行密钥长度错误：数据密钥 16 字节，商户密钥至少 16 字节")
        return keys

    @classmethod
    def for_settings(cls, settings: Settings) -> BankKeys:
        return cls.demo(settings.bank_merchant_id) if settings.demo_mode else cls.from_keyring(
            settings.bank_merchant_id)


@dataclass(frozen=True)
class WireCall:
    interface: str
    path: str
    body: bytes
    nonce: str
    timestamp: str


class BankAdapter(Protocol):
    def encode(self, request: BankRequest, *, nonce: str | None = None, timestamp: str | None = None) -> WireCall:
        interface = str(request.op)
        nonce = nonce or secrets.token_hex(16)
        timestamp = timestamp or str(int(time.time() * 1000))
        data = canonical_json(self.wire_data(request))
        text = "\n".join([TAG, "REQ", self.keys.merchant_id, interface, timestamp, nonce, data])
        sign = hmac_sm3_hex(self.keys.merchant_key, text.encode("utf-8"))
        # The envelope around the canonical data text (the same JSON; built once, not serialised twice).
        body = (f'{{"version":"{VERSION}","merchant_id":{json.dumps(self.keys.merchant_id)},"interface":"{interface}",'
                f'"timestamp":"{timestamp}","nonce":"{nonce}","data":{data},"sign":"{sign}"}}').encode()
        return WireCall(interface, f"/api/v1/{interface}", body, nonce, timestamp)

    def decode(self, call: WireCall, http_status: int, body: bytes) -> BankResult: ...


def canonical_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical_string(kind: str, merchant_id: str, interface: str, timestamp: str, nonce: str,
                     data: dict[str, Any]) -> str:
    return "\n".join([TAG, kind, merchant_id, interface, timestamp, nonce, canonical_json(data)])


class JsonV1Adapter:
    """Protocol v1: JSON envelope, HMAC-SM3 over the canonical string, SM4-GCM for name and ID number."""

    def __init__(self, keys: BankKeys) -> None:
        self.keys = keys

    def sign(self, kind: str, interface: str, timestamp: str, nonce: str, data: dict[str, Any]) -> str:
        text = canonical_string(kind, self.keys.merchant_id, interface, timestamp, nonce, data)
        return hmac_sm3_hex(self.keys.merchant_key, text.encode("utf-8"))

    def encrypt(self, wire_field: str, plain: str, iv: bytes | None = None) -> str:
        aad = f"{self.keys.merchant_id}|{wire_field}".encode()
        return sm4_gcm_encrypt(self.keys.data_key, plain.encode("utf-8"), aad, iv)

    def wire_data(self, request: BankRequest) -> dict[str, Any]:
        data = {}
        for name, value in request.params().items():
            if name in SENSITIVE:
                data[SENSITIVE[name]] = self.encrypt(SENSITIVE[name], value)
            else:
                data[name] = value
        return data

    def encode(self, request: BankRequest, *, nonce: str | None = None, timestamp: str | None = None) -> WireCall:
        interface = str(request.op)
        nonce = nonce or secrets.token_hex(16)
        timestamp = timestamp or str(int(time.time() * 1000))
        data = self.wire_data(request)
        env = {"version": VERSION, "merchant_id": self.keys.merchant_id, "interface": interface,
               "timestamp": timestamp, "nonce": nonce, "data": data,
               "sign": self.sign("REQ", interface, timestamp, nonce, data)}
        body = json.dumps(env, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return WireCall(interface, f"/api/v1/{interface}", body, nonce, timestamp)

    def decode(self, call: WireCall, http_status: int, body: bytes) -> BankResult:
        try:
            env = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise DecodeError(f"HTTP {http_status}: 响应不是 JSON") from exc
        if not isinstance(env, dict) or not isinstance(env.get("data"), dict) or not isinstance(env.get("sign"), str):
            raise DecodeError(f"HTTP {http_status}: 响应缺少签名或数据")
        if (env.get("version"), env.get("merchant_id"), env.get("interface"), env.get("nonce")) != (
                VERSION, self.keys.merchant_id, call.interface, call.nonce):
            raise DecodeError("响应与请求不匹配（商户号、接口或随机数）")
        expected = self.sign("RSP", call.interface, str(env.get("timestamp")), call.nonce, env["data"])
        if not hmac.compare_digest(expected, env["sign"].lower()):
            raise DecodeError("响应验签失败")
        data = env["data"]
        try:
            status = BankStatus(data.get("status"))
        except ValueError as exc:
            raise DecodeError(f"未知的交易状态 {data.get('status')!r}") from exc
        if not isinstance(data.get("code"), str):
            raise DecodeError("响应缺少结果码")
        serial = data.get("serial")
        return BankResult(status, data["code"], str(data.get("message") or "")[:200],
                          serial if isinstance(serial, str) else None, data)
