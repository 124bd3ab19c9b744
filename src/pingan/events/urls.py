from django.urls import path
from django.views.generic import RedirectView

from pingan.events import views

app_name = "events"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="events:list"), name="index"),
    path("list/", views.event_list, name="list"),
    path("export/", views.event_export, name="export"),
    path("report/", views.report, name="report"),
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("triage/", views.triage, name="triage"),
    path("department/", views.department_queue, name="department_queue"),
    path("map/", views.event_map, name="map"),
    path("map/data/", views.map_data, name="map_data"),
    path("figures/", views.kpis, name="kpis"),
    path("rules/", views.rules, name="rules"),
    path("open311-keys/", views.open311_keys, name="open311_keys"),
    path("<int:event_id>/", views.event_detail, name="detail"),
    path("<int:event_id>/photos/<int:photo_id>/", views.event_photo, name="photo"),
    path("report/duplicates/", views.report_duplicates, name="report_duplicates"),
    path("subjects/search/", views.subject_search, name="subject_search"),
    path("<int:event_id>/subjects/", views.event_subjects, name="subjects"),
    path("<int:event_id>/merge/", views.event_merge, name="merge"),
    path("<int:event_id>/<slug:action>/", views.event_action, name="action"),
]
