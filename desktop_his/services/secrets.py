"""Secrets (the bank merchant key, the SM4 data key) live in the OS keyring — never in the settings file,
the database or a log.

A real bank credential is refused when the keyring backend would keep it in plain text (``keyrings.alt``'s
file backends) or cannot keep it at all (the ``fail``/``null`` backends of a headless machine); the message
says what to install. Demo mode uses the sandbox's published demo keys and needs no keyring. Tests install
:class:`MemoryKeyring` with ``keyring.set_keyring()``.
"""

from __future__ import annotations

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

from desktop_his.services.errors import SecretStoreError

SERVICE = "desktop_his"
BANK_MERCHANT_KEY = "bank.merchant_key"  # HMAC-SM3 signing key (hex)
BANK_DATA_KEY = "bank.data_key"  # SM4 key for name / ID number (hex)

_INSECURE_MODULE_PREFIXES = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")


class MemoryKeyring(KeyringBackend):
    """Process-local keyring for tests: secure enough (nothing leaves memory), forgotten at exit."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self._store[(service, username)]
        except KeyError as exc:
            raise PasswordDeleteError(username) from exc


def backend_description() -> str:
    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def insecure_reason() -> str | None:
    """Why the current keyring cannot hold a real credential, or None when it can."""
    backend = keyring.get_keyring()
    backends = getattr(backend, "backends", None)  # ChainerBackend: judge the one that would store
    if backends is not None:
        if not backends:
            return "系统没有可用的密钥环（keyring）"
        backend = max(backends, key=lambda b: b.priority)
    module = type(backend).__module__
    if module.startswith(_INSECURE_MODULE_PREFIXES):
        name = type(backend).__name__
        if module.startswith("keyrings.alt"):
            return f"密钥环后端 {name} 以明文保存密码"
        return "系统没有可用的密钥环（keyring）"
    return None


def store_secret(name: str, value: str) -> None:
    """Store a real credential; refuse plaintext or failing backends with a clear message."""
    reason = insecure_reason()
    if reason:
        raise SecretStoreError(
            f"{reason}，拒绝保存银行密钥。请在 Windows 凭据管理器、macOS 钥匙串或 Linux 的 "
            "Secret Service（gnome-keyring / KWallet）可用的账号下运行本程序后再设置。"
        )
    try:
        keyring.set_password(SERVICE, name, value)
    except KeyringError as exc:
        raise SecretStoreError(f"无法写入系统密钥环：{exc}") from exc


def load_secret(name: str) -> str | None:
    try:
        return keyring.get_password(SERVICE, name)
    except KeyringError as exc:
        raise SecretStoreError(f"无法读取系统密钥环：{exc}") from exc


def delete_secret(name: str) -> None:
    try:
        keyring.delete_password(SERVICE, name)
    except PasswordDeleteError:
        pass
    except KeyringError as exc:
        raise SecretStoreError(f"无法访问系统密钥环：{exc}") from exc
