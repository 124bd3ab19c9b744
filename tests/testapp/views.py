"""A detail page for the test model, written the way a module's page shows personal data."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tests.testapp.selectors import citizen_get


def citizen_detail(request: HttpRequest, citizen_id: int) -> HttpResponse:
    citizen = citizen_get(user=request.user, citizen_id=citizen_id)
    return render(request, "testapp/citizen_detail.html", {"citizen": citizen})
