"""Text normalisation shared by forms, importers and search."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalize_text(value: str) -> str:
    """NFKC (full-width → half-width), collapse whitespace, strip."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


# full-width letters and digits (and the ideographic space) → ASCII; the full-width punctuation that Chinese
# prose is written with (，：；（）！？) stays as typed, which NFKC would turn into ASCII
_FOLD = {
    cp: cp - 0xFEE0
    for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for cp in range(r[0], r[1] + 1)
}
_FOLD[0x3000] = 0x20
_LINE_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_prose(value: str, *, multiline: bool = True) -> str:
    """Free text as written (an event's title and description, notes, reasons): punctuation kept, full-width
    letters and digits to half-width, control characters to spaces, spaces collapsed within a line, and —
    with ``multiline`` — line breaks kept (at most one empty line in a row), else joined by a space."""
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).translate(_FOLD)
    if not text.isprintable():  # control characters (NUL, which PostgreSQL refuses, tabs…) but the newline
        text = "".join(ch if ch == "\n" or unicodedata.category(ch) != "Cc" else " " for ch in text)
    if not multiline:
        return _SPACES.sub(" ", text).strip()
    lines = (_LINE_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_MARKUP = re.compile(r"[<>]|&[#a-zA-Z0-9]+;|javascript:", re.IGNORECASE)


def contains_markup(value: str) -> bool:
    return bool(_MARKUP.search(value))
