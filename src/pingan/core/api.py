"""API building blocks: authentication, one error body shape, pagination."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import BaseModel, BeforeValidator, ConfigDict

from pingan.core.pagination import CappedPaginator
from pingan.core.ratelimit import RateLimited, api_details


class ErrorDetail(Schema):
    field: str | None = None
    message: str


class ErrorBody(Schema):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorOut(Schema):
    """Every error answer of the API has this shape."""

    error: ErrorBody


# 403 is the CSRF refusal of a session-authenticated unsafe request (forbidden objects answer 404).
ERROR_RESPONSES: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}


def _iso_date_only(value: Any) -> Any:
    """Dates in the API are ISO 8601 calendar dates: pydantic's lax mode would also take a number of
    seconds since 1970 ("0" → 1970-01-01), which the OpenAPI document (format: date) does not allow."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("日期格式应为 YYYY-MM-DD")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("日期格式应为 YYYY-MM-DD")
    return value


# A date parameter or field: ``since: IsoDate | None = None``.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]


class Out(BaseModel):
    """An output model read from an object's attributes (or a dict) by pydantic alone. ninja's ``Schema``
    wraps every object it validates in its ``DjangoGetter``, a Python call per field, for its ``resolve_``
    methods and to turn managers and querysets into lists; an answer built from an object that carries each
    field as it is (a dict, a row, a detail object) needs neither. An ``Out`` validates such an answer in
    pydantic's core: for an event with its timeline about 100 µs less (events.schemas)."""

    model_config = ConfigDict(from_attributes=True)


class StrictQueryParser(Parser):
    """A query parameter the operation declares once, sent several times (``?kind=a&kind=b``), is refused
    (422) instead of silently keeping the last value."""

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> dict[str, Any]:
        repeated = [key for key in data if key not in list_fields and len(data.getlist(key)) > 1]
        if repeated:
            raise NinjaValidationError(
                [{"loc": ("query", key), "msg": "该参数只能出现一次", "type": "repeated"} for key in repeated]
            )
        return super().parse_querydict(data, list_fields, request)


def json_method_not_allowed(view: Any) -> Any:
    """ninja answers a method a path does not support with a plain-text 405; answer with the API's error
    body instead (the Allow header is kept)."""
    import functools

    from django.http import JsonResponse

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        is_json = response.get("Content-Type", "").startswith("application/json")
        if response.status_code == 405 and not is_json:
            allowed = response.get("Allow", "")
            error = {"code": "method_not_allowed", "message": "不支持该请求方法", "details": []}
            response = JsonResponse({"error": error}, status=405)
            response["Allow"] = allowed
        return response

    return wrapper


def require_api_user(view: Any) -> Any:
    """For the OpenAPI document and docs page: a signed-in session or a valid bearer token."""
    import functools

    from django.http import JsonResponse

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            header = request.headers.get("Authorization", "")
            if header.lower().startswith("bearer "):
                from pingan.accounts.services import token_user

                user = token_user(header.split(" ", 1)[1].strip())
            if user is None or not user.is_authenticated:
                return JsonResponse(
                    {"error": {"code": "unauthenticated", "message": "需要登录", "details": []}}, status=401
                )
        return view(request, *args, **kwargs)

    return wrapper


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from pingan.accounts.services import token_user

        user = token_user(token)
        if user is not None:
            request.user = user
        return user


class CsrfFailed(Exception):
    """An unsafe request authenticated by the session cookie without a valid CSRF token."""


