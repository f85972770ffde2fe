from __future__ import annotations

from datetime import date

import pytest

from desktop_his.services.enums import IdType, Sex
from desktop_his.services.errors import ValidationError
from desktop_his.services.ids import (
    age_on,
    mask_id_number,
    normalize_name,
    parse_id,
    resident_check_char,
)


# 11010519491231002X is the GB 11643 example; other valid numbers are built with the checksum.
def with_check(first17: str) -> str:
    return first17 + resident_check_char(first17)


def test_gb11643_example_is_valid_and_female() -> None:
    p = parse_id(IdType.RESIDENT, "11010519491231002X")
    assert p.birth_date == date(1949, 12, 31)
    assert p.sex is Sex.FEMALE
    assert p.region_code == "110105"


def test_lowercase_x_and_fullwidth_digits_are_normalised() -> None:
    assert parse_id(IdType.RESIDENT, "１１０１０５１９４９１２３１００２x").number == "11010519491231002X"


def test_male_from_odd_sequence_digit() -> None:
    assert parse_id(IdType.RESIDENT, with_check("51010720000101001")).sex is Sex.MALE


@pytest.mark.parametrize("number, message", [
    ("110105194912310021", "校验位"),           # wrong check character
    ("11010519491331002X"[:17] + "0", "出生日期"),  # month 13
    (with_check("11010519490230002")[:18], "出生日期"),  # 30 February
    (with_check("99010519491231002"), "地区码"),  # no province 99
    ("1101051949123100", "18位"),                # too short
    ("11010519491231002Y", "18位"),              # bad last character
])
def test_invalid_resident_ids_are_refused(number: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_id(IdType.RESIDENT, number)
    assert message in err.value.message
    assert err.value.field == "id_number"


def test_birth_date_in_future_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_id(IdType.RESIDENT, with_check("11010520300101001"), today=date(2026, 11, 22))


@pytest.mark.parametrize("kind, number", [
    (IdType.HK_MACAO, "H12345678"), (IdType.HK_MACAO, "M1234567801"), (IdType.TAIWAN, "12345678"),
    (IdType.TAIWAN, "1234567890"), (IdType.PASSPORT, "E12345678"), (IdType.PASSPORT, "EA1234567"),
    (IdType.PASSPORT, "x1234567"),
])
def test_foreign_documents_accepted(kind: IdType, number: str) -> None:
    assert parse_id(kind, number).number == number.upper()


@pytest.mark.parametrize("kind, number", [
    (IdType.HK_MACAO, "A12345678"), (IdType.HK_MACAO, "H1234"), (IdType.TAIWAN, "1234567"),
    (IdType.TAIWAN, "T1234567"), (IdType.PASSPORT, "ABCDEFG"), (IdType.PASSPORT, "E12"),
])
def test_foreign_documents_refused(kind: IdType, number: str) -> None:
    with pytest.raises(ValidationError):
        parse_id(kind, number)


def test_empty_number_and_unknown_type() -> None:
    with pytest.raises(ValidationError, match="证件号码"):
        parse_id(IdType.PASSPORT, "  ")
    with pytest.raises(ValidationError) as err:
        parse_id("99", "E12345678")
    assert err.value.field == "id_type"


@pytest.mark.parametrize("name", ["𠮷野家", "张䶮", "买买提·艾力", "John Smith", "欧阳娜娜"])
def test_rare_and_foreign_names_kept_intact(name: str) -> None:
    assert normalize_name(name) == name


def test_rare_character_outside_bmp_is_one_code_point() -> None:
    name = normalize_name("𠮷")
    assert len(name) == 1 and ord(name) == 0x20BB7
    assert name.encode("gb18030").decode("gb18030") == name


@pytest.mark.parametrize("name", ["", "  ", "张3", "李<b>", "王\n五"])
def test_bad_names_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        normalize_name(name)


def test_interpunct_variants_normalised() -> None:
    assert normalize_name("买买提•艾力") == "买买提·艾力"


def test_masking() -> None:
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_id_number("H12345678") == "H1*****78"
    assert mask_id_number(None) == ""


def test_age_counts_full_years() -> None:
    born = date(2010, 6, 15)
    assert age_on(born, date(2026, 6, 14)) == 15
    assert age_on(born, date(2026, 6, 15)) == 16
    assert age_on(born, date(2027, 6, 14)) == 16
