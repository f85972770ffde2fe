"""ID-card readers (二代身份证阅读器): one interface, several implementations, chosen per workstation.

- :class:`KeyboardWedgeReader` — readers that "type" into the focused field (and a cashier typing the number
  by hand). Two line formats are accepted, see :func:`parse_wedge_line`.
- :class:`SimulatedIdCardReader` — demo mode: hands out the demo patients of ``docs/demo-data.md`` in turn.
- Vendor SDK readers (华视 CVR-100, 神思 SS628, 精伦 iDR210 … through their DLLs) implement :class:`IdCardReader`
  and register a factory with :func:`register_reader_kind`; see ``docs/id-card-readers.md``.

The choice is the setting ``id_card_reader`` of scope ``ws:<workstation>``: ``{"kind": "wedge"}``,
``{"kind": "simulated"}`` or ``{"kind": "<vendor>", ...options}``.

``read()`` may block for as long as the hardware takes (an SDK polls the antenna): views call it through the
operation helper, never on the UI thread.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from desktop_his.services import ids
from desktop_his.services.enums import SEX_LABELS, IdType, Sex
from desktop_his.services.errors import ConfigError, ValidationError
from desktop_his.services.models import Setting

SETTING_KEY = "id_card_reader"


@dataclass(frozen=True)
class IdCardData:
    """What the chip of a 居民身份证 holds (the photo is left out: the HIS does not keep it)."""

    name: str
    id_number: str
    sex: Sex | None = None
    ethnicity: str = ""  # 民族, e.g. "汉"
    birth_date: date | None = None
    address: str = ""
    issuing_authority: str = ""  # 签发机关
    valid_from: date | None = None
    valid_to: date | None = None  # None with valid_from set = 长期
    id_type: IdType = IdType.RESIDENT

    @property
    def sex_label(self) -> str:
        return SEX_LABELS.get(self.sex, "") if self.sex else ""


class IdCardReader(Protocol):
    """Anything that can produce the card on the reader. ``read`` returns None when no card is there."""

    label: str  # shown in settings and the status bar

    def read(self) -> IdCardData | None: ...


# -------------------------------------------------------------------------------------- wedge / manual


_VALIDITY = re.compile(r"(\d{8})\s*[-－—~至]+\s*(\d{8}|长期)")


def _parse_day(text: str, field: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError as exc:
        raise ValidationError(f"读卡数据中的日期无效：{text}", field=field) from exc


def _sex_from_text(text: str) -> Sex | None:
    return {"男": Sex.MALE, "女": Sex.FEMALE, "1": Sex.MALE, "2": Sex.FEMALE}.get(text.strip())


def _full_record(fields: list[str], today: date | None) -> IdCardData:
    """``name|sex|ethnicity|birth|address|number|authority|validity`` (the order the SDKs return)."""
    fields = fields + [""] * (8 - len(fields))
    name, sex_text, ethnicity, birth_text, address, number, authority, validity = fields[:8]
    parsed = ids.parse_resident_id(number, today=today)
    sex = _sex_from_text(sex_text)
    if sex_text.strip() and sex is None:
        raise ValidationError(f"读卡数据中的性别无效：{sex_text}", field="id_number")
    if sex is not None and sex is not parsed.sex:
        raise ValidationError("读卡数据的性别与身份证号码不符，请重新读卡", field="id_number")
    if birth_text.strip() and _parse_day(birth_text.strip(), "id_number") != parsed.birth_date:
        raise ValidationError("读卡数据的出生日期与身份证号码不符，请重新读卡", field="id_number")
    valid_from = valid_to = None
    match = _VALIDITY.fullmatch(validity.strip())
    if match:
        valid_from = _parse_day(match.group(1), "id_number")
        valid_to = None if match.group(2) == "长期" else _parse_day(match.group(2), "id_number")
    return IdCardData(
        name=ids.normalize_name(name), id_number=parsed.number, sex=parsed.sex,
        ethnicity=ethnicity.strip().removesuffix("族"), birth_date=parsed.birth_date, address=address.strip(),
        issuing_authority=authority.strip(), valid_from=valid_from, valid_to=valid_to,
    )


def parse_wedge_line(line: str, *, today: date | None = None) -> IdCardData:
    """Parse what a keyboard-wedge reader (or the cashier) typed before Enter.

    Accepted forms (fields separated by ``|``; full-width characters and stray spaces are tolerated):

    - ``510104198503121232`` — the number alone (most wedge readers, and manual entry). The name is empty:
      the caller looks the patient up by number.
    - ``张伟|510104198503121232`` — name and number.
    - ``张伟|男|汉|19850312|四川省成都市…|510104198503121232|成都市公安局锦江分局|20150101-20350101`` — the
      full record in the chip's order; validity may end in ``长期``. Sex and birth date must agree with the number.

    Raises ValidationError (field ``id_number``) for anything else; nothing is guessed.
    """
    text = (line or "").replace("｜", "|").strip().strip("\r\n\t ")
    if not text:
        raise ValidationError("未读到身份证信息，请重新读卡或输入证件号码", field="id_number")
    fields = [f.strip() for f in text.split("|")]
    if len(fields) == 1:
        parsed = ids.parse_resident_id(fields[0], today=today)
        return IdCardData(name="", id_number=parsed.number, sex=parsed.sex, birth_date=parsed.birth_date)
    if len(fields) == 2:
        parsed = ids.parse_resident_id(fields[1], today=today)
        return IdCardData(name=ids.normalize_name(fields[0]), id_number=parsed.number, sex=parsed.sex,
                          birth_date=parsed.birth_date)
    return _full_record(fields, today)


class KeyboardWedgeReader:
    """Keyboard-wedge readers and manual entry: the view hands each line typed before Enter to
    :meth:`submit`; :meth:`read` then returns that card once. There is no device to poll."""

    label = "键盘输入式读卡器 / 手工输入"

    def __init__(self, today: Callable[[], date] | None = None) -> None:
        self._today = today
        self._pending: IdCardData | None = None
        self._lock = threading.Lock()

    def submit(self, line: str) -> IdCardData:
        card = parse_wedge_line(line, today=self._today() if self._today else None)
        with self._lock:
            self._pending = card
        return card

    def read(self) -> IdCardData | None:
        with self._lock:
            card, self._pending = self._pending, None
        return card


# --------------------------------------------------------------------------------------------- demo


def _card(name: str, number: str, address: str, authority: str, issued: date, expires: date | None) -> IdCardData:
    parsed = ids.parse_resident_id(number)
    return IdCardData(name=name, id_number=number, sex=parsed.sex, ethnicity="汉", birth_date=parsed.birth_date,
                      address=address, issuing_authority=authority, valid_from=issued, valid_to=expires)


# The 居民身份证 holders of docs/demo-data.md (tests/services/test_idcard.py keeps the two in step). The
# addresses and issuing authorities are invented for the demo.
DEMO_CARDS: tuple[IdCardData, ...] = (
    _card("张伟", "510104198503121232", "四川省成都市锦江区红星路二段12号", "成都市公安局锦江分局",
          date(2016, 5, 10), date(2036, 5, 10)),
    _card("李娜", "510104198707212347", "四川省成都市锦江区红星路二段12号", "成都市公安局锦江分局",
          date(2018, 3, 2), date(2038, 3, 2)),
    _card("张小明", "510104201806150510", "四川省成都市锦江区红星路二段12号", "成都市公安局锦江分局",
          date(2023, 7, 1), date(2028, 7, 1)),
    _card("王芳", "510105199001052020", "四川省成都市青羊区西御街8号", "成都市公安局青羊分局",
          date(2015, 9, 20), date(2035, 9, 20)),
    _card("刘洋", "510106197811301014", "四川省成都市金牛区一环路北三段5号", "成都市公安局金牛分局",
          date(2012, 4, 8), date(2032, 4, 8)),
    _card("陈静", "510107196505182020", "四川省成都市武侯区科华北路66号", "成都市公安局武侯分局",
          date(2010, 6, 1), None),
    _card("𠮷野", "510108199212123019", "四川省成都市成华区建设路18号", "成都市公安局成华分局",
          date(2019, 12, 12), date(2039, 12, 12)),
    _card("孙丽", "510112198009092042", "四川省成都市龙泉驿区龙都南路3号", "成都市公安局龙泉驿区分局",
          date(2014, 2, 14), date(2034, 2, 14)),
    _card("周杰", "510104199511110036", "四川省成都市锦江区春熙路9号", "成都市公安局锦江分局",
          date(2020, 11, 11), date(2030, 11, 11)),
    _card("吴敏", "510104200106064027", "四川省成都市锦江区东大街100号", "成都市公安局锦江分局",
          date(2021, 6, 6), date(2031, 6, 6)),
)


class SimulatedIdCardReader:
    """Demo mode: each ``read`` puts the next demo card on the reader (round robin)."""

    label = "模拟读卡器（演示模式）"

    def __init__(self, cards: Iterable[IdCardData] = DEMO_CARDS) -> None:
        cards = tuple(cards)
        if not cards:
            raise ValueError("a simulated reader needs at least one card")
        self._cycle = itertools.cycle(cards)
        self._lock = threading.Lock()

    def read(self) -> IdCardData | None:
        with self._lock:
            return next(self._cycle)


# ------------------------------------------------------------------------------ choice per workstation


ReaderFactory = Callable[[dict[str, Any]], IdCardReader]
_FACTORIES: dict[str, tuple[str, ReaderFactory]] = {
    "wedge": (KeyboardWedgeReader.label, lambda options: KeyboardWedgeReader()),
    "simulated": (SimulatedIdCardReader.label, lambda options: SimulatedIdCardReader()),
}


def register_reader_kind(kind: str, label: str, factory: ReaderFactory) -> None:
    """Make a vendor adapter selectable: ``factory(options)`` builds the reader from the setting's value."""
    _FACTORIES[kind] = (label, factory)


