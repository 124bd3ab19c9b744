"""core.headers: Django's parse_header_parameters with its answers remembered gives Django's answers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import multipartparser, request
from django.test import RequestFactory
from django.utils import http

from pingan.core import headers

LINES = [
    "",
    "image/jpeg",
    "IMAGE/JPEG",
    "multipart/form-data; boundary=pa0123456789abcdef",
    'form-data; name="title"',
    'form-data; name="photos"; filename="scene.jpg"',
    'form-data; name="photos"; filename="现场 照片.jpg"',
    "form-data; name=\"photos\"; filename*=UTF-8''%E7%8E%B0%E5%9C%BA.jpg",
    'form-data; name="a;b"; filename="x\\"y.png"',
    "text/plain; charset=utf-8; format=flowed",
    "text/plain;;; charset=gbk",
]


def test_it_is_what_the_request_and_the_multipart_parser_call():
    assert request.parse_header_parameters is headers.parse_header_parameters
    assert multipartparser.parse_header_parameters is headers.parse_header_parameters


@pytest.mark.parametrize("line", LINES)
def test_its_answers_are_djangos_the_first_time_and_again(line):
    expected = http.parse_header_parameters(line)
    assert headers.parse_header_parameters(line) == expected
    assert headers.parse_header_parameters(line) == expected  # remembered


def test_each_caller_gets_its_own_parameters():
    line = 'form-data; name="note"'
    _main, params = headers.parse_header_parameters(line)
    params["name"] = "changed"
    params["extra"] = "1"
    assert headers.parse_header_parameters(line) == ("form-data", {"name": "note"})


def test_django_refusals_stay_refusals_and_long_lines_are_not_kept():
    line = "form-data; name=\"photos\"; filename*=NO-SUCH-CHARSET''x.jpg"
    for _ in range(2):
        with pytest.raises(ValueError, match="Invalid encoding"):
            headers.parse_header_parameters(line)
    long = 'form-data; name="' + "n" * headers.MAX_LINE + '"'
    before = headers._parsed.cache_info().currsize
    assert headers.parse_header_parameters(long) == http.parse_header_parameters(long)
    assert headers._parsed.cache_info().currsize == before


def test_a_multipart_request_parses_as_before():
    photo = SimpleUploadedFile("现场.jpg", b"\xff\xd8\xff\xe0jpeg", content_type="image/jpeg")
    for _ in range(2):  # the second time from what was remembered
        made = RequestFactory().post("/x", {"title": "占道经营", "area_id": "7", "photos": photo})
        photo.seek(0)
        assert made.POST.dict() == {"title": "占道经营", "area_id": "7"}
        [upload] = made.FILES.getlist("photos")
        assert (upload.name, upload.content_type, upload.read()) == (
            "现场.jpg",
            "image/jpeg",
            b"\xff\xd8\xff\xe0jpeg",
        )
