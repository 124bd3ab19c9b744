"""/follow/ — a citizen follows a report by its number, without signing in (no personal data shown)."""

from django.urls import path

from pingan.events import open311

app_name = "follow"
urlpatterns = [
    path("", open311.follow, name="form"),
    path("<slug:number>/", open311.follow, name="detail"),
]
