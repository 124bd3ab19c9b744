"""core.masking and the {% load masking %} filters."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from pingan.core.masking import (
    mask_address,
    mask_generic,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_value,
)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("120103199001011234", "120103********1234"),
        ("12010319900101123X", "120103********123X"),
        ("12010319900101123x", "120103********123X"),
        (" 1201 0319 9001 0112 34 ", "120103********1234"),
        ("１２０１０３１９９００１０１１２３４", "120103********1234"),
        ("120103900101123", "120103*****1123"),
        ("G12345678", "G1*****78"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value, masked):
    assert mask_id_number(value) == masked


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_every_18_character_id_keeps_6_and_4(body, check):
    value = body + check
    masked = mask_id_number(value)
    assert masked == value[:6] + "*" * 8 + value[-4:]  # the birth date (characters 7-14) never shows


@given(st.text(alphabet="0123456789", min_size=15, max_size=15))
def test_every_15_digit_id_keeps_6_and_4(value):
    assert mask_id_number(value) == value[:6] + "*****" + value[-4:]


@given(st.text(min_size=1, max_size=40))
def test_no_id_mask_shows_more_than_10_characters(value):
    masked = mask_id_number(value)
    assert len(masked.replace("*", "")) <= 10


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("008613812345678", "138****5678"),
        ("022-23456789", "022-****6789"),
        ("02223456789", "022-****6789"),
        ("010-12345678", "010-****5678"),
        ("0311-8765432", "0311-***5432"),
        ("23456789", "****6789"),
        ("12345", "12345"),
        ("110", "110"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_mobile_keeps_3_and_4(second, rest):
    value = "1" + second + rest
    assert mask_phone(value) == value[:3] + "****" + value[-4:]


@given(st.text(alphabet="0123456789-+ ()", max_size=30))
def test_a_phone_mask_never_shows_more_than_7_digits_of_a_long_number(value):
    masked = mask_phone(value)
    digits = sum(ch.isdigit() for ch in value)
    if digits > 6:
        area, _sep, local = masked.rpartition("-")  # a landline keeps its area code (3 or 4 digits)
        assert sum(ch.isdigit() for ch in local) <= 4 or (not area and sum(ch.isdigit() for ch in local) <= 7)
        assert len(area) <= 4


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("张", "张"),
        ("张王小明", "张**明"),
        ("欧阳娜娜", "欧阳*娜"),
        ("欧阳修", "欧阳*"),
        ("司马相如", "司马*如"),
        ("诸葛亮", "诸葛*"),
        ("阿依古丽·买买提", "阿***·买**"),
        ("John Smith", "J*** S****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(value, masked):
    assert mask_name(value) == masked


@given(st.text(alphabet="张王李赵刘陈杨黄周吴三明小华国强娜丽", min_size=2, max_size=6))
def test_a_masked_name_hides_at_least_one_character(name):
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert "*" in masked
    assert masked[0] == name[0]


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("天津市河西区挂甲寺街道滦水里社区5号楼3门501", "天津市河西区挂甲寺街道滦水里社区****"),
        ("河西区解放南路123号", "河西区解放南路****"),
        ("河西区友谊路与围堤道交口5号", "河西区友谊路与围堤道****"),
        ("河西区解放南路云江新苑5号楼", "河西区解放南路云江新苑****"),
        ("滦水里社区三号楼二单元", "滦水里社区****"),
        ("滦水里社区", "滦水里社区"),
        ("河西区某某大院", "河西区****"),
        ("5号楼301", "****"),
        ("", ""),
    ],
)
def test_mask_address(value, masked):
    assert mask_address(value) == masked


@given(st.text(min_size=1, max_size=60))
def test_an_address_is_kept_whole_only_without_a_house_part(value):
    masked = mask_address(value)
    assert masked.endswith("****") or not any(ch.isdigit() for ch in masked)


def test_generic_masks_show_at_most_a_third():
    assert mask_generic("AB") == "**"
    assert mask_generic("ABCDEF") == "*****F"
    assert mask_generic("ABCDEFGHIJ") == "AB******IJ"
    assert mask_value("unknown-kind", "ABCDEF") == "*****F"
    assert mask_value("phone", None) == ""


def test_template_filters():
    template = Template(
        "{% load masking %}{{ id|mask_id }} {{ phone|mask_phone }} {{ name|mask_name }} "
        "{{ addr|mask_address }} {{ missing|mask_id }}"
    )
    text = template.render(
        Context(
            {
                "id": "120103199001011234",
                "phone": "13812345678",
                "name": "张三明",
                "addr": "河西区解放南路123号",
            }
        )
    )
    assert text == "120103********1234 138****5678 张*明 河西区解放南路**** "


# --- one masking module: the audit trail uses the same rules (issue 3) -------------------------------------


def test_audit_masking_lives_in_core_and_uses_the_page_rules():
    import importlib.util

    from pingan.core import masking

    assert importlib.util.find_spec("pingan.audit.masking") is None  # merged into core.masking
    changes = masking.mask_changes(
        {
            "id_number": ["120103199001011234", None],
            "phone": "13812345678",
            "person_name": "欧阳娜娜",
            "home_address": "河西区解放南路123号",
            "api_token": "pa_abc",
            "guardian": "something long enough",
            "count": 3,
        }
    )
    assert changes == {
        "id_number": [masking.mask_id_number("120103199001011234"), None],
        "phone": masking.mask_phone("13812345678"),
        "person_name": masking.mask_name("欧阳娜娜"),
        "home_address": masking.mask_address("河西区解放南路123号"),
        "api_token": masking.SECRET_MASK,
        "guardian": masking.mask_generic("something long enough"),
        "count": 3,
    }
    assert changes["person_name"] == "欧阳*娜" and changes["home_address"] == "河西区解放南路****"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("password", "secret"),
        ("totp_secret", "secret"),
        ("id_number", "id_number"),
        ("guardian_id_number", "id_number"),
        ("passport", "id_number"),
        ("mobile", "phone"),
        ("contact_phone", "phone"),
        ("real_name", "name"),
        ("registered_address", "address"),
        ("criminal", "generic"),
    ],
)
def test_field_kind(name, kind):
    from pingan.core.masking import field_kind

    assert field_kind(name) == kind
