"""Identity documents and names (SPEC §5 real-name registration).

- 居民身份证: 18 characters, GB 11643-1999: 6-digit region, 8-digit birth date, 3-digit sequence (odd = male),
  ISO 7064 MOD 11-2 check character (``X`` for 10).
- 港澳居民来往内地通行证: ``H``/``M`` + 8 digits (10 digits on the older cards).
- 台湾居民来往大陆通行证: 8 digits (10 on the older cards).
- 护照: 5–17 letters and digits (Chinese passports ``E12345678``/``EA1234567``/``G12345678``).

Names keep every character intact, including the GB18030 extension planes (e.g. 𠮷 U+20BB7).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from desktop_his.services.enums import IdType, Sex
from desktop_his.services.errors import ValidationError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"

# First two digits of the region code (GB/T 2260 provinces; 71 Taiwan, 81 Hong Kong, 82 Macao, 83 residence
# permits of Taiwan residents issued on the mainland).
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
     61, 62, 63, 64, 65, 71, 81, 82, 83}
)

ID_TYPE_LABELS = {
    IdType.RESIDENT: "居民身份证",
    IdType.HK_MACAO: "港澳居民来往内地通行证",
    IdType.TAIWAN: "台湾居民来往大陆通行证",
    IdType.PASSPORT: "护照",
}


@dataclass(frozen=True)
class ParsedId:
    id_type: IdType
    number: str
    birth_date: date | None = None
    sex: Sex | None = None
    region_code: str | None = None


def resident_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_id_number(number: str) -> str:
    """Strip spaces, map full-width characters to ASCII, upper-case (``x`` → ``X``)."""
    return unicodedata.normalize("NFKC", number or "").replace(" ", "").strip().upper()


def parse_resident_id(number: str, *, today: date | None = None, field: str = "id_number") -> ParsedId:
    n = normalize_id_number(number)
    if not re.fullmatch(r"\d{17}[\dX]", n):
        raise ValidationError("居民身份证号码应为18位（最后一位可为X）", field=field)
    if int(n[:2]) not in _PROVINCES:
        raise ValidationError("身份证号码的地区码无效", field=field)
    if n[2:6] == "0000":
        raise ValidationError("身份证号码的地区码无效", field=field)
    try:
        born = date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError as exc:
        raise ValidationError("身份证号码中的出生日期无效", field=field) from exc
    if born.year < 1900 or (today is not None and born > today):
        raise ValidationError("身份证号码中的出生日期无效", field=field)
    if resident_check_char(n[:17]) != n[17]:
        raise ValidationError("身份证号码校验位不正确，请核对", field=field)
    sex = Sex.MALE if int(n[16]) % 2 == 1 else Sex.FEMALE
    return ParsedId(IdType.RESIDENT, n, born, sex, n[:6])


def parse_id(id_type: IdType | str, number: str, *, today: date | None = None,
             field: str = "id_number") -> ParsedId:
    """Validate and normalise a document number of the given type; raise ValidationError at ``field``."""
    try:
        kind = IdType(id_type)
    except ValueError as exc:
        raise ValidationError("请选择证件类型", field="id_type") from exc
    n = normalize_id_number(number)
    if not n:
        raise ValidationError("请输入证件号码", field=field)
    if kind is IdType.RESIDENT:
        return parse_resident_id(n, today=today, field=field)
    if kind is IdType.HK_MACAO:
        if not re.fullmatch(r"[HM]\d{8}(\d{2})?", n):
            raise ValidationError("港澳居民来往内地通行证号码应为H或M开头加8位（旧证10位）数字", field=field)
    elif kind is IdType.TAIWAN:
        if not re.fullmatch(r"\d{8}(\d{2})?", n):
            raise ValidationError("台湾居民来往大陆通行证号码应为8位（旧证10位）数字", field=field)
    elif kind is IdType.PASSPORT:
        if not re.fullmatch(r"[A-Z0-9]{5,17}", n) or not re.search(r"\d", n):
            raise ValidationError("护照号码应为5至17位字母和数字", field=field)
    return ParsedId(kind, n)


_NAME_PUNCT = frozenset("·• .-'")


def normalize_name(name: str, *, field: str = "name") -> str:
    """Validate a person's name; keeps rare characters (CJK extension planes) exactly as given.

    Normalises only the interpunct variants used in minority and foreign names to U+00B7 ``·``
    and collapses runs of spaces.
    """
    if any(unicodedata.category(ch) == "Cc" for ch in name or ""):
        raise ValidationError("姓名中不能含有换行或控制字符", field=field)
    text = re.sub(r"\s+", " ", (name or "").strip())
    text = text.replace("•", "·").replace("．", "·").replace("・", "·")
    if not text:
        raise ValidationError("请输入姓名", field=field)
    if len(text) > 50:
        raise ValidationError("姓名过长（最多50个字）", field=field)
    for ch in text:
        category = unicodedata.category(ch)
        if ch in _NAME_PUNCT or category[0] in {"L", "M"}:
            continue
        raise ValidationError(f"姓名中含有不允许的字符“{ch}”", field=field)
    return text


def age_on(birth: date, on: date) -> int:
    """Full years of age on a day (a child is 16 "and under" until the day before turning 17)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def mask_id_number(number: str | None) -> str:
    """``110101199003071234`` → ``1101**********1234``; short documents keep their first and last 2."""
    if not number:
        return ""
    n = str(number)
    if len(n) >= 15:
        return n[:4] + "*" * (len(n) - 8) + n[-4:]
    if len(n) > 4:
        return n[:2] + "*" * (len(n) - 4) + n[-2:]
    return "*" * len(n)


def mask_name(name: str | None) -> str:
    """For logs: ``张三丰`` → ``张**``. (Screens and slips show names in full.)"""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else phone


def validate_phone(phone: str, *, field: str = "phone", required: bool = False) -> str:
    p = normalize_id_number(phone).replace("-", "")
    if not p:
        if required:
            raise ValidationError("请输入联系电话", field=field)
        return ""
    if not re.fullmatch(r"1[3-9]\d{9}|0\d{9,11}|\+?\d{6,15}", p):
        raise ValidationError("联系电话格式不正确", field=field)
    return p
