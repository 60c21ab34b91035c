"""Settings, read from environment variables.

With no variables set the site runs embedded: SQLite under var/, working files under var/storage/ and public ones
under var/public/, jobs inline.
Production sets DATABASE_URL (PostgreSQL), REDIS_URL (django-rq workers) and the S3_* variables.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool = False) -> bool:
    """A typo must not quietly turn a safety switch off: anything but a known word is an error."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise ImproperlyConfigured(f"{name}={value!r}: use one of {', '.join(sorted(TRUE_WORDS | FALSE_WORDS))}")
    return word in TRUE_WORDS


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

# HTTPS. Cookies are sent over HTTPS only unless DEBUG is on; redirects and HSTS depend on where TLS ends, so the
# deployment turns them on (README, Production). Behind a proxy that terminates TLS, SECURE_PROXY_SSL_HEADER names
# the header it sets to "https" (e.g. X-Forwarded-Proto); only set it when the proxy always overwrites that header.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# No script needs the CSRF cookie (forms carry the token, the review preview posts its form), so scripts cannot read it.
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
_proxy_ssl_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "csp",
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
    "publishing.csp.CSPMiddleware",  # django-csp's, with the site-wide header built once
]

# Content-Security-Policy on every response: scripts, styles and everything else from this site only; no inline
# script or style anywhere (the admin's own templates have none; ours keep theirs in static files). The job
# dashboard's inline script and styles are allowed by their hashes there only (conversion/job_dashboard.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

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

# Storage, split in two so that no single bucket policy can expose private material (README, Production): "default"
# is the working storage (archived sources, every conversion's output, private datasets' packages), never public;
# "public" holds only what the public site serves (published packages, the registry, bulk zips). S3 (or any
# S3-compatible endpoint) when S3_BUCKET is set, S3_PUBLIC_BUCKET then being another bucket on the same endpoint with
# the same credentials; else two local folders, neither inside the other.
S3_BUCKET = os.environ.get("S3_BUCKET", "").strip()
S3_PUBLIC_BUCKET = os.environ.get("S3_PUBLIC_BUCKET", "").strip()
STORAGE_ROOT = Path(os.environ.get("STORAGE_ROOT") or VAR_DIR / "storage")
PUBLIC_STORAGE_ROOT = Path(os.environ.get("PUBLIC_STORAGE_ROOT") or VAR_DIR / "public")


def storage_split_problem(working_bucket: str, public_bucket: str, working_root: Path, public_root: Path) -> str:
    """Why the working and the public storage are not kept apart; empty when they are."""
    if not working_bucket and not public_bucket:
        working, public = working_root.resolve(), public_root.resolve()
        if working.is_relative_to(public) or public.is_relative_to(working):
            return (
                f"STORAGE_ROOT ({working}) and PUBLIC_STORAGE_ROOT ({public}) must be two folders, neither inside the"
                " other: the public folder may be served as it is, the working one holds private material"
            )
        return ""
    if not working_bucket:
        return "S3_PUBLIC_BUCKET is set but S3_BUCKET is not: set both (S3) or neither (local folders)"
    if not public_bucket:
        return (
            "S3_BUCKET is set but S3_PUBLIC_BUCKET is not: published files go to a bucket of their own, apart from"
            " the working bucket that holds private material (README, Production)"
        )
    if working_bucket.lower() == public_bucket.lower():
        return (
            f"S3_PUBLIC_BUCKET must differ from S3_BUCKET (both {working_bucket!r}): the working bucket holds"
            " private material and must never be under the public bucket's policy"
        )
    return ""


def s3_storage(bucket: str) -> dict[str, Any]:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
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


def local_storage(root: Path) -> dict[str, Any]:
    return {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}}


_storage_problem = storage_split_problem(S3_BUCKET, S3_PUBLIC_BUCKET, STORAGE_ROOT, PUBLIC_STORAGE_ROOT)
if _storage_problem:
    raise ImproperlyConfigured(_storage_problem)
