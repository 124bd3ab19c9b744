from django.urls import path

from pingan.areas import views

app_name = "areas"
urlpatterns = [
    path("", views.area_tree, name="tree"),
    path("new/", views.area_edit, name="create"),
    path("import/", views.area_import, name="import"),
    path("import/errors/", views.area_import_errors, name="import_errors"),
    path("options/", views.area_options, name="options"),
    path("<int:area_id>/", views.area_detail, name="detail"),
    path("<int:area_id>/edit/", views.area_edit, name="edit"),
    path("departments/", views.departments, name="departments"),
    path("departments/new/", views.department_edit, name="department_create"),
    path("departments/<int:department_id>/", views.department_edit, name="department_edit"),
]
