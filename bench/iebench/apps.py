from django.apps import AppConfig


class IEBenchConfig(AppConfig):
    name = "bench.iebench"
    label = "iebench"
    default_auto_field = "django.db.models.BigAutoField"
