from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.testapp"
    label = "testapp"
    verbose_name = "test models"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pingan.core.fields import register_token_column
        from pingan.core.search import register_provider
        from pingan.core.sensitive import register_sensitive
        from tests.testapp.models import Citizen
        from tests.testapp.selectors import citizen_search_hits

        register_sensitive(
            Citizen, fields={"id_number": "id_number", "phone": "phone", "name": "name", "address": "address"}
        )
        register_provider("testapp.citizen", citizen_search_hits)
        register_token_column("testapp.Note", "raw_token")
