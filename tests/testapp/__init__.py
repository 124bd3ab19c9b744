"""A Django app with models used only by the test suite (added to INSTALLED_APPS only when pytest loads
the settings; its migrations live in tests/testapp/migrations)."""
