"""Settings, read from the environment (OPENTIC_*, DATABASE_URL) so one build runs everywhere.

The defaults are production's (docs/decisions/0018-production-defaults.md): DEBUG off, HTTPS only, and no
start without OPENTIC_SECRET_KEY and OPENTIC_ID_HASH_KEY. OPENTIC_DEMO=1 (set by `make demo`) runs the
embedded demo instead: a SQLite file under ./var, plain HTTP on localhost, secrets generated into ./var, and a
banner on every page saying it is a demo.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("OPENTIC_DATA_DIR", Path.cwd() / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


# The key the code once shipped as its default: public, so never accepted as a secret.
PUBLIC_DEMO_KEY = "opentic-insecure-demo-key-change-me-in-production"
DEMO = env_bool("OPENTIC_DEMO", False)
DEBUG = env_bool("OPENTIC_DEBUG", False)


def generated_secret(path: Path) -> str:
    """The demo's own secret, made once per installation and kept in DATA_DIR (never a key from the code)."""
    import secrets

    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:  # never readable
        out.write(secrets.token_urlsafe(50))
    try:
        os.link(draft, path)  # atomic: two workers starting together agree on one secret
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def secret(name: str, filename: str) -> str:
    value = os.environ.get(name, "").strip()
    if value == PUBLIC_DEMO_KEY:
        raise ImproperlyConfigured(f"{name} is the public demo key from the source code: generate a secret of your own")
    if value:
        return value
    if DEMO:
        return generated_secret(DATA_DIR / filename)
    raise ImproperlyConfigured(
        f"{name} is not set. Set it to a long random secret (python -c 'import secrets; "
        f"print(secrets.token_urlsafe(50))'), or run the demo with OPENTIC_DEMO=1 (make demo)."
    )


SECRET_KEY = secret("OPENTIC_SECRET_KEY", "secret.key")
# Keys the hashes of resident ID numbers (registry.services.person_key). Separate from SECRET_KEY, because
# rotating SECRET_KEY (sessions, signed cookies) must not change the stored hash of every staff member.
OPENTIC_ID_HASH_KEY = secret("OPENTIC_ID_HASH_KEY", "id-hash.key")
if not DEMO and OPENTIC_ID_HASH_KEY == SECRET_KEY:
    raise ImproperlyConfigured("OPENTIC_ID_HASH_KEY must differ from OPENTIC_SECRET_KEY")
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
    "axes",
    "csp",
    "opentic.core",
    "opentic.registry",
    "opentic.portal",
    "opentic.ledger",
    "opentic.lims",
    "opentic.reports",
    "opentic.quality",
    "opentic.demo",
    # Its Swagger UI and ReDoc assets from our own static files, not a CDN the Content-Security-Policy refuses.
    # After our apps, so that core's templates/ninja/swagger.html (the page in the site's language) wins.
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files served by the application itself when DEBUG is off: compressed, cached, no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "opentic.core.middleware.BoundedIdsMiddleware",
    # Before CSRF, which reads the form: an oversized or over-rate upload is refused unread (opentic.core.uploads).
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "opentic.core.uploads.UploadGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees every authentication attempt the views make (decision 0018).
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses a locked account or client before the password is even checked (/login/ and /admin/login/).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "opentic.urls"
WSGI_APPLICATION = "opentic.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:start"  # each role lands on its work
LOGOUT_REDIRECT_URL = "portal:home"

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
                "opentic.core.context.platform",
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
    # Local-memory counters are per process: right for the one-process demo (gunicorn with threads); the
    # deploy check opentic.W001 asks for Redis everywhere else.
    *(["django_ratelimit.W001"] if not REDIS_URL else []),
]

# Brute force (decision 0018): after OPENTIC_LOGIN_FAILURES wrong passwords an account, and separately a
# client address, is locked for OPENTIC_LOGIN_COOLOFF_MINUTES; the right password is refused meanwhile. The
# same limit applies to the password re-entered for an electronic signature (opentic.core.lockout).
AXES_FAILURE_LIMIT = env_int("OPENTIC_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = env_int("OPENTIC_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "opentic.core.lockout.locked_response"
# The same client address as the rate limit's (OPENTIC_CLIENT_IP_HEADER behind a proxy), or every client
# behind the proxy would share one lock.
AXES_CLIENT_IP_CALLABLE = "opentic.core.lockout.client_ip"
AXES_VERBOSE = False

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
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves it; empty until collectstatic fills it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Gzip and Brotli copies made by collectstatic; names stay unhashed, so pages render before a collect.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

MEDIA_ROOT = DATA_DIR / "media"
# Uploads (decision 0018). A signed-in upload (imports of 100,000 scope lines) may reach
# OPENTIC_UPLOAD_MAX_MB; an anonymous one (a PDF to verify) OPENTIC_PUBLIC_UPLOAD_MAX_MB. Both are refused by
# Content-Length before the body is read and again while it streams (opentic.core.uploads).
OPENTIC_UPLOAD_MAX_BYTES = env_int("OPENTIC_UPLOAD_MAX_MB", 64) * 1024 * 1024
OPENTIC_PUBLIC_UPLOAD_MAX_BYTES = env_int("OPENTIC_PUBLIC_UPLOAD_MAX_MB", 20) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024  # a form's fields other than files, or a JSON body
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger files spool to a temporary file
FILE_UPLOAD_HANDLERS = ["opentic.core.uploads.LimitedUploadHandler",
                        "django.core.files.uploadhandler.MemoryFileUploadHandler",
                        "django.core.files.uploadhandler.TemporaryFileUploadHandler"]

# HTTPS (decision 0018): on outside the demo. Behind a proxy that terminates TLS, set
# OPENTIC_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO so Django knows the request came over HTTPS.
HTTPS = env_bool("OPENTIC_HTTPS", not DEMO)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("OPENTIC_HSTS_SECONDS", 31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool("OPENTIC_HSTS_PRELOAD", True)
if os.environ.get("OPENTIC_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (os.environ["OPENTIC_PROXY_SSL_HEADER"], "https")
# A working day, not Django's 14 days; closing the browser ends it too.
SESSION_COOKIE_AGE = env_int("OPENTIC_SESSION_HOURS", 8) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # the pages put the token in the form and in htmx's header, never read the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from our own static files (htmx and Swagger UI are vendored); the seal and QR
# codes are data: images. No inline script, no inline style, no plug-ins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

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

# Background jobs (core/jobs.py, docs/decisions/0017): a runner's lease is renewed by its heartbeat every
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
