"""Test settings: SQLite in memory, or KEYCARE_TEST_DATABASE_URL (e.g. PostgreSQL)."""

from .base import *
from .base import env, postgres_tuned

SECRET_KEY = "keycare-test-key"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
_test_db = env.str("KEYCARE_TEST_DATABASE_URL", default="")
if _test_db:
    DATABASES = {"default": postgres_tuned(env.db_url_config(_test_db))}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
KEYCARE_EAGER_THREADS = False
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LANGUAGE_CODE = "en"
LOGGING["root"]["level"] = "WARNING"
# conftest points this at a pytest temporary directory for each run
KEYCARE_PRIVATE_MEDIA_ROOT = VAR_DIR / "test-private"
