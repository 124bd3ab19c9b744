"""The character-by-character path of name_pinyin gives exactly pypinyin's reading of the whole name."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin

from pingan.people import pinyin
from pingan.people.pinyin import name_pinyin, phrase_dependent
from pingan.people.seed import GIVEN, SURNAMES


def reference(name: str) -> tuple[str, str]:
    """name_pinyin as it was: pypinyin's reading of the whole name."""
    name = (name or "").strip()
    if not name:
        return "", ""
    syllables = [s.lower() for s in lazy_pinyin(name, style=Style.NORMAL, errors="default")]
    full = "".join(ch for s in syllables for ch in s if ch.isalnum())
    initials = "".join(s[0] for s in syllables if s and s[0].isalnum())
    return full[:200], initials[:50]


def test_phrase_dependent_characters():
    dependent = phrase_dependent()
    assert "单" in dependent and "曾" in dependent  # shan / zeng as surnames, dan / ceng alone
    assert "王" not in dependent and "李" not in dependent
    for ch in "王李张刘陈杨":
        assert name_pinyin(ch)[0] == lazy_pinyin(ch, style=Style.NORMAL)[0]


def test_every_seed_name_reads_as_pypinyin_reads_it():
    surnames = [s for s, _w in SURNAMES]
    for surname, first in itertools.product(surnames, GIVEN):
        assert name_pinyin(surname + first) == reference(surname + first)
    for surname, first, second in itertools.product(surnames[:10], GIVEN, GIVEN):
        name = surname + first + second
        assert name_pinyin(name) == reference(name)


def test_known_heteronyms_and_mixed_names():
    names = ["单田芳", "曾国藩", "解缙", "尉迟恭", "示例12345", "abc王 五", " 李四 ", "火燵", "吕布", "〇一"]
    names += ["王-小明", "x", ""]
    for name in names:
        assert name_pinyin(name) == reference(name), name
    assert name_pinyin("吕布") == ("lvbu", "lb")
    assert name_pinyin("示例12345") == ("shili12345", "sl1")


def test_heteronym_goes_through_pypinyin(monkeypatch):
    calls = []
    real = pinyin.lazy_pinyin
    monkeypatch.setattr(pinyin, "lazy_pinyin", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    name_pinyin("单田芳")
    assert "单田芳" in calls
    calls.clear()
    name_pinyin("王小明")
    name_pinyin("王小明")
    assert "王小明" not in calls


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
            st.sampled_from("abcXYZ019 -·.〇"),
        ),
        max_size=8,
    )
)
def test_random_text_reads_as_pypinyin_reads_it(name):
    assert name_pinyin(name) == reference(name)
