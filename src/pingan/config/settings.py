"""Pingan settings. Every value comes from the environment through typed helpers (config/env.py).

PINGAN_ENV=production turns on the deployment checks: no default secret, secure cookies, HSTS.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from pingan.config.env import env_bool, env_choice, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env_str("PINGAN_HOME", str(Path.cwd())))
VAR_DIR = Path(env_str("PINGAN_VAR_DIR", str(BASE_DIR / "var")))

PINGAN_ENV = env_choice("PINGAN_ENV", ("development", "production"), "development")
PRODUCTION = PINGAN_ENV == "production"

DEVELOPMENT_SECRET_KEY = "pingan-development-only-secret-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("PINGAN_SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY == DEVELOPMENT_SECRET_KEY or "insecure" in SECRET_KEY):
    raise ImproperlyConfigured(
        "PINGAN_SECRET_KEY must be set to a random value of at least 50 characters in production "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')"
    )

if PRODUCTION and not (env_str("PINGAN_KEY_FILE", "") or env_str("PINGAN_FIELD_KEYS", "")):
    raise ImproperlyConfigured(
        "production needs the personal-data keys: set PINGAN_KEY_FILE (see docs/security.md) or "
        "PINGAN_FIELD_KEYS, PINGAN_FIELD_KEY_ID, PINGAN_INDEX_KEY and PINGAN_MAC_KEY"
    )
if PRODUCTION:
    # the keys themselves: readable, not the development keys, distinct, key file not world-readable
    from pingan.core.crypto import check_production_keys

    check_production_keys()

DEBUG = env_bool("PINGAN_DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("PINGAN_DEBUG must not be on in production")

ALLOWED_HOSTS = env_list(
    "PINGAN_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("PINGAN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules.apps.AutodiscoverRulesConfig",
    "ninja",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "pingan.core",
    "pingan.areas",
    "pingan.accounts",
    "pingan.audit",
    "pingan.workdays",
    "pingan.notifications",
    "pingan.events",
    "pingan.people",
    "pingan.schools",
    "pingan.correction",
    "pingan.aftercare",
]
# Models that exist only for the test suite (tests/testapp), added when pytest loads these settings;
# deployments and subprocesses never see them.
if "pytest" in sys.modules and not PRODUCTION:
    INSTALLED_APPS.append("tests.testapp")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "pingan.core.multipart.MultipartMiddleware",  # small multipart bodies in one pass, when a view reads them
    "django.contrib.sessions.middleware.SessionMiddleware",
    "pingan.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "pingan.audit.context.AuditContextMiddleware",
    "pingan.accounts.middleware.LoginSecurityMiddleware",  # idle/absolute timeout, expired password
    "pingan.core.middleware.ScopeFocusMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "pingan.core.middleware.NoStoreForAuthenticatedMiddleware",
    "pingan.core.middleware.RateLimitedMiddleware",  # 429 page for core.ratelimit.RateLimited
]

ROOT_URLCONF = "pingan.config.urls"
WSGI_APPLICATION = "pingan.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pingan.core.context_processors.shell",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- database -------------------------------------------------------------------------------------
_default_sqlite = f"sqlite:///{VAR_DIR / 'pingan.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", _default_sqlite)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("PINGAN_DB_CONN_MAX_AGE", 60))
}
# PostgreSQL's cost of a random page read, set on every connection (core.apps.postgres_session_settings):
# 1.1 for data on SSD or in memory (the server default, 4, models spinning disks and made the planner walk
# 50,000 rows in list order rather than read 2,000 through an index: docs/benchmarks.md); "" keeps the
# server's own setting.
PG_RANDOM_PAGE_COST = env_str("PINGAN_PG_RANDOM_PAGE_COST", "1.1")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(str(DATABASES["default"]["NAME"])).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
            "transaction_mode": "IMMEDIATE",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": None}
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "PINGAN_PG_PREPARED", default=True
    ):
        # psycopg prepares only the statements that ask for it (core.prepared): a threshold of automatic
        # preparation never reached. Unset (Django's default), nothing is prepared: for a pooler that cannot
        # keep prepared statements.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**31 - 1)
    if env_str("PINGAN_TEST_DB_SUFFIX", ""):
        # lets several local test runs share one PostgreSQL server without clashing over test_<name>
        DATABASES["default"]["TEST"] = {"NAME": f"test_pingan_{env_str('PINGAN_TEST_DB_SUFFIX', '')}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, tasks ---------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pingan"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}

# --- auth and sessions ----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Length, character classes, common passwords and history follow the security policy (accounts.security).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "pingan.accounts.security.PolicyMinimumLengthValidator"},
    {"NAME": "pingan.accounts.security.CharacterClassesValidator"},
    {"NAME": "pingan.accounts.security.PolicyCommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "pingan.accounts.security.PasswordHistoryValidator"},
]
# The idle timeout follows the security policy (this value only before the policy table exists).
SESSION_ENGINE = "pingan.accounts.session_store"
SESSION_COOKIE_AGE = env_int("PINGAN_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = False  # saved when changed: the idle clock moves once a minute (middleware)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
API_TOKEN_LIFETIME_SECONDS = env_int("PINGAN_API_TOKEN_SECONDS", 8 * 3600)
LOGIN_RATE_PER_MINUTE = env_int("PINGAN_LOGIN_RATE_PER_MINUTE", 30)  # per source address
TOKEN_RATE_PER_MINUTE = env_int("PINGAN_TOKEN_RATE_PER_MINUTE", 20)  # per source address

# --- i18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("PINGAN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static ---------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = not PRODUCTION
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- security headers -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("PINGAN_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("PINGAN_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("PINGAN_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Intranet host names cannot be on the browsers' HSTS preload list; opt in for public hosts.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- logging --------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("PINGAN_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Pingan ---------------------------------------------------------------------------------------
PINGAN_DISTRICT_NAME = env_str("PINGAN_DISTRICT_NAME", "")
# Audit trail retention (MLPS: at least six months). May be raised, never lowered below 180 days.
PINGAN_AUDIT_RETENTION_DAYS = env_int("PINGAN_AUDIT_RETENTION_DAYS", 180)
if PINGAN_AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured(
        "PINGAN_AUDIT_RETENTION_DAYS must be at least 180 (audit records kept six months)"
    )
