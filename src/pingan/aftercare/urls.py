from django.urls import path

from pingan.aftercare import views

app_name = "aftercare"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_create, name="create"),
    path("export/", views.case_export_view, name="export"),
    path("import/", views.import_wizard, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/errors/", views.import_errors, name="import_errors"),
    path("figures/", views.figures, name="figures"),
    path("figures/export/", views.figures_export, name="figures_export"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/edit/", views.case_edit, name="edit"),
    path("<int:case_id>/receive/", views.handover_receive, name="receive"),
    path("<int:case_id>/not-received/", views.handover_not_received, name="not_received"),
    path("<int:case_id>/resettlement/", views.resettlement, name="resettlement"),
    path("<int:case_id>/members/", views.member_add, name="member_add"),
    path("<int:case_id>/members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("<int:case_id>/visits/", views.visit_add, name="visit_add"),
    path("<int:case_id>/aid/", views.aid_add, name="aid_add"),
    path("<int:case_id>/reoffences/", views.reoffence_add, name="reoffence_add"),
    path("<int:case_id>/close/", views.case_close, name="close"),
]
