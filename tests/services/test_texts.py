"""The SPEC §6 texts are exact (same characters, same curly quotes), and the service is never misnamed."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from desktop_his.services import texts

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(os.environ.get("DESKTOP_HIS_SPEC", "/work/shared/SPEC.md"))

# SPEC §6, copied from the SPEC by hand (independently of texts.py): a change to either side fails.
SPEC_SECTION_6 = {
    "REGISTRATION_CREDIT_PROMPT":
        "您已签约“信用就医”，请确认本次挂号费用及后续可能产生医疗费用是否使用“信用就医”额度进行支付",
    "DOCTOR_CREDIT_NOTICE": "该患者本次就诊已确认使用“信用就医”服务",
    "CREDIT_TOTAL_PREFIX": "患者本次使用“信用就医”额度支付总费用",
    "SLIP_MARK_CREDIT": "信用就医",
    "SLIP_MARK_FAMILY": "亲情付",
    "REFUND_FAILED_NOTICE": "该居民退款失败",
    "SERVICE_NAME": "信用就医",
}


@pytest.mark.parametrize("name", sorted(SPEC_SECTION_6))
def test_constant_is_the_spec_text(name: str) -> None:
    assert getattr(texts, name) == SPEC_SECTION_6[name]


def test_quotes_are_chinese_curly_quotes() -> None:
    for value in (texts.REGISTRATION_CREDIT_PROMPT, texts.DOCTOR_CREDIT_NOTICE, texts.CREDIT_TOTAL_PREFIX):
        assert "\u201c信用就医\u201d" in value
        assert not set(value) & set("\"'‘’「」")


def spec_section_6(text: str) -> list[str]:
    section = text.split("## 6.", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"`([^`]+)`", section)


def test_every_spec_section_6_text_is_a_constant() -> None:
    """Read §6 of the SPEC itself (where the shared SPEC is present) and find each quoted text here."""
    if not SPEC.is_file():
        pytest.skip(f"SPEC not present at {SPEC}")
    quoted = spec_section_6(SPEC.read_text(encoding="utf-8"))
    assert len(quoted) >= 7
    constants = {v for k, v in vars(texts).items() if k.isupper() and isinstance(v, str)}
    assert set(quoted) <= constants | set(texts.FORBIDDEN_SERVICE_NAMES)


def test_credit_total_text_is_the_mandated_text_followed_by_the_amount() -> None:
    assert texts.credit_total_text(3550) == "患者本次使用“信用就医”额度支付总费用：¥35.50"
    assert texts.credit_total_text(0).endswith("¥0.00")
    assert texts.credit_total_text(123456789).endswith("¥1,234,567.89")


@pytest.mark.parametrize(("credit", "family", "mark"), [
    (False, False, None), (False, True, None), (True, False, "信用就医"), (True, True, "亲情付"),
])
def test_slip_mark(credit: bool, family: bool, mark: str | None) -> None:
    assert texts.slip_mark(credit, family) == mark


def test_house_texts_name_the_service_correctly() -> None:
    for value in (texts.ORDER_LOCK_REFUSED, texts.VACCINE_LOCK_REFUSED):
        assert "“信用就医”" in value


def user_visible_strings(path: Path) -> list[tuple[int, str]]:
    """String literals of a Python module (what can reach a screen, slip or log); comments don't count."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_no_source_file_misnames_the_service() -> None:
    """§三.一 of the plan: 信用就医, never another name — in every string of the code and in every template."""
    offenders = []
    for folder in ("desktop_his", "bank_sandbox", "resources"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix == ".py" and path.name != "texts.py":
                lines = user_visible_strings(path)
            elif path.suffix in {".txt", ".html", ".json", ".ui", ".ts", ".toml"}:
                lines = list(enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1))
            else:
                continue
            offenders += [f"{path.relative_to(ROOT)}:{n}" for n, line in lines
                          for bad in texts.FORBIDDEN_SERVICE_NAMES if bad in line]
    assert offenders == []


def test_misnaming_checker_sees_string_literals(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    bad = texts.FORBIDDEN_SERVICE_NAMES[0]
    probe.write_text(f'# {bad} in a comment is fine\nLABEL = "使用{bad}"\n', encoding="utf-8")
    assert user_visible_strings(probe) == [(2, f"使用{bad}")]
