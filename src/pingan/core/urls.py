from django.urls import path

from pingan.core import sensitive_views, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("scope/", views.switch_scope, name="switch_scope"),
    path("codes/", views.code_tables, name="code_tables"),
    path("healthz", views.health, name="health"),
    path("sensitive/reveal/", sensitive_views.reveal, name="sensitive_reveal"),
    path("exports/", views.exports, name="exports"),
    path("exports/<int:job_id>/download/", views.export_download, name="export_download"),
]
