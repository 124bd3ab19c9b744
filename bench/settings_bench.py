"""Settings for the benchmarks: the product's, plus the bench-only app of the django-import-export
comparison (``bench/iebench``). Never used by the product."""

from pingan.config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.iebench"]  # noqa: F405
