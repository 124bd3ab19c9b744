"""The real URLconf plus the test model's page (``@pytest.mark.urls("tests.testapp.urls")``)."""

from django.urls import path

from pingan.config.urls import urlpatterns as real_patterns
from tests.testapp import views

urlpatterns = [
    path("citizens/<int:citizen_id>/", views.citizen_detail, name="testapp_citizen_detail"),
    *real_patterns,
]
