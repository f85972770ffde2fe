from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from desktop_his.services import secrets
from desktop_his.services.config import load_settings, save_settings
from desktop_his.services.errors import ConfigError, SecretStoreError, ValidationError
from desktop_his.services.money import format_fen, parse_yuan


def test_defaults_then_file_then_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "settings.toml"
    cfg.write_text('workstation = "WIN-FILE"\nidle_lock_minutes = 5\nbank_url = "https://bank.example"\n',
                   encoding="utf-8")
    env = {"DESKTOP_HIS_CONFIG_FILE": str(cfg), "DESKTOP_HIS_WORKSTATION": "WIN-ENV",
           "DESKTOP_HIS_DATA_DIR": str(tmp_path / "data")}
    s = load_settings(env)
    assert s.workstation == "WIN-ENV"
    assert s.idle_lock_minutes == 5
    assert s.bank_url == "https://bank.example" and not s.demo_mode
    assert s.effective_database_url == f"sqlite:///{(tmp_path / 'data' / 'his.sqlite3').as_posix()}"


def test_postgres_url_mapped_to_psycopg(tmp_path: Path) -> None:
    env = {"DESKTOP_HIS_CONFIG_FILE": str(tmp_path / "none.toml"),
           "DESKTOP_HIS_DATABASE_URL": "postgresql://his@db.hospital/his"}
    assert load_settings(env).effective_database_url == "postgresql+psycopg://his@db.hospital/his"


def test_demo_mode_when_bank_url_empty(tmp_path: Path) -> None:
    assert load_settings({"DESKTOP_HIS_CONFIG_FILE": str(tmp_path / "none.toml")}).demo_mode


def test_bad_values_get_chinese_messages(tmp_path: Path) -> None:
    env = {"DESKTOP_HIS_CONFIG_FILE": str(tmp_path / "none.toml"), "DESKTOP_HIS_IDLE_LOCK_MINUTES": "soon"}
    with pytest.raises(ConfigError, match="无效"):
        load_settings(env)
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="未知配置项"):
        load_settings({"DESKTOP_HIS_CONFIG_FILE": str(bad)})


def test_save_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    s = load_settings({"DESKTOP_HIS_CONFIG_FILE": str(path)})
    s.hospital_name = "成都市第一人民医院"
    save_settings(s, path)
    assert load_settings({"DESKTOP_HIS_CONFIG_FILE": str(path)}).hospital_name == "成都市第一人民医院"
    assert "key" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("text, fen", [("12.5", 1250), ("0.01", 1), ("¥1,234.00", 123400), (" 3 ", 300)])
def test_parse_yuan(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "-1", "1.001", "NaN", "Infinity", "1e400"])
def test_parse_yuan_refuses(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_yuan(text, field="amount")


def test_format_fen() -> None:
    assert format_fen(123456) == "1,234.56"
    assert format_fen(-5, symbol=True) == "¥-0.05"


def test_secret_round_trip_in_memory_keyring() -> None:
    secrets.store_secret(secrets.BANK_MERCHANT_KEY, "00112233")
    assert secrets.load_secret(secrets.BANK_MERCHANT_KEY) == "00112233"
    secrets.delete_secret(secrets.BANK_MERCHANT_KEY)
    assert secrets.load_secret(secrets.BANK_MERCHANT_KEY) is None


def test_plaintext_and_failing_backends_refused() -> None:
    from keyring.backends import fail

    class PlaintextKeyring(secrets.MemoryKeyring):
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    for backend in (fail.Keyring(), PlaintextKeyring()):
        keyring.set_keyring(backend)
        with pytest.raises(SecretStoreError, match="拒绝保存银行密钥"):
            secrets.store_secret(secrets.BANK_MERCHANT_KEY, "secret")