class SessionAuth(APIKeyCookie):
    """The browser session, with Django's CSRF check on unsafe methods."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        from django.conf import settings

        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        # APIKeyCookie._get_key, replaced here, is where ninja checks CSRF: do it ourselves.
        if key and self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise CsrfFailed
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message, "details": details or []}}, status=status
    )


_LOCATIONS = ("body", "query", "path", "payload")  # not part of a field's name in the error details

# pydantic's input errors in Chinese, by their type (``ctx`` fills the limits); a type not listed keeps
# pydantic's own (English) text
_INPUT_MESSAGES = {
    "missing": "必填",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "应小于 {lt}",
    "string_too_long": "不能超过 {max_length} 个字符",
    "string_too_short": "至少 {min_length} 个字符",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_max_digits": "数字位数过多（最多 {max_digits} 位）",
    "decimal_max_places": "小数位数过多（最多 {decimal_places} 位）",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为时间（ISO 8601）",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "json_invalid": "不是有效的 JSON",
}


def input_message(error: dict[str, Any]) -> str:
    """One pydantic input error as the API's details say it: in Chinese where its type is known."""
    template = _INPUT_MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return str(error.get("msg", ""))
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return str(error.get("msg", ""))


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def _invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        details: list[dict[str, Any]] = [
            {
                "field": ".".join(str(p) for p in e.get("loc", []) if p not in _LOCATIONS),
                "message": input_message(e),
            }
            for e in exc.errors
        ]
        return error_response(api, request, 422, "invalid_input", "请求参数不正确", details)

    @api.exception_handler(ValidationError)
    def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        details: list[dict[str, Any]]
        if hasattr(exc, "error_dict"):
            details = [{"field": f, "message": str(m)} for f, ms in exc.message_dict.items() for m in ms]
        else:
            details = [{"field": None, "message": str(m)} for m in exc.messages]
        message = details[0]["message"] if details else "数据不正确"
        return error_response(api, request, 422, "invalid", message, details)

    @api.exception_handler(RateLimited)
    def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
        response = error_response(api, request, 429, "rate_limited", exc.message, api_details(exc))
        response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, 404, "not_found", "未找到")

    @api.exception_handler(PermissionDenied)
    def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        # Forbidden answers like missing: nobody learns that a record exists outside their scope.
        return error_response(api, request, 404, "not_found", "未找到")

    @api.exception_handler(CsrfFailed)
    def _csrf_failed(request: HttpRequest, exc: CsrfFailed) -> HttpResponse:
        return error_response(api, request, 403, "csrf_failed", "安全校验失败（CSRF），请刷新页面后重试")

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(api, request, 401, "unauthenticated", "需要登录")

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        codes = {
            400: "bad_request",
            401: "unauthenticated",
            403: "not_found",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            429: "rate_limited",
        }
        status = 404 if exc.status_code == 403 else exc.status_code
        message = "未找到" if exc.status_code == 403 else str(exc)
        return error_response(api, request, status, codes.get(exc.status_code, "error"), message)

    @api.exception_handler(Exception)
    def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A bug: logged with its traceback as Django logs a failed request (django.request), answered with
        # the documented error body and nothing of the exception's text.
        logging.getLogger("django.request").error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exc,
            extra={"status_code": 500, "request": request},
        )
        return error_response(api, request, 500, "server_error", "服务器内部错误，已记录，请稍后重试")


class Shaped:
    """A queryset whose rows a list operation answers as dicts (``shape``), made only for the rows of the
    page: ``Page`` counts the queryset in the database and slices it."""

    def __init__(self, queryset: QuerySet[Any], shape: Callable[[Any], Any]) -> None:
        self.queryset, self.shape = queryset, shape

    def __getitem__(self, item: slice) -> list[Any]:
        return [self.shape(row) for row in self.queryset[item]]


class Page(PaginationBase):
    """``?page=N&page_size=M`` (at most 200); answers {items, count, count_capped, page, page_size}. The
    bounds are declared, so a page number past any database integer is refused (422) instead of failing the
    query.

    ``count`` counts at most 10,000 rows, as the pages' lists do (``core.pagination.CappedPaginator``, without
    the list's ORDER BY); ``count_capped`` says more match. An exact count of a broad filter over a million
    rows cost 100–300 ms on every page of it (docs/benchmarks.md)."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int = Field(50, ge=1, le=200)

    class Output(Schema):
        items: list[Any]
        count: int = Field(description="匹配的条数，最多计到 10000")
        count_capped: bool = Field(False, description="匹配的超过 count 条")
        page: int
        page_size: int

    items_attribute = "items"

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page_size = max(1, min(pagination.page_size, 200))
        page = max(1, pagination.page)
        offset = (page - 1) * page_size
        source = queryset.queryset if isinstance(queryset, Shaped) else queryset
        if isinstance(source, QuerySet):
            found = source.order_by()[: CappedPaginator.CAP + 1].count()
        else:
            found = len(source)
        return {
            "items": list(queryset[offset : offset + page_size]),
            "count": min(found, CappedPaginator.CAP),
            "count_capped": found > CappedPaginator.CAP,
            "page": page,
            "page_size": page_size,
        }
