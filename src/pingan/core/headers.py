"""Django's ``parse_header_parameters`` with its answers remembered.

Django parses every ``Content-Type`` and every multipart part's ``Content-Disposition`` through the standard
library's ``email`` package: about 9 µs a line, 17 lines for a report with one photo (its seven fields and a
file), half of the 330 µs its multipart parse takes (docs/benchmarks.md, "Fourteenth session"). The lines
repeat from request to request (``form-data; name="title"``, ``image/jpeg``): this module keeps the answers
for the last 512 distinct lines of at most 1,000 characters, and gives each caller its own copy of the
parameters. A line seen for the first time, a longer one, and a line Django refuses (an unknown charset) go
through Django's own function, so the answers and the errors are Django's.

``install()`` (``CoreConfig.ready``) puts it where Django's request and multipart parser look it up, and
only where they still hold Django's function: a Django that no longer does is left as it is.
``tests/core/test_headers.py`` holds the answers equal to Django's.
"""

from __future__ import annotations

import functools
from typing import Any

from django.http import multipartparser, request
from django.utils import http

MAX_LINE = 1000

_django = http.parse_header_parameters


@functools.lru_cache(maxsize=512)
def _parsed(line: str) -> tuple[str, tuple[tuple[str, Any], ...]]:
    main, params = _django(line)
    return main, tuple(params.items())


def parse_header_parameters(line: Any, *args: Any, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """As ``django.utils.http.parse_header_parameters``."""
    if args or kwargs or not isinstance(line, str) or len(line) > MAX_LINE:
        return _django(line, *args, **kwargs)
    main, params = _parsed(line)
    return main, dict(params)


def install() -> None:
    for module in (request, multipartparser):
        if getattr(module, "parse_header_parameters", None) is _django:
            module.parse_header_parameters = parse_header_parameters  # type: ignore[attr-defined]
