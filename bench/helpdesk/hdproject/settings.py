"""Settings of the throwaway django-helpdesk site the benchmarks compare KeyCare with.

Kept as close to django-helpdesk's own installation guide as possible, so that the numbers
measure django-helpdesk as its users would run it: DEBUG off, the database in PostgreSQL
(``HELPDESK_DATABASE_URL``), sessions in the database, its REST API on. Teams mode is off
because it pulls in pinax-teams, which the ticket list, ticket page and API do not need.
Nothing here is secret: the site only ever listens on loopback for a benchmark run.
"""

import os
from urllib.parse import unquote, urlsplit

DEBUG = os.environ.get("HELPDESK_DEBUG") == "1"
# A fixed key is fine: the site holds only generated benchmark data and binds to loopback.
SECRET_KEY = "keycare-bench-helpdesk-not-a-secret"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hdproject.urls"
WSGI_APPLICATION = "hdproject.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(url: str) -> dict:
    """Django's DATABASES entry for a postgres:// URL (no extra dependency for one line)."""
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # Persistent connections, as a production deployment would use them.
        "CONN_MAX_AGE": 60,
    }


DATABASES = {
    "default": _database(
        os.environ.get(
            "HELPDESK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/keycare_bench_helpdesk"
        )
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/tickets/"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

# django-helpdesk's own switches.
HELPDESK_TEAMS_MODE_ENABLED = False
HELPDESK_API_ENABLED = True
# Left on: 2.6.1's urls.py fails to import with the knowledge base switched off.
HELPDESK_KB_ENABLED = True
HELPDESK_USE_CDN = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
}

# Quiet: only errors, to stderr (gunicorn's access log is off as well).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}
