"""The reveal page endpoint: POST object type, id, field and reason; answers the full value (an htmx
partial that replaces the masked one, or a small page without JavaScript). Audited by the service."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pingan.core.sensitive import (
    RevealRateLimited,
    dom_id,
    field_label,
    masked,
    sensitive_reveal,
    sensitive_spec,
)


@never_cache
@require_POST
def reveal(request: HttpRequest) -> HttpResponse:
    object_type = request.POST.get("object_type", "")[:100]
    object_id = request.POST.get("object_id", "")[:40]
    field = request.POST.get("field", "")[:60]
    reason = request.POST.get("reason", "")
    html_id = dom_id(object_type, object_id, field)
    referer = request.headers.get("Referer", "")
    back_url = (
        referer if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}) else "/"
    )
    context = {
        "dom_id": html_id,
        "object_type": object_type,
        "object_id": object_id,
        "field": field,
        "back_url": back_url,
        "hide_after": getattr(settings, "PINGAN_REVEAL_HIDE_SECONDS", 60),
    }
    try:
        result = sensitive_reveal(
            actor=request.user, object_type=object_type, object_id=object_id, field=field, reason=reason
        )
    except (ValidationError, RevealRateLimited) as exc:
        # the masked value again with the reason form open and the message; a record the user cannot
        # see answers 404 here too (Http404 from the selector propagates)
        spec = sensitive_spec(object_type)
        if spec is None or field not in spec.fields:
            raise Http404 from None
        obj = spec.selector(request.user, object_id, reason="")
        context.update(
            {
                "value": masked(obj, field),
                "may_reveal": True,
                "reason": reason[:200],
                "error": exc.messages[0]
                if isinstance(exc, ValidationError)
                else str(exc.args[0] if exc.args else exc),
                "field_label": field_label(spec.model, field),
            }
        )
        template = (
            "core/_sensitive_value.html"
            if request.headers.get("HX-Request")
            else "core/sensitive_reveal.html"
        )
        return render(request, template, context)
    context.update(
        {
            "value": result.value,
            "masked": result.masked,
            "revealed": True,
            "field_label": field_label(result.obj, field),
        }
    )
    template = (
        "core/_sensitive_revealed.html" if request.headers.get("HX-Request") else "core/sensitive_reveal.html"
    )
    return render(request, template, context)
