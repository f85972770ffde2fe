"""Hospital name, registration rules and this PC's bank connection (keys only ever in the keyring)."""

from __future__ import annotations

from dataclasses import replace

import keyring
import pytest
from sqlalchemy import select

from desktop_his.services import secrets
from desktop_his.services.admin.hospital import BankConnectionForm
from desktop_his.services.config import load_settings
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.services.errors import PermissionDenied, SecretStoreError, ValidationError
from desktop_his.services.models import AuditRecord
from desktop_his.services.rules_config import RegistrationRules
from tests.helpers import add_staff, admin

KEY32 = "00112233445566778899aabbccddeeff"


def test_hospital_name_defaults_to_settings_then_database(services: Services) -> None:
    assert services.hospital.hospital_name() == "演示医院"
    services.hospital.set_hospital_name(admin(services), " 成都市第一人民医院 ")
    assert services.hospital.hospital_name() == "成都市第一人民医院"
    with pytest.raises(ValidationError, match="请输入医院名称"):
        services.hospital.set_hospital_name(admin(services, "root2"), "")


def test_rules_saved_validated_and_audited(services: Services) -> None:
    root = admin(services)
    rules = replace(RegistrationRules(), max_per_day=3, cancel_time="20:00")
    services.hospital.save_rules(root, rules)
    assert services.hospital.rules() == rules
    with pytest.raises(ValidationError) as err:
        services.hospital.save_rules(root, replace(rules, booking_days_ahead=120))
    assert err.value.field == "booking_days_ahead"
    assert services.hospital.rules().booking_days_ahead == 7
    with services.db.reader() as s:
        rec = s.execute(select(AuditRecord).where(AuditRecord.action == "settings.registration_rules")).scalar_one()
    assert rec.detail["changed"] == {"max_per_day": [2, 3], "cancel_time": ["00:00", "20:00"]}


def test_bank_connection_keys_go_to_the_keyring_only(services: Services, tmp_path) -> None:  # noqa: ANN001
    root = admin(services)
    result = services.hospital.save_bank_connection(root, BankConnectionForm(
        "https://bank.example.com/his/", "HOSP01", 5, 20, merchant_key=KEY32 * 2, data_key=KEY32.upper()))
    assert result.url == "https://bank.example.com/his" and result.merchant_key_set and result.data_key_set
    assert secrets.load_secret(secrets.BANK_DATA_KEY) == KEY32
    text = (tmp_path / "settings.toml").read_text(encoding="utf-8")
    assert "bank.example.com" in text and KEY32 not in text.lower()
    reloaded = load_settings({"DESKTOP_HIS_CONFIG_FILE": str(tmp_path / "settings.toml")})
    assert (reloaded.bank_url, reloaded.bank_merchant_id, reloaded.bank_read_timeout) == (
        "https://bank.example.com/his", "HOSP01", 20.0)
    with services.db.reader() as s:
        rec = s.execute(select(AuditRecord).where(AuditRecord.action == "settings.bank_connection")).scalar_one()
    assert KEY32 not in str(rec.detail).lower() and rec.detail["merchant_key_changed"] is True


@pytest.mark.parametrize("form, field, message", [
    (BankConnectionForm("ftp://bank", "H1"), "bank_url", "https://"),
    (BankConnectionForm("", "商户"), "merchant_id", "商户号"),
    (BankConnectionForm("", "H1", connect_timeout=0), "connect_timeout", "0.5–120"),
    (BankConnectionForm("", "H1", data_key="xyz"), "data_key", "十六进制"),
    (BankConnectionForm("", "H1", data_key="0011"), "data_key", "32 位"),
    (BankConnectionForm("https://bank.example.com", "H1"), "merchant_key", "需要商户密钥"),
])
def test_bad_bank_settings_refused_at_the_field(sqlite_services: Services, form: BankConnectionForm, field: str,
                                                message: str, tmp_path) -> None:  # noqa: ANN001
    services = sqlite_services  # input validation does not depend on the database
    with pytest.raises(ValidationError, match=message) as err:
        services.hospital.save_bank_connection(admin(services), form)
    assert err.value.field == field
    assert not (tmp_path / "settings.toml").exists()


def test_plaintext_keyring_refused_with_its_message(services: Services, tmp_path) -> None:  # noqa: ANN001
    root = admin(services)
    class PlaintextKeyring(secrets.MemoryKeyring):  # judged by module, as keyrings.alt's file backend
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        with pytest.raises(SecretStoreError, match="明文") as err:
            services.hospital.save_bank_connection(root, BankConnectionForm("", "H1", merchant_key=KEY32))
        assert err.value.field == "merchant_key"
        assert services.hospital.bank_connection().keyring_problem
    finally:
        keyring.set_keyring(previous)
    assert not (tmp_path / "settings.toml").exists()


def test_only_admins_touch_settings(services: Services) -> None:
    finance = add_staff(services, "fin", Role.FINANCE)
    with pytest.raises(PermissionDenied, match="银行连接设置"):
        services.hospital.save_bank_connection(finance, BankConnectionForm("", "H1"))
    with pytest.raises(PermissionDenied, match="挂号规则设置"):
        services.hospital.save_rules(finance, RegistrationRules())
