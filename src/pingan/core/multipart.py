"""A small ``multipart/form-data`` body parsed in one pass, with Django's parser for everything else.

Django's ``MultiPartParser`` reads a body as a stream through three layers of iterators, so that it can take
bodies of any size. A body that fits in memory, as Django's own memory upload handler would keep it, can be
split at its boundaries with ``bytes.split``: for a report's 2.8 KB of six fields and a photo, the request's
parse took 237–268 µs through Django's parser and takes 91–107 µs through this one, upload handlers
included (docs/benchmarks.md, "Fifteenth session").

``parse()`` takes only a body written as browsers and HTTP libraries write it (RFC 7578): it starts with
the first delimiter, every part has its headers, each delimiter line ends with CRLF, the boundary occurs
nowhere but in the delimiters, the close delimiter ends the body, and each part's headers are
``Content-Disposition`` and ``Content-Type`` only. For such a body it returns what Django's parser returns:
the same ``QueryDict`` and the same ``InMemoryUploadedFile`` objects, with the names, content types and
charsets decoded as Django decodes them, and parts Django skips skipped (``tests/core/test_multipart.py``
compares the two on a corpus of bodies). Anything else (a ``Content-Transfer-Encoding``, a preamble, a bare
LF, a limit reached, a body too large for memory, upload handlers other than Django's two) returns None, and
the body goes to Django's parser, whose answers and errors stand.

``MultipartMiddleware`` gives each multipart request ``parse_file_upload()``, the method through which
Django's request parses its body when ``request.POST`` or ``request.FILES`` is first read: nothing is read
before a view asks for it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any, cast

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import ImmutableList, MultiValueDict
from django.utils.encoding import force_str

from pingan.core.headers import parse_header_parameters

Parsed = tuple[QueryDict, MultiValueDict[str, Any]]
_HEADERS = frozenset({"content-disposition", "content-type"})
HEADER_CHUNK = 1024  # multipartparser.MAX_TOTAL_HEADER_SIZE: a part's headers must end within it


def parse(data: bytes, content_type: str, encoding: str | None = None) -> Parsed | None:
    """(POST, FILES) of the body ``data`` as Django's parser with its memory upload handler gives them, or
    None when the body is not one this function takes (the module's docstring says which)."""
    encoding = encoding or settings.DEFAULT_CHARSET
    if not content_type.startswith("multipart/") or not content_type.isascii():
        return None
    boundary = parse_header_parameters(content_type)[1].get("boundary")
    if not boundary or not MultiPartParser.boundary_re.fullmatch(boundary):
        return None
    dash = b"--" + boundary.encode("ascii")
    pieces = (b"\r\n" + data).split(b"\r\n" + dash)
    # nothing before the first delimiter, nothing after the close delimiter, and no boundary elsewhere
    if pieces[0] or pieces[-1] not in (b"--", b"--\r\n") or data.count(dash) != len(pieces) - 1:
        return None
    post: QueryDict = QueryDict(mutable=True)
    files: MultiValueDict[str, Any] = MultiValueDict()
    fields = files_seen = data_read = 0
    max_fields = _limit(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)  # Django's limits, read once
    max_files = _limit(settings.DATA_UPLOAD_MAX_NUMBER_FILES)
    max_data = _limit(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

    for piece in pieces[1:-1]:
        if not piece.startswith(b"\r\n"):
            return None
        part = _part(piece)  # as Django sees it: the delimiter line's CRLF, then the headers
        if part is None:
            return None
        headers, content = part
        disposition = headers.get("content-disposition")
        if disposition is None:
            continue  # Django skips a part without one
        fields += 1
        if fields > max_fields:
            return None
        raw_name = disposition[1].get("name")
        if raw_name is None:
            continue
        name = force_str(raw_name.strip(), encoding, errors="replace")
        raw_file_name = disposition[1].get("filename")
        if not raw_file_name:  # a field
            data_read += len(content) + len(name) + 2
            if data_read > max_data:
                return None
            post.appendlist(name, force_str(content, encoding, errors="replace"))
            continue
        files_seen += 1
        if files_seen > max_files:
            return None
        file_name = MultiPartParser.sanitize_file_name(  # it uses nothing of its parser
            cast(Any, None), force_str(raw_file_name, encoding, errors="replace")
        )
        if not file_name:
            continue
        kind, extra = headers.get("content-type", ("", {}))
        files.appendlist(
            name,
            InMemoryUploadedFile(
                file=io.BytesIO(content),
                field_name=name,
                name=file_name,
                content_type=kind.strip(),
                size=len(content),
                charset=cast(Any, extra.get("charset")),  # bytes, as Django gives it
                content_type_extra=extra,
            ),
        )
    post._mutable = False
    return post, files


def _limit(value: int | None) -> float:
    return float("inf") if value is None else value


def _part(piece: bytes) -> tuple[dict[str, tuple[str, dict[str, bytes]]], bytes] | None:
    """The headers and content of one part, read as ``multipartparser.parse_boundary_stream`` reads them
    (``piece`` starts with the CRLF that ends its delimiter line), or None if Django would read it otherwise:
    headers beyond its first chunk, a header other than the two, or one of them twice."""
    end = piece.find(b"\r\n\r\n", 0, HEADER_CHUNK)
    if end <= 0:  # no headers at all, or none in the chunk Django reads them from
        return None
    headers: dict[str, tuple[str, dict[str, bytes]]] = {}
    for line in piece[:end].split(b"\r\n"):
        try:
            main, params = parse_header_parameters(line.decode())
            name, value = main.split(":", 1)
        except ValueError:  # as Django: an empty or broken line is passed over
            continue
        if name not in _HEADERS or name in headers:
            return None
        headers[name] = value, {key: item.encode() for key, item in params.items()}
    return headers, piece[end + 4 :]


def _memory_handlers(request: HttpRequest) -> bool:
    """The request's upload handlers are Django's memory handler first, as settings make them by default."""
    handlers = request.upload_handlers
    return (
        bool(handlers)
        and type(handlers[0]) is MemoryFileUploadHandler
        and all(
            type(handler) in (MemoryFileUploadHandler, TemporaryFileUploadHandler) for handler in handlers
        )
    )


def _read(stream: Any, length: int) -> bytes:
    """Up to ``length`` bytes of ``stream``: all of them unless it ends first (a read may return fewer)."""
    chunks = []
    while length > 0:
        chunk = stream.read(length)
        if not chunk:
            break
        chunks.append(chunk)
        length -= len(chunk)
    return b"".join(chunks)


def parse_file_upload(request: HttpRequest, meta: Mapping[str, Any], post_data: Any) -> Parsed:
    """``HttpRequest.parse_file_upload()`` of ``request``: ``parse()`` for a body the memory handler would
    keep, Django's parser otherwise (given the body again if this read it)."""
    request.__dict__.pop("parse_file_upload", None)
    django_parse = type(request).parse_file_upload
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        length = 0
    if not 0 < length <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE or not _memory_handlers(request):
        return django_parse(request, meta, post_data)
    data = _read(post_data, length)
    parsed = parse(data, meta.get("CONTENT_TYPE", ""), request.encoding) if len(data) == length else None
    if parsed is None:
        return django_parse(request, meta, io.BytesIO(data))
    request.upload_handlers = ImmutableList(  # as Django's method leaves them
        request.upload_handlers,
        warning="You cannot alter upload handlers after the upload has been processed.",
    )
    return parsed


class MultipartMiddleware:
    """Multipart bodies through ``parse_file_upload()`` above, when the request reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
            return self.get_response(request)
        request.__dict__["parse_file_upload"] = lambda meta, post_data: parse_file_upload(
            request, meta, post_data
        )
        try:
            return self.get_response(request)
        finally:
            request.__dict__.pop("parse_file_upload", None)  # the request and its method refer to each other
