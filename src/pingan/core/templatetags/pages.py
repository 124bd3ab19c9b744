"""``{% page_url N %}``: the current list's address with page N — every filter of the request kept (a
paged list that forgot its filters would page through another list)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, number: int) -> str:
    query = context["request"].GET.copy()
    query["page"] = str(number)
    return "?" + query.urlencode()
