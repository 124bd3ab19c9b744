from django.urls import path

from pingan.correction import views

app_name = "correction"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_edit, name="create"),
    path("export/", views.client_export, name="export"),
    path("import/", views.import_wizard, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/errors/", views.import_errors, name="import_errors"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:client_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("leaves/", views.leave_list, name="leaves"),
    path("leaves/<int:leave_id>/decide/", views.leave_decide, name="leave_decide"),
    path("figures/", views.figures, name="figures"),
    path("figures/export/", views.figures_export, name="figures_export"),
    path("<int:client_id>/", views.client_detail, name="detail"),
    path("<int:client_id>/edit/", views.client_edit, name="edit"),
    path("<int:client_id>/<slug:action>/", views.client_action, name="action"),
]