def reader_kinds() -> dict[str, str]:
    """``{kind: label}`` for the settings view."""
    return {kind: label for kind, (label, _) in _FACTORIES.items()}


def load_reader_setting(session: Session, workstation: str, *, demo: bool) -> dict[str, Any]:
    """The workstation's choice; default: the simulated reader in demo mode, the wedge reader otherwise."""
    row = session.get(Setting, (f"ws:{workstation}", SETTING_KEY))
    if row is not None and isinstance(row.value, dict) and row.value.get("kind"):
        return dict(row.value)
    return {"kind": "simulated" if demo else "wedge"}


def save_reader_setting(session: Session, workstation: str, value: dict[str, Any], *, at: datetime,
                        by: str) -> None:
    if value.get("kind") not in _FACTORIES:
        raise ValidationError("请选择读卡器类型", field="kind")
    scope = f"ws:{workstation}"
    row = session.get(Setting, (scope, SETTING_KEY))
    if row is None:
        session.add(Setting(scope=scope, key=SETTING_KEY, value=dict(value), updated_at=at, updated_by=by))
    else:
        row.value, row.updated_at, row.updated_by = dict(value), at, by


def make_reader(setting: dict[str, Any]) -> IdCardReader:
    """Build the reader a setting names. An unknown kind (adapter not installed) is a ConfigError."""
    kind = setting.get("kind", "wedge")
    if kind not in _FACTORIES:
        raise ConfigError(f"未安装读卡器驱动“{kind}”，请在设置中选择其他读卡器", field="kind")
    return _FACTORIES[kind][1](setting)
