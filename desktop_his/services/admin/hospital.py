"""Hospital-wide settings (name, registration rules) and this PC's bank connection.

The hospital name and the registration rules live in the database (every PC sees the same). The bank URL,
merchant id and timeouts are this PC's settings file (each PC may reach the bank through its own network
path); the merchant key and the SM4 data key go to the OS keyring only — never the file, the database or a
log. Bank connection changes take effect at the next start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from desktop_his.services import audit, config, live, secrets
from desktop_his.services.admin import common
from desktop_his.services.clock import Clock
from desktop_his.services.config import Settings
from desktop_his.services.db import Database
from desktop_his.services.errors import SecretStoreError, ValidationError
from desktop_his.services.models import Setting
from desktop_his.services.permissions import Action, Actor, require
from desktop_his.services.rules_config import RegistrationRules, load_rules, save_rules

SCOPE = "hospital"
HOSPITAL_NAME_KEY = "hospital_name"
TOPIC = "settings"
_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclass(frozen=True)
class BankConnection:
    url: str
    merchant_id: str
    connect_timeout: float
    read_timeout: float
    merchant_key_set: bool
    data_key_set: bool
    keyring_problem: str | None  # why real keys cannot be stored here, or None

    @property
    def demo(self) -> bool:
        return not self.url


@dataclass
class BankConnectionForm:
    url: str
    merchant_id: str
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    merchant_key: str = ""  # empty: keep the stored one
    data_key: str = ""  # empty: keep the stored one


class HospitalSettingsService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, *, config_path: Path | None = None) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.config_path = config_path

    # ----------------------------------------------------------------------------------- hospital name

    def hospital_name(self) -> str:
        with self.db.reader() as s:
            row = s.get(Setting, (SCOPE, HOSPITAL_NAME_KEY))
        return row.value if row is not None and isinstance(row.value, str) else self.settings.hospital_name

    def set_hospital_name(self, actor: Actor, name: str) -> str:
        require(actor, Action.RULES_MANAGE)
        name = common.text(name, field="hospital_name", label="医院名称", max_len=60)
        now = self.clock.now()
        with self.db.session() as s:
            row = s.get(Setting, (SCOPE, HOSPITAL_NAME_KEY))
            before = row.value if row is not None else None
            if row is None:
                s.add(Setting(scope=SCOPE, key=HOSPITAL_NAME_KEY, value=name, updated_at=now,
                              updated_by=actor.username))
            else:
                row.value, row.updated_at, row.updated_by = name, now, actor.username
            audit.append(s, actor=actor, action="settings.hospital_name", at=now, entity="setting",
                         entity_id=HOSPITAL_NAME_KEY, detail={"before": before, "after": name})
            live.publish(s, TOPIC)
        return name

    # ------------------------------------------------------------------------------ registration rules

    def rules(self) -> RegistrationRules:
        with self.db.reader() as s:
            return load_rules(s)

    def save_rules(self, actor: Actor, rules: RegistrationRules) -> RegistrationRules:
        require(actor, Action.RULES_MANAGE)
        rules.validated()
        now = self.clock.now()
        with self.db.session() as s:
            before = load_rules(s)
            save_rules(s, rules, at=now, by=actor.username)
            changed = {k: [getattr(before, k), v] for k, v in vars(rules).items() if getattr(before, k) != v}
            audit.append(s, actor=actor, action="settings.registration_rules", at=now, entity="setting",
                         entity_id="registration_rules", detail={"changed": changed})
            live.publish(s, TOPIC)
        return rules

    # ---------------------------------------------------------------------------------- bank connection

    def bank_connection(self) -> BankConnection:
        st = self.settings
        return BankConnection(st.bank_url, st.bank_merchant_id, st.bank_connect_timeout, st.bank_read_timeout,
                              _has_secret(secrets.BANK_MERCHANT_KEY), _has_secret(secrets.BANK_DATA_KEY),
                              secrets.insecure_reason())

    def save_bank_connection(self, actor: Actor, form: BankConnectionForm) -> BankConnection:
        """Validate, store the keys in the keyring, write this PC's settings file; audited without key values."""
        require(actor, Action.BANK_SETTINGS)
        url, merchant_id = _bank_url(form.url), _merchant_id(form.merchant_id)
        connect = _timeout(form.connect_timeout, "connect_timeout", "连接超时")
        read = _timeout(form.read_timeout, "read_timeout", "响应超时")
        merchant_key = _hex_key(form.merchant_key, field="merchant_key", label="商户密钥", min_len=32)
        data_key = _hex_key(form.data_key, field="data_key", label="SM4 数据密钥", exact_len=32)
        if url and not merchant_key and not _has_secret(secrets.BANK_MERCHANT_KEY):
            raise ValidationError("连接真实银行需要商户密钥，请输入", field="merchant_key")
        if url and not data_key and not _has_secret(secrets.BANK_DATA_KEY):
            raise ValidationError("连接真实银行需要 SM4 数据密钥，请输入", field="data_key")
        for name, value, field in ((secrets.BANK_MERCHANT_KEY, merchant_key, "merchant_key"),
                                   (secrets.BANK_DATA_KEY, data_key, "data_key")):
            if value:
                try:
                    secrets.store_secret(name, value)
                except SecretStoreError as exc:
                    raise SecretStoreError(exc.message, field=field) from exc
        updated = config.replace(self.settings, bank_url=url, bank_merchant_id=merchant_id,
                                 bank_connect_timeout=connect, bank_read_timeout=read)
        path = config.save_settings(updated, self.config_path)
        for key in ("bank_url", "bank_merchant_id", "bank_connect_timeout", "bank_read_timeout"):
            setattr(self.settings, key, getattr(updated, key))
        with self.db.session() as s:
            audit.append(s, actor=actor, action="settings.bank_connection", at=self.clock.now(),
                         entity="setting", entity_id="bank", detail={
                             "bank_url": url, "merchant_id": merchant_id, "connect_timeout": connect,
                             "read_timeout": read, "merchant_key_changed": bool(merchant_key),
                             "data_key_changed": bool(data_key), "settings_file": str(path)})
        return self.bank_connection()


def _has_secret(name: str) -> bool:
    try:
        return bool(secrets.load_secret(name))
    except SecretStoreError:
        return False


def _bank_url(value: str) -> str:
    url = (value or "").strip()
    if not url:
        return ""  # demo: the in-process sandbox
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError("银行地址应以 https:// 开头，例如 https://bank.example.com/his", field="bank_url")
    return url.rstrip("/")


def _merchant_id(value: str) -> str:
    merchant = (value or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", merchant):
        raise ValidationError("商户号应为 1–32 位字母或数字", field="merchant_id")
    return merchant


def _timeout(value: float, field: str, label: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{label}应为秒数", field=field) from exc
    if not 0.5 <= seconds <= 120:
        raise ValidationError(f"{label}应在 0.5–120 秒之间", field=field)
    return seconds


def _hex_key(value: str, *, field: str, label: str, min_len: int = 0, exact_len: int = 0) -> str:
    key = (value or "").strip().replace(" ", "")
    if not key:
        return ""
    if not _HEX.fullmatch(key) or len(key) % 2:
        raise ValidationError(f"{label}应为十六进制字符串", field=field)
    if exact_len and len(key) != exact_len:
        raise ValidationError(f"{label}应为 {exact_len} 位十六进制（{exact_len // 2} 字节）", field=field)
    if len(key) < min_len:
        raise ValidationError(f"{label}至少 {min_len} 位十六进制", field=field)
    return key.lower()
