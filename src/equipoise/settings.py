"""Django settings, all read from the environment.

Safe defaults serve the demo (SQLite under ``./.equipoise``); outside the demo, with ``DEBUG``
off, ``SECRET_KEY`` must be given, so a production deployment never runs on a guessable key.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from equipoise.core.vendor_static import plotly_static_dir
from equipoise.env import env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("EQUIPOISE_DATA_DIR") or ".equipoise").resolve()

DEBUG = env_bool("DEBUG", default=False)
# Set by `equipoise demo` (and the test settings): the only mode that may invent its own key.
DEMO_MODE = env_bool("EQUIPOISE_DEMO", default=False)


def _secret_key() -> str:
    configured = env_str("SECRET_KEY")
    if configured:
        return configured
    if not (DEBUG or DEMO_MODE):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE) in the environment, "
            "or run `equipoise demo`, which keeps a generated key in the data directory."
        )
    # Demo/DEBUG only: generate once and keep it, so sessions survive a restart.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    default=["127.0.0.1", "localhost", "[::1]", "testserver"] if (DEBUG or DEMO_MODE) else [],
)
if not ALLOWED_HOSTS and not DEBUG:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set: list the host names this server answers to.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "simple_history",
    "equipoise.core",
    "equipoise.org",
    "equipoise.planning",
    "equipoise.quotas",
    "equipoise.results",
    "equipoise.tracking",
    "equipoise.api",
    "equipoise.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "equipoise.core.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "equipoise.urls"
WSGI_APPLICATION = "equipoise.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "equipoise.web.context.navigation",
            ],
        },
    }
]

_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", default=60))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT: every query here is an index read of a bounded range. PostgreSQL compiles a
        # query once its estimated cost passes a threshold, as reads of a team's lines do, and
        # compiling took about 50 ms, more than such a read itself.
        _options = DATABASES["default"].setdefault("OPTIONS", {})
        if "jit" not in str(_options.get("options", "")):
            _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "equipoise.sqlite3"),
            "OPTIONS": {
                # WAL lets readers work while an import writes; IMMEDIATE takes the write lock
                # at BEGIN so two writers queue instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE") or "UTC"

# Managers with at least this many people below them keep rollups by dimension and daily totals
# (see equipoise.results.rollup_nodes); run `equipoise rebuild-rollups` after changing it.
EQUIPOISE_LARGE_SUBTREE = env_int("EQUIPOISE_LARGE_SUBTREE", default=20)
if EQUIPOISE_LARGE_SUBTREE < 0:
    raise ImproperlyConfigured(f"EQUIPOISE_LARGE_SUBTREE must be 0 or more, not {EQUIPOISE_LARGE_SUBTREE}.")
# Uploads larger than this many bytes import in a background process, with a progress page
# (see equipoise.results.import_jobs); smaller ones import while the page waits.
EQUIPOISE_BACKGROUND_IMPORT_BYTES = env_int("EQUIPOISE_BACKGROUND_IMPORT_BYTES", default=5 * 1024 * 1024)
if EQUIPOISE_BACKGROUND_IMPORT_BYTES < 0:
    raise ImproperlyConfigured(f"EQUIPOISE_BACKGROUND_IMPORT_BYTES must be 0 or more, not {EQUIPOISE_BACKGROUND_IMPORT_BYTES}.")
# How a background import runs: "process" (a process of its own, the default) or "inline" (in
# the process that received the upload, before the page answers; for tests and debugging).
EQUIPOISE_IMPORT_JOBS = env_str("EQUIPOISE_IMPORT_JOBS") or "process"
if EQUIPOISE_IMPORT_JOBS not in ("process", "inline"):
    raise ImproperlyConfigured(f"EQUIPOISE_IMPORT_JOBS must be process or inline, not {EQUIPOISE_IMPORT_JOBS!r}.")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# `collectstatic` fills this for production; whitenoise expects it to exist even when it serves
# straight from the finders (demo and tests).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)


# Plotly's own bundle ships inside the plotly package: served as static/plotly/plotly.min.js from a
# copy in the data directory, with the gzip copy whitenoise sends to browsers that accept it.
STATICFILES_DIRS = [str(PACKAGE_DIR / "static"), ("plotly", str(plotly_static_dir(DATA_DIR)))]
# Serve straight from the app and package directories: `equipoise demo` needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# A full API push (10,000 result lines) is about 4 MB of JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if env_str("EMAIL_HOST") else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env_str("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "equipoise@localhost"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "WARNING"},
}

# Audit reasons ("why") can be longer than a headline.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
