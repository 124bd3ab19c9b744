from django.urls import path

from pingan.workdays import views

app_name = "workdays"
urlpatterns = [
    path("holidays/", views.holidays, name="holidays"),
    path("holidays/new/", views.holiday_edit, name="create"),
    path("holidays/import/", views.holiday_import, name="import"),
    path("holidays/import/errors/", views.holiday_import_errors, name="import_errors"),
    path("holidays/export/", views.holiday_export, name="export"),
    path("holidays/<int:holiday_id>/", views.holiday_edit, name="edit"),
    path("holidays/<int:holiday_id>/delete/", views.holiday_delete, name="delete"),
]
