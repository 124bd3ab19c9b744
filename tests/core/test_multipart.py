"""``core.multipart`` answers as Django's ``MultiPartParser`` does, for every body: those it parses itself and
those it hands to Django (``parse()`` returning None)."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http import HttpRequest, multipartparser
from django.http.multipartparser import MultiPartParser
from django.http.request import RawPostDataException
from django.test import RequestFactory

from pingan.core import multipart

B = "Xq7-boundary"
CT = f"multipart/form-data; boundary={B}"


def body(*parts: bytes | tuple[str, bytes], boundary: str = B, end: bytes = b"--\r\n") -> bytes:
    """A body as clients write it: each part is (headers, content) or raw bytes put as they are."""
    out = b""
    for part in parts:
        out += f"--{boundary}\r\n".encode()
        if isinstance(part, tuple):
            headers, content = part
            out += headers.encode() + b"\r\n\r\n" + content + b"\r\n"
        else:
            out += part
    return out + f"--{boundary}".encode() + end


def field(name: str, value: bytes | str) -> tuple[str, bytes]:
    data = value.encode() if isinstance(value, str) else value
    return f'Content-Disposition: form-data; name="{name}"', data


def upload(name: str, filename: str, data: bytes, content_type: str = "image/jpeg") -> tuple[str, bytes]:
    return (
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}",
        data,
    )


def _request(data: bytes, content_type: str = CT, length: int | None = None) -> HttpRequest:
    return RequestFactory().generic(
        "POST",
        "/",
        data,
        content_type=content_type,
        **({"CONTENT_LENGTH": str(length)} if length is not None else {}),
    )


def described(post: Any, files: Any) -> tuple[Any, Any]:
    return (
        sorted(post.lists()),
        sorted(
            (
                key,
                [
                    (
                        type(f).__name__,
                        f.name,
                        getattr(f, "field_name", None),
                        f.content_type,
                        f.charset,
                        f.content_type_extra,
                        f.size,
                        f.read(),
                    )
                    for f in items
                ],
            )
            for key, items in files.lists()
        ),
    )


def _answer(parse_file_upload: Any, data: bytes, content_type: str, length: int | None) -> Any:
    """What a parser gives for the body, or the type of its error."""
    request = _request(data, content_type, length)
    try:
        return described(*parse_file_upload(request, request.META, request))
    except Exception as exc:
        return type(exc)


def django_answer(data: bytes, content_type: str = CT, length: int | None = None) -> Any:
    return _answer(HttpRequest.parse_file_upload, data, content_type, length)


def our_answer(data: bytes, content_type: str = CT, length: int | None = None) -> Any:
    return _answer(multipart.parse_file_upload, data, content_type, length)


JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\r\n--not-the-boundary\r\n\r\n" + b"\xff\xd9"

TAKEN = {  # bodies parse() takes itself
    "the benchmark's report": body(
        field("area_id", "12"),
        field("category", "0102"),
        field("title", "基准测试上报的占道经营"),
        field("description", "多行\r\n描述\r\n\r\n空行之后"),
        field("latitude", "39.100001"),
        upload("photos", "scene.jpg", JPEG),
    ),
    "several files of one field, and an empty one": body(
        upload("photos", "a.jpg", JPEG), upload("photos", "b.png", b""), upload("photos", "c.webp", b"RIFF")
    ),
    "repeated fields and empty values": body(
        field("ids", "1"), field("ids", "2"), field("ids", ""), field("x", "")
    ),
    "a path and entities in a file name": body(upload("f", "C:\\Users\\me\\照片&amp;1.jpg", JPEG)),
    "a Unix path": body(upload("f", "/etc/../passwd", b"x")),
    "a file name of dots is skipped": body(upload("f", "..", b"x"), upload("g", ".", b"x"), field("h", "y")),
    "an RFC 2231 file name": body(
        (
            "Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''%E7%85%A7%E7%89%87.jpg\r\n"
            "Content-Type: image/jpeg",
            b"data",
        )
    ),
    "a charset on the file": body(
        upload("f", "a.txt", "文字".encode("gb18030"), "text/plain; charset=gb18030")
    ),
    "no content type on the file": body(
        ('Content-Disposition: form-data; name="f"; filename="a.bin"', b"\x00\x01")
    ),
    "an empty file name is a field": body(('Content-Disposition: form-data; name="f"; filename=""', b"text")),
    "a part without a name is skipped": body(
        ('Content-Disposition: form-data; filename="a.jpg"', b"x"), field("a", "b")
    ),
    "a part without a disposition is skipped": body(("Content-Type: text/plain", b"x"), field("a", "b")),
    "a form-data name with spaces and unicode": body(field("  名 字  ", "值")),
    "invalid UTF-8 in a value": body(field("a", b"\xff\xfe ok")),
    "a close delimiter without CRLF": body(field("a", "b"), end=b"--"),
    "a value ending in CRLF": body(field("a", "line\r\n")),
    "a value that looks like headers": body(field("a", "Content-Type: x\r\n\r\nmore")),
    "a lower-case header": body(('content-disposition: form-data; name="a"', b"b")),
    "a quoted name with a semicolon": body(('Content-Disposition: form-data; name="a;b"', b"c")),
    "a broken header line is passed over": body(
        ('Content-Disposition: form-data; name="a"\r\nbroken line', b"b")
    ),
}

HANDED_OVER = {  # bodies parse() leaves to Django, which answers or refuses them
    "a transfer encoding": body(
        ('Content-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64', b"aGVsbG8=")
    ),
    "a content length in a part": body(
        ('Content-Disposition: form-data; name="a"\r\nContent-Length: 1', b"b")
    ),
    "a preamble": b"preamble\r\n" + body(field("a", "b")),
    "an epilogue": body(field("a", "b"), end=b"--\r\nepilogue"),
    "an epilogue that looks like a part": body(
        field("a", "b"), end=b'--\r\nContent-Disposition: form-data; name="c"\r\n\r\nd'
    ),
    "bare LFs": body(field("a", "b")).replace(b"\r\n", b"\n"),
    "the boundary inside a value": body(field("a", f"x--{B}y")),
    "no close delimiter": body(field("a", "b"))[: -len(f"--{B}--\r\n")],
    "a part without headers": body(b"\r\nvalue\r\n", field("a", "b")),
    "headers beyond Django's chunk": body((f'Content-Disposition: form-data; name="{"n" * 1100}"', b"b")),
    "a header twice": body(
        (
            'Content-Disposition: form-data; name="a"; filename="x.jpg"\r\n'
            'Content-Disposition: form-data; name="a"',
            b"b",
        )
    ),
    "spaces after a delimiter": body(field("a", "b")).replace(
        f"--{B}\r\n".encode(), f"--{B}  \r\n".encode(), 1
    ),
    "an empty body": b"",
}


@pytest.mark.parametrize("name", list(TAKEN))
def test_bodies_it_takes_answer_as_django(name):
    data = TAKEN[name]
    assert multipart.parse(data, CT) is not None, "taken by parse() itself"
    assert our_answer(data) == django_answer(data)


@pytest.mark.parametrize("name", list(HANDED_OVER))
def test_bodies_it_hands_over_answer_as_django(name):
    data = HANDED_OVER[name]
    assert multipart.parse(data, CT) is None, "left to Django's parser"
    assert our_answer(data) == django_answer(data)


def test_a_corpus_of_mixed_bodies_answers_as_django():
    """Parts drawn at random from both lists, and bodies cut short or with a byte flipped."""
    rnd = random.Random(20261207)
    pieces = [
        field("a", "1"),
        field("名称", "值\r\n"),
        upload("photos", "a.jpg", JPEG),
        upload("photos", "", b"x"),
        ("Content-Type: text/plain", b"raw"),
        ('Content-Disposition: form-data; name="t"\r\nContent-Transfer-Encoding: base64', b"aGk="),
        ('Content-Disposition: form-data; name="q"', b"--" + B.encode()),
        field("e", ""),
    ]
    taken = 0
    for _ in range(400):
        data = body(*rnd.choices(pieces, k=rnd.randint(1, 6)))
        cut = rnd.random()
        if cut < 0.1:
            data = data[: rnd.randint(0, len(data))]
        elif cut < 0.2:
            at = rnd.randrange(len(data))
            data = data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :]
        taken += multipart.parse(data, CT) is not None
        assert our_answer(data) == django_answer(data), data
    assert 100 < taken < 400


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary
        "multipart/form-data; boundary=",
        f"multipart/form-data; boundary={'b' * 300}",
        "multipart/form-data; boundary=a b ",
        f'multipart/form-data; boundary="{B}"; charset=utf-8',
    ],
)
def test_content_types_answer_as_django(content_type):
    data = TAKEN["the benchmark's report"]
    assert our_answer(data, content_type) == django_answer(data, content_type)


def test_limits_are_djangos(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    data = body(*[field(f"f{i}", "v") for i in range(6)])
    assert multipart.parse(data, CT) is None
    assert our_answer(data) == django_answer(data) == multipartparser.TooManyFieldsSent
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    data = body(upload("a", "a.jpg", b"1"), upload("b", "b.jpg", b"2"))
    assert our_answer(data) == django_answer(data) == multipartparser.TooManyFilesSent
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 100
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50
    data = body(field("a", "x" * 60))
    assert multipart.parse(data, CT) is None
    assert our_answer(data) == django_answer(data)


def test_a_body_too_large_for_memory_goes_to_django(settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.FILE_UPLOAD_TEMP_DIR = None
    data = body(upload("photos", "a.jpg", JPEG * 2))
    answer = our_answer(data)
    assert answer == django_answer(data)
    assert answer[1][0][1][0][0] == "TemporaryUploadedFile"


def test_a_content_length_that_is_not_the_body_goes_to_django():
    data = TAKEN["the benchmark's report"]
    for length in (len(data) - 10, len(data) + 10, 0):
        assert our_answer(data, length=length) == django_answer(data, length=length)


def test_handlers_set_by_a_view_are_used():
    class Counting(MemoryFileUploadHandler):
        seen = 0

        def receive_data_chunk(self, raw_data: bytes, start: int) -> Any:
            Counting.seen += len(raw_data)
            return super().receive_data_chunk(raw_data, start)

    request = _request(TAKEN["the benchmark's report"])
    request.upload_handlers = [Counting(request)]
    post, files = multipart.parse_file_upload(request, request.META, request)
    assert Counting.seen == len(JPEG) and files["photos"].read() == JPEG and post["area_id"] == "12"


def test_upload_handlers_cannot_change_afterwards():
    request = _request(TAKEN["the benchmark's report"])
    multipart.parse_file_upload(request, request.META, request)
    with pytest.raises(AttributeError, match="after the upload has been processed"):
        request.upload_handlers.append(TemporaryFileUploadHandler(request))


def test_the_header_chunk_is_djangos():
    assert multipart.HEADER_CHUNK == multipartparser.MAX_TOTAL_HEADER_SIZE


def test_the_middleware_parses_when_a_view_reads(client, settings):
    """The middleware's request parses when its view reads POST or FILES."""
    seen: dict[str, Any] = {}

    def view(request: HttpRequest) -> Any:
        from django.http import HttpResponse

        seen["post"] = dict(request.POST.lists())
        seen["file"] = request.FILES["photos"]
        seen["own_method"] = "parse_file_upload" in request.__dict__
        return HttpResponse("ok")

    data = TAKEN["the benchmark's report"]
    request = _request(data)
    middleware = multipart.MultipartMiddleware(view)
    assert middleware(request).status_code == 200
    assert seen["post"]["title"] == ["基准测试上报的占道经营"]
    assert isinstance(seen["file"], InMemoryUploadedFile) and seen["file"].read() == JPEG
    assert seen["own_method"] is False  # used once, then gone
    assert "parse_file_upload" not in request.__dict__
    with pytest.raises(RawPostDataException):  # as after Django's parser: the stream is read
        request.body  # noqa: B018


def test_each_file_is_its_own_object():
    post, files = multipart.parse(TAKEN["several files of one field, and an empty one"], CT)  # type: ignore[misc]
    photos = files.getlist("photos")
    assert [p.name for p in photos] == ["a.jpg", "b.png", "c.webp"]
    assert [p.size for p in photos] == [len(JPEG), 0, 4]
    assert len({id(p.file) for p in photos}) == 3
    assert not post._mutable


def test_the_bodies_above_are_distinct():
    """A copy-paste slip would test one body twice."""
    everything = list(TAKEN.values()) + list(HANDED_OVER.values())
    assert len(set(everything)) == len(everything)
    assert not set(TAKEN) & set(HANDED_OVER)
    assert MultiPartParser.boundary_re.fullmatch(B)


def test_a_stream_read_in_pieces_is_read_whole():
    """A server's input may answer a read with fewer bytes than asked: the body is read to its length."""

    class Trickle(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(min(size if size is not None and size >= 0 else 1 << 30, 100))

    data = TAKEN["the benchmark's report"]
    request = _request(data)
    post, files = multipart.parse_file_upload(request, request.META, Trickle(data))
    assert post["title"] == "基准测试上报的占道经营" and files["photos"].read() == JPEG
