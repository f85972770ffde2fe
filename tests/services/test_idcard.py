"""ID-card readers: wedge line formats, the simulated demo reader, per-workstation choice."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from desktop_his.services import idcard
from desktop_his.services.enums import Sex
from desktop_his.services.errors import ConfigError, ValidationError
from desktop_his.services.idcard import (
    DEMO_CARDS,
    IdCardData,
    KeyboardWedgeReader,
    SimulatedIdCardReader,
    parse_wedge_line,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
FULL = "张伟|男|汉|19850312|四川省成都市锦江区红星路二段12号|510104198503121232|成都市公安局锦江分局|20160510-20360510"


def test_number_alone_with_enter() -> None:
    card = parse_wedge_line("510104198503121232\r\n")
    assert (card.id_number, card.sex, card.birth_date, card.name) == (
        "510104198503121232", Sex.MALE, date(1985, 3, 12), "")


def test_fullwidth_and_lowercase_x() -> None:
    assert parse_wedge_line("１１０１０５１９４９１２３１００２x").id_number == "11010519491231002X"


def test_name_and_number() -> None:
    card = parse_wedge_line("𠮷野|510108199212123019")
    assert (card.name, card.id_number, card.sex) == ("𠮷野", "510108199212123019", Sex.MALE)


def test_full_record() -> None:
    card = parse_wedge_line(FULL)
    assert card == IdCardData(name="张伟", id_number="510104198503121232", sex=Sex.MALE, ethnicity="汉",
                              birth_date=date(1985, 3, 12), address="四川省成都市锦江区红星路二段12号",
                              issuing_authority="成都市公安局锦江分局", valid_from=date(2016, 5, 10),
                              valid_to=date(2036, 5, 10))
    assert card.sex_label == "男"


def test_full_record_with_long_term_validity() -> None:
    card = parse_wedge_line(FULL.replace("20160510-20360510", "20100601-长期").replace("|汉|", "|汉族|"))
    assert (card.valid_from, card.valid_to, card.ethnicity) == (date(2010, 6, 1), None, "汉")


@pytest.mark.parametrize("line, text", [
    ("", "未读到"),
    ("51010419850312123", "18位"),
    ("510104198503121231", "校验位"),
    (FULL.replace("|男|", "|女|"), "性别"),
    (FULL.replace("|男|", "|X|"), "性别"),
    (FULL.replace("|19850312|", "|19850313|"), "出生日期"),
    ("张\x07伟|510104198503121232", "控制字符"),
])
def test_bad_lines_are_refused(line: str, text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_wedge_line(line)
    assert text in exc.value.message
    assert exc.value.field in {"id_number", "name"}


def test_wedge_reader_hands_each_card_once() -> None:
    reader = KeyboardWedgeReader(today=lambda: date(2026, 11, 23))
    assert reader.read() is None
    submitted = reader.submit("510104198503121232")
    assert reader.read() == submitted
    assert reader.read() is None


def test_wedge_reader_refuses_future_birth_dates() -> None:
    reader = KeyboardWedgeReader(today=lambda: date(2000, 1, 1))
    with pytest.raises(ValidationError, match="出生日期"):
        reader.submit("510104201806150510")


def test_simulated_reader_cycles_the_demo_cards() -> None:
    reader = SimulatedIdCardReader()
    names = [reader.read().name for _ in range(len(DEMO_CARDS) + 1)]
    assert names[0] == "张伟" and names[-1] == "张伟"
    assert "𠮷野" in names


def test_demo_cards_match_docs_demo_data() -> None:
    """Every 居民身份证 holder of docs/demo-data.md is on a demo card with the same number, sex and birth."""
    rows = re.findall(r"^\| (\S+) \| 居民身份证 \| (\d{17}[\dX]) \| ([男女]) \| (\d{4}-\d\d-\d\d) \|",
                      (DOCS / "demo-data.md").read_text(encoding="utf-8"), re.M)
    assert len(rows) == 10
    cards = {c.id_number: c for c in DEMO_CARDS}
    for name, number, sex, born in rows:
        card = cards[number]
        assert (card.name, card.sex_label, card.birth_date.isoformat()) == (name, sex, born)
    assert len(cards) == len(rows)


def test_reader_setting_per_workstation(sqlite_db, clock) -> None:  # noqa: ANN001
    with sqlite_db.session() as s:
        assert idcard.load_reader_setting(s, "win-01", demo=True) == {"kind": "simulated"}
        assert idcard.load_reader_setting(s, "win-01", demo=False) == {"kind": "wedge"}
        idcard.save_reader_setting(s, "win-01", {"kind": "wedge"}, at=clock.now(), by="admin")
        with pytest.raises(ValidationError):
            idcard.save_reader_setting(s, "win-01", {"kind": "nope"}, at=clock.now(), by="admin")
    with sqlite_db.reader() as s:
        setting = idcard.load_reader_setting(s, "win-01", demo=True)
        assert idcard.load_reader_setting(s, "win-02", demo=True) == {"kind": "simulated"}
    assert isinstance(idcard.make_reader(setting), KeyboardWedgeReader)


def test_vendor_adapter_registration(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(idcard, "_FACTORIES", dict(idcard._FACTORIES))
    with pytest.raises(ConfigError, match="未安装读卡器驱动"):
        idcard.make_reader({"kind": "cvr100"})

    class FakeSdk:
        label = "华视 CVR-100"

        def __init__(self, port: int) -> None:
            self.port = port

        def read(self) -> IdCardData | None:
            return None

    idcard.register_reader_kind("cvr100", FakeSdk.label, lambda o: FakeSdk(int(o.get("port", 1001))))
    assert idcard.reader_kinds()["cvr100"] == "华视 CVR-100"
    assert idcard.make_reader({"kind": "cvr100", "port": 1002}).port == 1002
