"""Name → (full pinyin, initials), precomputed on save for search (``zhangsan``, ``zs``)."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def name_pinyin(name: str) -> tuple[str, str]:
    """Full pinyin without tones or spaces, and initials. Non-Chinese characters pass through
    lower-cased (letters and digits only). Heteronyms take pypinyin's phrase reading of the whole name."""
    name = (name or "").strip()
    if not name:
        return "", ""
    syllables = [s.lower() for s in lazy_pinyin(name, style=Style.NORMAL, errors="default")]
    full = "".join(ch for s in syllables for ch in s if ch.isalnum())
    initials = "".join(s[0] for s in syllables if s and s[0].isalnum())
    return full[:200], initials[:50]
