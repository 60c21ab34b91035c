"""Settings, read from environment variables.

With no variables set the site runs embedded: SQLite under var/, files under var/storage/, jobs inline.
Production sets DATABASE_URL (PostgreSQL), REDIS_URL (django-rq workers) and the S3_* variables.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for development).")
    SECRET_KEY = "development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "datasets",
    "conversion",
    "publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if not DEBUG:
    # gunicorn serves the admin's static files through WhiteNoise; runserver does it itself in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "migration_site.urls"
WSGI_APPLICATION = "migration_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Rendered public documents, keyed by their ETag (publishing/caching.py), per process: bytes kept at most.
DOCUMENT_CACHE_BYTES = env_int("DOCUMENT_CACHE_BYTES", 256 * 1024 * 1024)
# How long a web process trusts the catalogue version it read last (0: read it on every request).
PUBLIC_VERSION_CHECK_SECONDS = float(os.environ.get("PUBLIC_VERSION_CHECK_SECONDS", "1"))

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# Storage: local files in embedded mode, S3 (or any S3-compatible endpoint) when S3_BUCKET is set.
S3_BUCKET = os.environ.get("S3_BUCKET", "")
STORAGE_ROOT = Path(os.environ.get("STORAGE_ROOT", VAR_DIR / "storage"))
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "region_name": os.environ.get("S3_REGION", "us-east-1"),
            "addressing_style": os.environ.get("S3_ADDRESSING_STYLE", "path"),
            "signature_version": "s3v4",
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(STORAGE_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Background jobs: django-rq on Redis when REDIS_URL is set; otherwise jobs run inline in the caller.
REDIS_URL = os.environ.get("REDIS_URL", "")
RQ_QUEUES = {
    name: {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": env_int("RQ_JOB_TIMEOUT", 3600)}
    for name in ("default", "conversion", "publishing")
}

# Our own code defers enqueueing to transaction.on_commit, so django-rq must not defer a second time.
RQ = {"COMMIT_MODE": "auto"}

# Conversion jobs: attempts on transient errors (with exponential backoff), when a silent run counts as dead.
CONVERSION_MAX_ATTEMPTS = env_int("CONVERSION_MAX_ATTEMPTS", 3)
CONVERSION_RETRY_BACKOFF = float(os.environ.get("CONVERSION_RETRY_BACKOFF", "5"))
CONVERSION_STALE_AFTER = env_int("CONVERSION_STALE_AFTER", 6 * 3600)  # queued with no worker taking it
CONVERSION_HEARTBEAT_SECONDS = float(os.environ.get("CONVERSION_HEARTBEAT_SECONDS", "10"))
CONVERSION_HEARTBEAT_TIMEOUT = float(os.environ.get("CONVERSION_HEARTBEAT_TIMEOUT", "120"))
CONVERSION_JOB_TIMEOUT = env_int("CONVERSION_JOB_TIMEOUT", 6 * 3600)
# Rows of each package frictionless reads in a conversion's validation (0: all); our own data check reads every row.
CONVERSION_FRICTIONLESS_ROWS = env_int("CONVERSION_FRICTIONLESS_ROWS", 10_000)

# The legacy platform and what we fetch from it.
LEGACY_ALLOW_PRIVATE_ADDRESSES = env_bool("LEGACY_ALLOW_PRIVATE_ADDRESSES")
LEGACY_CONNECT_TIMEOUT = float(os.environ.get("LEGACY_CONNECT_TIMEOUT", "10"))
LEGACY_READ_TIMEOUT = float(os.environ.get("LEGACY_READ_TIMEOUT", "60"))
LEGACY_RETRIES = env_int("LEGACY_RETRIES", 4)
LEGACY_BACKOFF_SECONDS = float(os.environ.get("LEGACY_BACKOFF_SECONDS", "1"))
SOURCE_MAX_BYTES = env_int("SOURCE_MAX_BYTES", 512 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Mapping review: proposals below this confidence wait for a curator; the owner of datasets without a team.
MAPPING_CONFIDENCE_THRESHOLD = float(os.environ.get("MAPPING_CONFIDENCE_THRESHOLD", "0.8"))
DEFAULT_DATASET_OWNER = os.environ.get("DEFAULT_DATASET_OWNER", "openspending")

# Later steps add their columns to `migration_status` (datasets -> conversion -> publishing).
MIGRATION_STATUS_EXTENSIONS = [
    "conversion.status.extend_status",
    "conversion.status.extend_conversion_status",
    "publishing.status.extend_status",
]
