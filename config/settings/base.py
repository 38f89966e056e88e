"""Settings shared by every environment, read from the environment (12-factor).

Every variable is documented in .env.example.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

env = environ.Env()
env_file = env.str("KEYCARE_ENV_FILE", default="")
if env_file:
    environ.Env.read_env(env_file)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("KEYCARE_VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "axes",
    "simple_history",
    "rules.apps.AutodiscoverRulesConfig",
    # KeyCare domain apps
    "keycare.core",
    "keycare.users",
    "keycare.accounts",
    "keycare.service",
    "keycare.profitability",
    "keycare.insights",
    "keycare.engagement",
    "keycare.dataio",
    "keycare.demo",
    # KeyCare interfaces
    "keycare.api",
    "keycare.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # axes must be last
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "keycare.web.context_processors.navigation",
            ],
        },
    },
]


def postgres_tuned(database: dict) -> dict:
    """PostgreSQL session settings of every connection. The ORM writes joins in a good
    order (the row, then what it points to); searching every order of a detail page's eight
    joins cost PostgreSQL 4-17 ms of planning for a 0.2 ms lookup (docs/performance.md), so
    the planner reorders joins only within groups of four. JIT compilation is off: it
    fired on the analysis pages' 100,000-row queries and cost about a second each, more than
    it ever saved on this workload."""
    if database["ENGINE"] == "django.db.backends.postgresql":
        limit = env.int("PG_JOIN_COLLAPSE_LIMIT", default=4)
        database.setdefault("OPTIONS", {}).setdefault(
            "options",
            f"-c join_collapse_limit={limit} -c from_collapse_limit={limit} -c jit=off",
        )
    return database


DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'keycare.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the ticker writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    postgres_tuned(DATABASES["default"])

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

# django-axes: lock an account/IP pair out after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "web/auth/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# Internationalisation
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
#: zh-Hans groups thousands with commas (Django's locale leaves them out)
FORMAT_MODULE_PATH = ["keycare.formats"]
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "keycare" / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Email
_email = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="KeyCare <keycare@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# Background work: Celery with Redis when REDIS_URL is set; otherwise tasks run
# in-process right after the transaction commits (same task code, no extra service).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# The address users reach KeyCare at, for links in emails (rating links).
KEYCARE_BASE_URL = env.str("KEYCARE_BASE_URL", default="http://127.0.0.1:8000")
# Minutes a target may stay breached before the executives are alerted too.
KEYCARE_ESCALATION_MINUTES = env.int("KEYCARE_ESCALATION_MINUTES", default=240)
# Internal labour cost per engineer hour (CNY), for the cost to serve of field visits.
KEYCARE_LABOUR_RATE = env.float("KEYCARE_LABOUR_RATE", default=180.0)
KEYCARE_TICK_SECONDS = env.int("KEYCARE_TICK_SECONDS", default=60)
# Embedded mode only: run background tasks in a thread of the web process.
KEYCARE_EAGER_THREADS = env.bool("KEYCARE_EAGER_THREADS", default=True)
# Largest import file accepted from the web UI, in megabytes.
KEYCARE_IMPORT_MAX_MB = env.int("KEYCARE_IMPORT_MAX_MB", default=200)
# Ticket attachments: stored here, outside the web root, served only to those allowed.
KEYCARE_PRIVATE_MEDIA_ROOT = Path(
    env.str("KEYCARE_PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private"))
)
# Largest ticket attachment, in megabytes, and how many files one upload may carry.
KEYCARE_ATTACHMENT_MAX_MB = env.int("KEYCARE_ATTACHMENT_MAX_MB", default=10)
KEYCARE_ATTACHMENT_MAX_FILES = env.int("KEYCARE_ATTACHMENT_MAX_FILES", default=5)
# NPS: months between two surveys of the same contact, and days a survey link stays valid.
KEYCARE_NPS_INTERVAL_MONTHS = env.int("KEYCARE_NPS_INTERVAL_MONTHS", default=6)
KEYCARE_NPS_LINK_DAYS = env.int("KEYCARE_NPS_LINK_DAYS", default=30)
# Uploads above this size go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "keycare.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "keycare.api.exceptions.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "KeyCare API",
    "DESCRIPTION": "Key-account after-sales service management (大客户售后服务管理系统).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "keycare.accounts.choices.AccountStatus",
        "AccountTierEnum": "keycare.accounts.choices.AccountTier",
        "AccountTypeEnum": "keycare.accounts.choices.AccountType",
        "BuyingRoleEnum": "keycare.accounts.choices.BuyingRole",
        "DecisionStyleEnum": "keycare.accounts.choices.DecisionStyle",
        "LevelEnum": "keycare.accounts.choices.Level",
        "EquipmentStatusEnum": "keycare.accounts.choices.EquipmentStatus",
        "OrderLineTypeEnum": "keycare.accounts.choices.OrderLineType",
        "TicketStatusEnum": "keycare.service.choices.TicketStatus",
        "TicketTypeEnum": "keycare.service.choices.TicketType",
        "PriorityEnum": "keycare.service.choices.Priority",
        "ChannelEnum": "keycare.service.choices.Channel",
        "RootCauseEnum": "keycare.service.choices.RootCause",
        "SlaStateEnum": "keycare.service.choices.SlaState",
        "CoverageEnum": "keycare.service.choices.Coverage",
        "ConcessionKindEnum": "keycare.profitability.choices.ConcessionKind",
        "ConcessionStatusEnum": "keycare.profitability.choices.ConcessionStatus",
        "ConcessionEventKindEnum": "keycare.profitability.choices.ConcessionEventKind",
        "ApprovalLevelEnum": "keycare.profitability.choices.ApprovalLevel",
        "StepStatusEnum": "keycare.profitability.choices.StepStatus",
        "CostDriverEnum": "keycare.profitability.choices.CostDriver",
        "ActivityKindEnum": "keycare.engagement.choices.ActivityKind",
        "ActivityStatusEnum": "keycare.engagement.choices.ActivityStatus",
        "PainStatusEnum": "keycare.engagement.choices.PainStatus",
        "EventKindEnum": "keycare.engagement.choices.EventKind",
        "EventStatusEnum": "keycare.engagement.choices.EventStatus",
        "InvitationStatusEnum": "keycare.engagement.choices.InvitationStatus",
        "GiftStatusEnum": "keycare.engagement.choices.GiftStatus",
    },
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
        # Django adds its own console handler in DEBUG; log each line once.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
