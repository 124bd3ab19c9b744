from django.urls import path

from pingan.schools import views

app_name = "schools"
urlpatterns = [
    path("", views.school_list, name="list"),
    path("new/", views.school_edit, name="create"),
    path("export/", views.school_export, name="export"),
    path("import/", views.school_import, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/errors/", views.import_errors, name="import_errors"),
    path("<int:school_id>/", views.school_detail, name="detail"),
    path("<int:school_id>/edit/", views.school_edit, name="edit"),
]
