"""Bench-only Django app: the plain model the django-import-export comparison imports into
(``bench/bench_people_import.py``). Installed only by ``bench/settings_bench.py``, never by the product."""
