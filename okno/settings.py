"""Okno settings, read from the environment with typed helpers.

Every value has a development default so that ``make demo`` works on a bare machine;
``OKNO_ENV=production`` switches on the strict defaults that pass ``okno check --deploy``
and refuses to start without an explicit ``SECRET_KEY``/``SECRET_KEY_FILE``.
Secrets may be given as ``NAME_FILE`` pointing at a file (Docker/Kubernetes secrets).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OKNO_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()
ENV_FILE = BASE_DIR / ".env"
if ENV_FILE.exists():
    env.read_env(str(ENV_FILE))

OKNO_ENV = env.str("OKNO_ENV", default="development")
if OKNO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"OKNO_ENV must be development, production or test, not {OKNO_ENV!r}")
PRODUCTION = OKNO_ENV == "production"


def _secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from NAME or from the file named by NAME_FILE."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def _secret_key() -> str:
    key = _secret("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY or SECRET_KEY_FILE must be set when OKNO_ENV=production")
    # Development: generate once into an untracked file so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Reverse proxies (addresses or CIDRs) whose X-Forwarded-For is believed (okno.core.middleware).
OKNO_TRUSTED_PROXIES = env.list("OKNO_TRUSTED_PROXIES", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "okno.core",
    "okno.org",
    "okno.customers",
    "okno.appeals",
    "okno.analytics",
    "okno.billing",
    "okno.outages",
    "okno.notify",
    "okno.contact_center",
    "okno.assistant",
    "okno.content",
    "okno.portal",
]

MIDDLEWARE = [
    "okno.core.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "okno.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "okno.core.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "okno.urls"
WSGI_APPLICATION = "okno.wsgi.application"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "appeals:my_queue"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "okno" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "okno.core.context_processors.okno",
                "okno.portal.context.portal",
            ],
        },
    },
]

# Database: SQLite file by default, postgres://… for production.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'okno.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
else:
    _db["ENGINE"] = "django.db.backends.postgresql"
    _db.setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    _db["CONN_HEALTH_CHECKS"] = True
    if os.environ.get("DATABASE_PASSWORD_FILE"):
        _db["PASSWORD"] = _secret("DATABASE_PASSWORD")
    if env.str("DATABASE_TEST_NAME", default=""):
        _db["TEST"] = {"NAME": env.str("DATABASE_TEST_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "okno" / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "okno" / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
OKNO_MAX_ATTACHMENT_BYTES = env.int("OKNO_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)

# E-mail
# Development keeps outgoing mail as files in var/mail/ (no SMTP server needed for the demo);
# production sends through EMAIL_HOST.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = _secret("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Окно <noreply@okno.local>")

# Security: strict in production, relaxed for the loopback demo.
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "okno.core.api.OknoCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "okno.core.api.problem_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Okno API",
    "DESCRIPTION": "Single-window appeals registry, metering and billing of an electric utility.",
    "VERSION": "1.4.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set, so the schema has no colliding enums.
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "okno.appeals.choices.Channel",
        "AnswerChannelEnum": "okno.appeals.choices.AnswerChannel",
        "AppealTypeEnum": "okno.appeals.choices.AppealType",
        "TopicEnum": "okno.appeals.choices.Topic",
        "StatusEnum": "okno.appeals.choices.Status",
        "CancelReasonEnum": "okno.appeals.choices.CancelReason",
        "DeadlineUnitEnum": "okno.appeals.choices.DeadlineUnit",
        "EventTypeEnum": "okno.appeals.choices.EventType",
        "CustomerKindEnum": "okno.customers.choices.CustomerKind",
        "ContactKindEnum": "okno.customers.choices.ContactKind",
        "ContactEventKindEnum": "okno.customers.choices.ContactEventKind",
        "ChangeActionEnum": "okno.core.models.ChangeLog.Action",
        "NodeKindEnum": "okno.outages.choices.NodeKind",
        "OutageKindEnum": "okno.outages.choices.OutageKind",
        "OutageStatusEnum": "okno.outages.choices.OutageStatus",
        "CauseEnum": "okno.outages.choices.Cause",
        "NoticeChannelEnum": "okno.notify.choices.Channel",
        "NoticeStatusEnum": "okno.notify.choices.NoticeStatus",
        "NoticeLanguageEnum": "okno.notify.choices.Language",
    },
}

# Jobs: embedded (database queue, in-process worker) unless a Celery broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
OKNO_JOBS_EAGER = env.bool("OKNO_JOBS_EAGER", default=False)

# Appeals registry
OKNO_REPEAT_WINDOW_DAYS = env.int("OKNO_REPEAT_WINDOW_DAYS", default=30)
OKNO_DUE_SOON_HOURS = env.int("OKNO_DUE_SOON_HOURS", default=48)
# Database connections a billing run uses at once on PostgreSQL (chunks in parallel); 1 on SQLite.
OKNO_BILLING_WORKERS = env.int("OKNO_BILLING_WORKERS", default=2)
# Seconds after which each process reloads reference data edited elsewhere (policies, rules, calendar).
OKNO_REFERENCE_TTL = env.int("OKNO_REFERENCE_TTL", default=60)
OKNO_COMPANY_NAME = env.str("OKNO_COMPANY_NAME", default="")
# The address the public reaches this installation at: the base of links in e-mails and SMS
# (unsubscribe, confirmation).
OKNO_PUBLIC_URL = env.str("OKNO_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
# Outages: seconds a process keeps the picture of nodes that are off (the address lookup reads it), and
# the street directory the lookup matches typed addresses against.
OKNO_OUTAGE_LOOKUP_TTL = env.float("OKNO_OUTAGE_LOOKUP_TTL", default=5.0)
OKNO_ADDRESS_DIRECTORY_TTL = env.float("OKNO_ADDRESS_DIRECTORY_TTL", default=3600.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Notification transports (okno.notify.transports) ---
# Each channel uses its provider when one is configured here. Otherwise development and tests use a
# simulated transport that still encodes, encrypts and signs what it would send and records it (in memory
# and, outside tests, as JSON lines under NOTIFY_OUTBOX_DIR); production fails such notices for good with
# "channel not configured" unless NOTIFY_SIMULATE_UNCONFIGURED is set. See docs/notify/transports.md.
NOTIFY_EMAIL_FROM = env.str("NOTIFY_EMAIL_FROM", default=DEFAULT_FROM_EMAIL)
NOTIFY_EMAIL_MESSAGE_ID_DOMAIN = env.str("NOTIFY_EMAIL_MESSAGE_ID_DOMAIN", default="")
NOTIFY_SMPP_HOST = env.str("NOTIFY_SMPP_HOST", default="")
NOTIFY_SMPP_PORT = env.int("NOTIFY_SMPP_PORT", default=2775)
NOTIFY_SMPP_SYSTEM_ID = env.str("NOTIFY_SMPP_SYSTEM_ID", default="okno")
NOTIFY_SMPP_PASSWORD = _secret("NOTIFY_SMPP_PASSWORD", "") or ""
NOTIFY_SMPP_SYSTEM_TYPE = env.str("NOTIFY_SMPP_SYSTEM_TYPE", default="")
NOTIFY_SMPP_SOURCE_ADDR = env.str("NOTIFY_SMPP_SOURCE_ADDR", default="Okno")
NOTIFY_SMPP_BIND = env.str("NOTIFY_SMPP_BIND", default="transceiver")
if NOTIFY_SMPP_BIND not in {"transceiver", "transmitter"}:
    raise ImproperlyConfigured(
        f"NOTIFY_SMPP_BIND must be transceiver or transmitter, not {NOTIFY_SMPP_BIND!r}"
    )
NOTIFY_SMPP_TIMEOUT = env.float("NOTIFY_SMPP_TIMEOUT", default=10.0)
NOTIFY_SMPP_ENQUIRE_LINK_INTERVAL = env.float("NOTIFY_SMPP_ENQUIRE_LINK_INTERVAL", default=30.0)
NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY = _secret("NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY", "") or ""
NOTIFY_WEBPUSH_SUBJECT = env.str("NOTIFY_WEBPUSH_SUBJECT", default="mailto:noreply@okno.local")
NOTIFY_WEBPUSH_TTL = env.int("NOTIFY_WEBPUSH_TTL", default=86400)
NOTIFY_WEBPUSH_TIMEOUT = env.float("NOTIFY_WEBPUSH_TIMEOUT", default=10.0)
# Subscriptions come from the public site: in production refuse endpoints in private networks (SSRF).
NOTIFY_WEBPUSH_ALLOW_PRIVATE_ENDPOINTS = env.bool(
    "NOTIFY_WEBPUSH_ALLOW_PRIVATE_ENDPOINTS", default=not PRODUCTION
)
NOTIFY_MESSENGER_ADAPTER = env.str("NOTIFY_MESSENGER_ADAPTER", default="webhook")  # or a dotted class path
NOTIFY_MESSENGER_WEBHOOK_URL = env.str("NOTIFY_MESSENGER_WEBHOOK_URL", default="")
NOTIFY_MESSENGER_SECRET = _secret("NOTIFY_MESSENGER_SECRET", "") or ""
NOTIFY_MESSENGER_TIMEOUT = env.float("NOTIFY_MESSENGER_TIMEOUT", default=10.0)
NOTIFY_SIMULATE_UNCONFIGURED = env.bool("NOTIFY_SIMULATE_UNCONFIGURED", default=not PRODUCTION)
NOTIFY_OUTBOX_DIR = env.str(
    "NOTIFY_OUTBOX_DIR", default="" if OKNO_ENV == "test" else str(VAR_DIR / "outbox")
)

# The shared cache: rate limits and throttles of the public site, the cabinet, the kiosk and the API count
# here, so every web worker must see the same one. Redis in production (CACHE_URL=redis://…); a file
# cache under var/ on one machine (the demo); per-process memory only in the tests.
CACHES = {
    "default": env.cache_url(
        "CACHE_URL", default="locmemcache://" if OKNO_ENV == "test" else f"filecache://{VAR_DIR / 'cache'}"
    )
}

# The public site, the cabinet and the kiosk.
OKNO_RECEPTION_LIMIT = env.int("OKNO_RECEPTION_LIMIT", default=10)  # reception appeals per IP an hour
OKNO_PAYMENT_SIMULATOR = env.bool("OKNO_PAYMENT_SIMULATOR", default=not PRODUCTION)
OKNO_ACQUIRING_URL = env.str("OKNO_ACQUIRING_URL", default="")  # …?order={order}&amount={amount}
OKNO_KIOSK_IDLE_SECONDS = env.int("OKNO_KIOSK_IDLE_SECONDS", default=90)
OKNO_CABINET_IDLE_SECONDS = env.int("OKNO_CABINET_IDLE_SECONDS", default=3600)
OKNO_KIOSK_NETWORKS = env.list("OKNO_KIOSK_NETWORKS", default=[])  # CIDRs of the terminals; [] = any

# The assistant (docs/assistant/): the classifier at registration, the chat, e-mail intake over IMAP.
OKNO_ASSISTANT_AUTO_THRESHOLD = env.float("OKNO_ASSISTANT_AUTO_THRESHOLD", default=0.70)
OKNO_APPEAL_SUGGESTER = env.str("OKNO_APPEAL_SUGGESTER", default="okno.assistant.suggest.suggest")
OKNO_CHAT_IDLE_MINUTES = env.int("OKNO_CHAT_IDLE_MINUTES", default=30)
OKNO_CHAT_HANDOFF_IDLE_MINUTES = env.int("OKNO_CHAT_HANDOFF_IDLE_MINUTES", default=24 * 60)
OKNO_CHAT_MESSAGE_LIMIT = env.int("OKNO_CHAT_MESSAGE_LIMIT", default=120)  # per IP and hour
OKNO_CHAT_START_LIMIT = env.int("OKNO_CHAT_START_LIMIT", default=20)  # new conversations per IP and hour
ASSISTANT_INTAKE_BRANCH = env.str("ASSISTANT_INTAKE_BRANCH", default="")  # branch code, unknown territory
ASSISTANT_IMAP_HOST = env.str("ASSISTANT_IMAP_HOST", default="")  # empty: no e-mail intake
ASSISTANT_IMAP_PORT = env.int("ASSISTANT_IMAP_PORT", default=993)
ASSISTANT_IMAP_SSL = env.bool("ASSISTANT_IMAP_SSL", default=ASSISTANT_IMAP_PORT == 993)
ASSISTANT_IMAP_USER = env.str("ASSISTANT_IMAP_USER", default="")
ASSISTANT_IMAP_PASSWORD = _secret("ASSISTANT_IMAP_PASSWORD", "") or ""
ASSISTANT_IMAP_MAILBOX = env.str("ASSISTANT_IMAP_MAILBOX", default="INBOX")

# The assistant's Telegram bot (docs/assistant/chat.md): off until a token and a webhook secret are set.
OKNO_TELEGRAM_TOKEN = _secret("OKNO_TELEGRAM_TOKEN", "") or ""
OKNO_TELEGRAM_WEBHOOK_SECRET = _secret("OKNO_TELEGRAM_WEBHOOK_SECRET", "") or ""
OKNO_TELEGRAM_API_URL = env.str("OKNO_TELEGRAM_API_URL", default="https://api.telegram.org").rstrip("/")
OKNO_TELEGRAM_TIMEOUT = env.float("OKNO_TELEGRAM_TIMEOUT", default=10.0)

# The contact centre's Asterisk adapters (see docs/contact-centre/telephony.md for the rest).
CC_AGI_BIND = env.str("CC_AGI_BIND", default="127.0.0.1:4573")
CC_AMI_HOST = env.str("CC_AMI_HOST", default="127.0.0.1")
CC_AMI_PORT = env.int("CC_AMI_PORT", default=5038)
CC_AMI_USER = env.str("CC_AMI_USER", default="")
CC_AMI_SECRET = _secret("CC_AMI_SECRET", "") or ""
