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
    path("import/jobs/<int:job_id>/", views.import_job, name="import_job"),
    path("import/jobs/<int:job_id>/commit/", views.import_job_commit, name="import_job_commit"),
    path("import/jobs/<int:job_id>/errors/", views.import_job_errors, name="import_job_errors"),
    path("<int:person_id>/", views.person_detail, name="detail"),
    path("<int:person_id>/edit/", views.person_edit, name="edit"),
    path("<int:person_id>/move-out/", views.person_move_out, name="move_out"),
    path("<int:person_id>/merge/", views.person_merge, name="merge"),
    path("houses/", views.house_list, name="houses"),
    path("houses/new/", views.house_edit, name="house_create"),
    path("houses/<int:house_id>/", views.house_detail, name="house"),
    path("houses/<int:house_id>/edit/", views.house_edit, name="house_edit"),
    path("<int:person_id>/move-in/", views.person_move_in_view, name="move_in"),
    path("<int:person_id>/floating/new/", views.floating_edit, name="floating_create"),
    path("<int:person_id>/floating/<int:record_id>/", views.floating_edit, name="floating_edit"),
    path("<int:person_id>/overseas/new/", views.overseas_edit, name="overseas_create"),
    path("<int:person_id>/overseas/<int:record_id>/", views.overseas_edit, name="overseas_edit"),
    path("houses/<int:house_id>/occupants/new/", views.occupancy_add, name="occupancy_add"),
    path("occupancies/<int:occupancy_id>/end/", views.occupancy_end, name="occupancy_end"),
    path("floating/reminders/", views.floating_reminders, name="floating_reminders"),
    path("floating/reminders/export/", views.floating_reminders_export, name="floating_reminders_export"),
    path("floating/<int:record_id>/verify/", views.floating_verify, name="floating_verify"),
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/<int:household_id>/", views.household_detail, name="household"),
    path(
        "households/<int:household_id>/members/new/", views.household_member_add, name="household_member_add"
    ),
    path(
        "households/<int:household_id>/members/remove/",
        views.household_member_remove,
        name="household_member_remove",
    ),
    path(
        "households/<int:household_id>/householder/",
        views.household_householder,
        name="household_householder",
    ),
]
