"""/open311/v2/ — Open311 GeoReport v2 (events/open311.py). Public: no login; POST needs an api_key."""

from django.urls import path

from pingan.events import open311

app_name = "open311"
urlpatterns = [
    path("discovery.<slug:fmt>", open311.discovery, name="discovery"),
    path("services.<slug:fmt>", open311.service_list, name="services"),
    path("services/<slug:service_code>.<slug:fmt>", open311.service_definition, name="service"),
    path("requests.<slug:fmt>", open311.requests, name="requests"),
    path("requests/<slug:service_request_id>.<slug:fmt>", open311.request_detail, name="request"),
    path("tokens/<slug:token>.<slug:fmt>", open311.token, name="token"),
]
