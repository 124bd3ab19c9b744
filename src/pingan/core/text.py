"""Text normalisation shared by forms, importers and search."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalize_text(value: str) -> str:
    """NFKC (full-width → half-width), collapse whitespace, strip."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


_MARKUP = re.compile(r"[<>]|&[#a-zA-Z0-9]+;|javascript:", re.IGNORECASE)


def contains_markup(value: str) -> bool:
    return bool(_MARKUP.search(value))
