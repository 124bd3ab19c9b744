"""Name → (full pinyin, initials), precomputed on save for search (``zhangsan``, ``zs``).

pypinyin segments a name into the phrases of its dictionary and reads each (30–40 µs a name, the largest
single cost of encoding an imported row). A character that every phrase reads as the dictionary's first
reading of the character alone (tones aside) reads the same whatever the segmentation: a name made only of
such characters is read character by character from a table filled on first use. A name with any other
character (单 in 单田芳, 曾, 解…) goes through pypinyin as a whole. Both paths give the same result (tests
compare them over every seed name and random text).
"""

from __future__ import annotations

from functools import cache

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import RE_HANS
from pypinyin.phrases_dict import phrases_dict
from pypinyin.pinyin_dict import pinyin_dict
from pypinyin.style import convert as style_convert


@cache
def _toneless(syllable: str) -> str:
    return str(style_convert(syllable, Style.NORMAL, strict=True))


def first_reading(ch: str) -> str | None:
    """The first reading of a character in pypinyin's dictionary, without tones (None: not in it)."""
    found = pinyin_dict.get(ord(ch))
    return _toneless(found.split(",", 1)[0]) if found else None


@cache
def phrase_dependent() -> frozenset[str]:
    """Characters that some phrase of pypinyin's dictionary reads otherwise than their first reading."""
    out: set[str] = set()
    for phrase, readings in phrases_dict.items():
        for ch, reading in zip(phrase, readings, strict=False):
            if ch not in out and _toneless(reading[0]) != first_reading(ch):
                out.add(ch)
    return frozenset(out)


_readings: dict[str, str | None] = {}  # Han character → its reading anywhere (None: ask pypinyin)


def _reading(ch: str) -> str | None:
    try:
        return _readings[ch]
    except KeyError:
        pass
    reading = None if ch in phrase_dependent() else first_reading(ch)
    _readings[ch] = reading
    return reading


def _syllables(name: str) -> list[str]:
    """lazy_pinyin's result (NORMAL style): one syllable per Han character, each run of other characters as
    it is."""
    out: list[str] = []
    run = ""
    for ch in name:
        if RE_HANS.match(ch):
            reading = _reading(ch)
            if reading is None:
                return list(lazy_pinyin(name, style=Style.NORMAL, errors="default"))
            if run:
                out.append(run)
                run = ""
            out.append(reading)
        else:
            run += ch
    if run:
        out.append(run)
    return out


def name_pinyin(name: str) -> tuple[str, str]:
    """Full pinyin without tones or spaces, and initials. Non-Chinese characters pass through
    lower-cased (letters and digits only). Heteronyms take pypinyin's phrase reading of the whole name."""
    name = (name or "").strip()
    if not name:
        return "", ""
    syllables = [s.lower() for s in _syllables(name)]
    full = "".join(ch for s in syllables for ch in s if ch.isalnum())
    initials = "".join(s[0] for s in syllables if s and s[0].isalnum())
    return full[:200], initials[:50]
