"""core.validators: GB 11643 identity numbers and mainland phone numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from pingan.core.validators import (
    id_check_char,
    is_valid_id_number,
    parse_id_number,
    parse_phone,
    upgrade_15_to_18,
)

births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31))
sequences = st.integers(min_value=0, max_value=999)
addresses = st.sampled_from(["120103", "110101", "310104", "440305", "650102"])


def make_id(address: str, birth: dt.date, seq: int) -> str:
    first17 = f"{address}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def test_known_check_digits() -> None:
    # the GB 11643 worked example and an X
    assert id_check_char("11010519491231002") == "X"
    assert parse_id_number("11010519491231002X").sex == "2"


@given(addresses, births, sequences)
def test_valid_numbers_parse(address: str, birth: dt.date, seq: int) -> None:
    number = make_id(address, birth, seq)
    parsed = parse_id_number(number)
    assert parsed.number == number
    assert parsed.birth_date == birth
    assert parsed.sex == ("1" if seq % 2 else "2")
    assert parsed.normalised == ()


@given(addresses, births, sequences, st.integers(min_value=0, max_value=16), st.integers(1, 9))
def test_any_single_digit_change_is_caught(
    address: str, birth: dt.date, seq: int, pos: int, delta: int
) -> None:
    number = make_id(address, birth, seq)
    changed = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    # MOD 11-2 detects every single-digit substitution: either the date/address breaks or the check does
    assert not is_valid_id_number(changed)


@given(addresses, births, sequences)
def test_wrong_check_char_rejected(address: str, birth: dt.date, seq: int) -> None:
    number = make_id(address, birth, seq)
    wrong = next(c for c in "0123456789X" if c != number[-1])
    with pytest.raises(ValidationError) as exc:
        parse_id_number(number[:-1] + wrong)
    # a number ending in 000 with a wrong check character reads as an Excel-truncated one
    assert exc.value.code in ("checksum", "excel_mangled")


@given(addresses, st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)), sequences)
def test_legacy_15_upgraded(address: str, birth: dt.date, seq: int) -> None:
    legacy = f"{address}{birth:%y%m%d}{seq:03d}"
    parsed = parse_id_number(legacy)
    assert parsed.number == make_id(address, dt.date(1900 + birth.year % 100, birth.month, birth.day), seq)
    assert "upgraded_15" in parsed.normalised
    assert upgrade_15_to_18(legacy) == parsed.number


def test_normalisation_reported() -> None:
    number = make_id("110105", dt.date(1949, 12, 31), 2)  # ends in X
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in number[:-1]) + "ｘ"
    parsed = parse_id_number(" " + fullwidth[:6] + " " + fullwidth[6:])
    assert parsed.number == number
    assert set(parsed.normalised) >= {"fullwidth", "spaces", "lowercase_x"}


@pytest.mark.parametrize(
    "value",
    [1.20103199001011e17, "1.20103199001011E+17", "120103199001011000", 120103199001011000.0],
)
def test_excel_mangled_numbers_are_refused(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_id_number(value)
    assert exc.value.code == "excel_mangled"


def test_integer_cell_accepted_when_complete() -> None:
    number = make_id("120103", dt.date(1990, 1, 1), 123)
    assert parse_id_number(int(number)).number == number


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("12010319900230123X", "birth_date"),
        ("000103199001011234", "address"),
        ("1201031990010112", "format"),
        ("12010319900101123Y", "format"),
        ("", "required"),
    ],
)
def test_invalid_numbers(value: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_id_number(value)
    assert exc.value.code == code


def test_future_birth_rejected() -> None:
    future = timezone.localdate() + dt.timedelta(days=30)
    with pytest.raises(ValidationError) as exc:
        parse_id_number(make_id("120103", future, 1))
    assert exc.value.code == "birth_future"


# --- phones ---------------------------------------------------------------------------------------


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_mobiles(second: str, rest: str) -> None:
    number = "1" + second + rest
    assert parse_phone(number).number == number
    assert parse_phone(f"+86 {number[:3]} {number[3:7]} {number[7:]}").number == number
    assert parse_phone("".join(chr(ord(c) + 0xFEE0) for c in number)).number == number
    assert parse_phone(number).tail4 == number[-4:]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("022-23456789", "022-23456789"),
        ("(022)23456789", "022-23456789"),
        ("02223456789", "022-23456789"),
        ("0311-8765432", "0311-8765432"),
        ("010-12345678-123", "010-12345678-123"),
        (13812345678.0, "13812345678"),
        ("1.3812345678E+10", "13812345678"),
    ],
)
def test_phone_forms(value: object, expected: str) -> None:
    assert parse_phone(value).number == expected


@pytest.mark.parametrize("value", ["12812345678", "23456789", "138123", "abc", "1381234567x"])
def test_bad_phones(value: str) -> None:
    with pytest.raises(ValidationError):
        parse_phone(value)