STORAGES = {
    "default": s3_storage(S3_BUCKET) if S3_BUCKET else local_storage(STORAGE_ROOT),
    "public": s3_storage(S3_PUBLIC_BUCKET) if S3_BUCKET else local_storage(PUBLIC_STORAGE_ROOT),
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

# Our own code defers enqueueing to transaction.on_commit, so django-rq must not defer a second time. The worker
# sweeps the scratch folders that killed jobs left behind when it starts (conversion/workdirs.py).
RQ = {"COMMIT_MODE": "auto", "WORKER_CLASS": "conversion.worker.MigrationWorker"}

# Conversion jobs: attempts on transient errors (with exponential backoff), when a silent run counts as dead.
CONVERSION_MAX_ATTEMPTS = env_int("CONVERSION_MAX_ATTEMPTS", 3)
CONVERSION_RETRY_BACKOFF = float(os.environ.get("CONVERSION_RETRY_BACKOFF", "5"))
CONVERSION_STALE_AFTER = env_int("CONVERSION_STALE_AFTER", 6 * 3600)  # queued with no worker taking it
CONVERSION_HEARTBEAT_SECONDS = float(os.environ.get("CONVERSION_HEARTBEAT_SECONDS", "10"))
CONVERSION_HEARTBEAT_TIMEOUT = float(os.environ.get("CONVERSION_HEARTBEAT_TIMEOUT", "120"))
CONVERSION_JOB_TIMEOUT = env_int("CONVERSION_JOB_TIMEOUT", 6 * 3600)
# Rows of each package frictionless reads in a conversion's validation (0: all); our own data check reads every row.
CONVERSION_FRICTIONLESS_ROWS = env_int("CONVERSION_FRICTIONLESS_ROWS", 10_000)
# Where conversion runs build their packages; each worker machine has its own (a killed run's folder is swept).
CONVERSION_SCRATCH_DIR = Path(
    os.environ.get("CONVERSION_SCRATCH_DIR") or Path(tempfile.gettempdir()) / "openspending-migration"
)

# Packages validated or published (conversion/package_descriptor.py): a datapackage.json bigger than this is refused
# before it is read. Ours are 4-15 KB; the widest the other limits let through (10,000 fields, 1,000 resources) is
# about 2 MB; more is long text that the database row, the site and every registry rebuild would carry.
PACKAGE_DESCRIPTOR_MAX_BYTES = env_int("PACKAGE_DESCRIPTOR_MAX_BYTES", 4 * 1024 * 1024)

# The legacy platform and what we fetch from it.
LEGACY_ALLOW_PRIVATE_ADDRESSES = env_bool("LEGACY_ALLOW_PRIVATE_ADDRESSES")
LEGACY_CONNECT_TIMEOUT = float(os.environ.get("LEGACY_CONNECT_TIMEOUT", "10"))
LEGACY_READ_TIMEOUT = float(os.environ.get("LEGACY_READ_TIMEOUT", "60"))
LEGACY_RETRIES = env_int("LEGACY_RETRIES", 4)
LEGACY_BACKOFF_SECONDS = float(os.environ.get("LEGACY_BACKOFF_SECONDS", "1"))
SOURCE_MAX_BYTES = env_int("SOURCE_MAX_BYTES", 512 * 1024 * 1024)
# Hostile answers from the legacy instance or a source host: a cap on the decoded size of an API or HTML answer
# (parsed JSON takes several times its text in memory), and total deadlines (seconds, retries included), because
# the read timeout applies per socket read and a server dripping a byte at a time never trips it.
LEGACY_MAX_RESPONSE_BYTES = env_int("LEGACY_MAX_RESPONSE_BYTES", 32 * 1024 * 1024)
LEGACY_REQUEST_DEADLINE = float(os.environ.get("LEGACY_REQUEST_DEADLINE", "300"))
LEGACY_DOWNLOAD_DEADLINE = float(os.environ.get("LEGACY_DOWNLOAD_DEADLINE", "3600"))

# Dump folders (datasets/dump.py, datasets/export_files.py): dataset.json and aggregates.json are read whole, so
# they have a size cap. The 2015 dumps' largest dataset.json is 18 KB and ours (model, sources with analyses, runs)
# a few MB; json.loads needs several times the file's size in memory, so 64 MiB keeps one dataset well under 1 GB.
DUMP_MAX_JSON_BYTES = env_int("DUMP_MAX_JSON_BYTES", 64 * 1024 * 1024)

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
