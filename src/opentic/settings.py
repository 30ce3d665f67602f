"""Settings, read from the environment (OPENTIC_*, DATABASE_URL) so one build runs everywhere.

The default is the embedded demo: a SQLite file under ./var, debug on, served on localhost.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("OPENTIC_DATA_DIR", Path.cwd() / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("OPENTIC_DEBUG", True)
SECRET_KEY = os.environ.get("OPENTIC_SECRET_KEY", "opentic-insecure-demo-key-change-me-in-production")
ALLOWED_HOSTS = os.environ.get("OPENTIC_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("OPENTIC_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "opentic.core",
    "opentic.registry",
    "opentic.portal",
    "opentic.ledger",
    "opentic.lims",
    "opentic.reports",
    "opentic.quality",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "opentic.urls"
WSGI_APPLICATION = "opentic.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"

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
            ],
        },
    },
]


def database_config() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        return dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("OPENTIC_SQLITE_PATH", str(DATA_DIR / "opentic.sqlite3")),
        "OPTIONS": {
            # IMMEDIATE takes the write lock when a transaction starts, so two writers queue on the
            # busy timeout instead of one failing with "database is locked" when it upgrades its lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # WAL lets readers run while one writer writes; NORMAL sync is durable in WAL mode
            # except for the last transactions on power loss, the usual trade for a single node.
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-65536;"
                "PRAGMA temp_store=MEMORY;"
            ),
        },
    }


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("OPENTIC_REDIS_URL", "")
CACHES: dict[str, Any] = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "opentic"}
    )
}

# Public pages are rate-limited per client; set a higher rate behind a proxy that aggregates clients.
OPENTIC_PUBLIC_RATE = os.environ.get("OPENTIC_PUBLIC_RATE", "60/m")
RATELIMIT_ENABLE = env_bool("OPENTIC_RATELIMIT", True)
# Behind a reverse proxy, the client address is in X-Forwarded-For; the default is the socket peer.
RATELIMIT_IP_META_KEY = os.environ.get("OPENTIC_CLIENT_IP_HEADER") or None
SILENCED_SYSTEM_CHECKS = [
    # The scope indexes INCLUDE columns on PostgreSQL for index-only scans; SQLite builds them without.
    "models.W040",
    # Local-memory rate-limit counters are per process: right for the one-process demo, Redis otherwise.
    *(["django_ratelimit.W001"] if not REDIS_URL else []),
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

MEDIA_ROOT = DATA_DIR / "media"
# Imports of 100,000 scope lines arrive as one upload.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OPENTIC_LOG_LEVEL", "WARNING")},
}

NINJA_PAGINATION_PER_PAGE = 50

# The report ledger (docs/decisions/0009). The log key signs checkpoints; by default it is generated into
# DATA_DIR/ledger.key on first use. Witnesses are verifier keys (name+id+key), comma-separated.
OPENTIC_LEDGER_ORIGIN = os.environ.get("OPENTIC_LEDGER_ORIGIN", "ledger.opentic.cq.example")
OPENTIC_LEDGER_KEY = os.environ.get("OPENTIC_LEDGER_KEY", "")
OPENTIC_LEDGER_WITNESSES = [k for k in os.environ.get("OPENTIC_LEDGER_WITNESSES", "").split(",") if k]
OPENTIC_LEDGER_BATCH_SECONDS = float(os.environ.get("OPENTIC_LEDGER_BATCH_SECONDS", "0.1"))
OPENTIC_PUBLIC_URL = os.environ.get("OPENTIC_PUBLIC_URL", "http://127.0.0.1:8000")
# An RFC 3161 timestamp authority: when set, every report signature carries its timestamp (PAdES B-T), and
# signing fails rather than issue a report without it.
OPENTIC_TSA_URL = os.environ.get("OPENTIC_TSA_URL", "")

# Background jobs (core/jobs.py, docs/decisions/0015): a runner's lease is renewed by its heartbeat every
# quarter of it; a runner silent for a whole lease is presumed dead and its job is run again. Failures are
# retried after BACKOFF, 2×BACKOFF, 4×BACKOFF … seconds. INLINE runs every job in the submitting process
# (the tests; a tool without a worker).
OPENTIC_JOB_LEASE_SECONDS = float(os.environ.get("OPENTIC_JOB_LEASE_SECONDS", "60"))
OPENTIC_JOB_BACKOFF_SECONDS = float(os.environ.get("OPENTIC_JOB_BACKOFF_SECONDS", "10"))
OPENTIC_JOBS_INLINE = env_bool("OPENTIC_JOBS_INLINE", False)
# Processes a report batch issues on (0: one per core).
OPENTIC_BATCH_PROCESSES = int(os.environ.get("OPENTIC_BATCH_PROCESSES", "0"))
# Register files larger than this, and exports of more rows than this, run on the queue.
OPENTIC_INLINE_IMPORT_BYTES = int(os.environ.get("OPENTIC_INLINE_IMPORT_BYTES", str(2 * 1024 * 1024)))
OPENTIC_INLINE_EXPORT_ROWS = int(os.environ.get("OPENTIC_INLINE_EXPORT_ROWS", "20000"))
# The newest audit anchor checkpoint is kept here too, out of reach of the database (docs/decisions/0016);
# default DATA_DIR/audit-anchors.checkpoint.
OPENTIC_AUDIT_ANCHOR_FILE = os.environ.get("OPENTIC_AUDIT_ANCHOR_FILE", "")
