"""Marked strings reach the catalogue: ``makemessages`` (xgettext) finds only the keywords it knows (``_``,
``gettext``, ``gettext_lazy``, ``pgettext``…). A translation function imported under another name
(``gettext_lazy as _lazy``) hides its strings from the catalogue, and the English interface shows them in
Chinese — tab labels and import pages did, until this test."""

from __future__ import annotations

import re
from pathlib import Path

import pingan

ALIAS = re.compile(r"\b(n?p?gettext(?:_lazy|_noop)?) as (\w+)")


def test_translation_functions_are_imported_under_names_makemessages_knows():
    wrong = []
    for path in Path(pingan.__file__).parent.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for function, alias in ALIAS.findall(line):
                if alias != "_":
                    wrong.append(f"{path}:{number}: {function} as {alias}")
    assert not wrong, "\n".join(wrong)
