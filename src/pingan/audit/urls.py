from django.urls import path

from pingan.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.events, name="events"),
    path("export/", views.export, name="export"),
    path("<int:event_id>/", views.event_detail, name="detail"),
]
