from django.urls import path

from pingan.people import views

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="list"),
    path("new/", views.person_edit, name="create"),
    path("export/", views.person_export_view, name="export"),
    path("import/", views.import_wizard, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/errors/", views.import_errors, name="import_errors"),
    path("<int:person_id>/", views.person_detail, name="detail"),
    path("<int:person_id>/edit/", views.person_edit, name="edit"),
    path("<int:person_id>/move-out/", views.person_move_out, name="move_out"),
    path("<int:person_id>/merge/", views.person_merge, name="merge"),
    path("houses/", views.house_list, name="houses"),
    path("houses/new/", views.house_edit, name="house_create"),
    path("houses/<int:house_id>/", views.house_detail, name="house"),
    path("households/<int:household_id>/", views.household_detail, name="household"),
]
