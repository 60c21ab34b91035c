"""Settings, read from environment variables.

With no variables set the site runs embedded: SQLite under var/, working files under var/storage/ and public ones
under var/public/, jobs inline.
Production sets DATABASE_URL (PostgreSQL), REDIS_URL (django-rq workers) and the S3_* variables.

Every variable is read here, once, through the env_* helpers below: a value that is not what its variable takes stops
the start with an ImproperlyConfigured naming the variable, instead of quietly becoming a default or a zero.
Settings that must agree with each other are checked by migration_site/lib/checks.py (`manage.py check`).
"""

import logging
import re
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from migration_site.lib.env import env_bool, env_choice, env_float, env_int, env_list, env_path, env_str, refused
from migration_site.lib.licences import LICENCES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG")

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for development).")
    SECRET_KEY = "development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Checked by migration_site/lib/checks.py: an absolute http(s) URL whose host is in ALLOWED_HOSTS.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# HTTPS. Cookies are sent over HTTPS only unless DEBUG is on; redirects and HSTS depend on where TLS ends, so the
# deployment turns them on (README, Production). Behind a proxy that terminates TLS, SECURE_PROXY_SSL_HEADER names
# the header it sets to "https" (e.g. X-Forwarded-Proto); only set it when the proxy always overwrites that header.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# No script needs the CSRF cookie (forms carry the token, the review preview posts its form), so scripts cannot read it.
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header and not re.fullmatch(r"[A-Za-z0-9-]+", _proxy_ssl_header):
    raise refused("SECURE_PROXY_SSL_HEADER", _proxy_ssl_header, "not a header name (e.g. X-Forwarded-Proto)")
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
    "migration_site.lib.apps.LibConfig",  # no models: registers the system checks of migration_site/lib/checks.py
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
    "migration_site.lib.csp.CSPMiddleware",  # django-csp's, with the site-wide header built once
]

# Content-Security-Policy on every response: scripts, styles and everything else from this site only; no inline
# script or style anywhere (the admin's own templates have none; ours keep theirs in static files). The job
# dashboard's inline script and styles are allowed by their hashes there only (migration_site/lib/job_dashboard.py).
# The totals chart of a package page, an SVG, allows its own inline <style> by hash (publishing/chart_views.py).
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

# Our middleware asks django-csp's question "is there a report-only policy?" of the settings directly; none is set.
CONTENT_SECURITY_POLICY_REPORT_ONLY: dict[str, Any] | None = None

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

try:  # dj-database-url's messages name the scheme or the format, never the password
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
        )
    }
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL: {error}") from None
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
DOCUMENT_CACHE_BYTES = env_int("DOCUMENT_CACHE_BYTES", 256 * 1024 * 1024, minimum=0)
# How long a web process trusts the catalogue version it read last (0: read it on every request).
PUBLIC_VERSION_CHECK_SECONDS = env_float("PUBLIC_VERSION_CHECK_SECONDS", 1, minimum=0)
# How long shared caches may keep a public document unchecked (Cache-Control max-age); short, so withdrawals show.
PUBLIC_CACHE_SECONDS = env_int("PUBLIC_CACHE_SECONDS", 60, minimum=0)
# Entries of the feed's subscription document (older ones are in its monthly archives).
FEED_SUBSCRIPTION_SIZE = env_int("FEED_SUBSCRIPTION_SIZE", 50, minimum=1)
PUBLIC_PUBLISHER_NAME = env_str("PUBLIC_PUBLISHER_NAME", "OpenSpending")  # publisher when no organisation applies
PUBLIC_CONTACT_EMAIL = env_str("PUBLIC_CONTACT_EMAIL")  # data.json's contact for organisations without an e-mail
PACKAGE_LICENSE = env_choice("PACKAGE_LICENSE", "ODC-PDDL-1.0", list(LICENCES))  # for datasets without a choice
# One bulk zip holds at most this many bytes zipped and unzipped (decimal units: they are shown as 10 MB, 1 GB).
BULK_MAX_ZIPPED_BYTES = env_int("BULK_MAX_ZIPPED_BYTES", 10_000_000, minimum=1)
BULK_MAX_UNZIPPED_BYTES = env_int("BULK_MAX_UNZIPPED_BYTES", 1_000_000_000, minimum=1)
# The read API (/api/3/cubes/..., /api/2/...): DuckDB over local copies of the packages' Parquet files.
API_CACHE_DIR = env_path("API_CACHE_DIR", VAR_DIR / "api-cache")  # local copies, named by their sha256
API_CACHE_MAX_BYTES = env_int("API_CACHE_MAX_BYTES", 10 * 1024**3, minimum=0)  # least recently used go first
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 10_000, minimum=1)  # rows or cells per page at most (babbage's cap)
API_QUERY_TIMEOUT_SECONDS = env_float("API_QUERY_TIMEOUT_SECONDS", 10, positive=True)  # then the query is stopped
API_MEMORY_LIMIT = env_str("API_MEMORY_LIMIT", "1GB")  # DuckDB's memory_limit per web process; it spills past it
API_THREADS = env_int("API_THREADS", 2, minimum=1)  # DuckDB's threads per web process

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# Storage, split in two so that no single bucket policy can expose private material (README, Production): "default"
# is the working storage (archived sources, every conversion's output, private datasets' packages), never public;
# "public" holds only what the public site serves (published packages, the registry, bulk zips). S3 (or any
# S3-compatible endpoint) when S3_BUCKET is set, S3_PUBLIC_BUCKET then being another bucket on the same endpoint with
# the same credentials; else two local folders, neither inside the other.
S3_BUCKET = env_str("S3_BUCKET")
S3_PUBLIC_BUCKET = env_str("S3_PUBLIC_BUCKET")
# Empty: boto3's own chain (AWS_* variables, ~/.aws, an instance or task role); see migration_site/lib/checks.py.
S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL")
S3_ACCESS_KEY_ID = env_str("S3_ACCESS_KEY_ID")
S3_SECRET_ACCESS_KEY = env_str("S3_SECRET_ACCESS_KEY")
S3_REGION = env_str("S3_REGION", "us-east-1")
S3_ADDRESSING_STYLE = env_choice("S3_ADDRESSING_STYLE", "path", ("path", "virtual", "auto"))
STORAGE_ROOT = env_path("STORAGE_ROOT", VAR_DIR / "storage")
PUBLIC_STORAGE_ROOT = env_path("PUBLIC_STORAGE_ROOT", VAR_DIR / "public")


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
            "endpoint_url": S3_ENDPOINT_URL or None,
            "access_key": S3_ACCESS_KEY_ID or None,
            "secret_key": S3_SECRET_ACCESS_KEY or None,
            "region_name": S3_REGION,
            "addressing_style": S3_ADDRESSING_STYLE,
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
REDIS_URL = env_str("REDIS_URL")
# rq's -1 (no limit) is not offered for this or the job timeouts below: a hung job would hold its worker forever.
RQ_JOB_TIMEOUT = env_int("RQ_JOB_TIMEOUT", 3600, minimum=1)
RQ_QUEUES = {
    name: {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": RQ_JOB_TIMEOUT}
    for name in ("default", "conversion", "publishing")
}

# Our own code defers enqueueing to transaction.on_commit, so django-rq must not defer a second time. The worker
# sweeps the scratch folders that killed jobs left behind when it starts (conversion/workdirs.py).
RQ = {"COMMIT_MODE": "auto", "WORKER_CLASS": "conversion.worker.MigrationWorker"}

# Conversion jobs: attempts on transient errors (with exponential backoff), when a silent run counts as dead.
CONVERSION_MAX_ATTEMPTS = env_int("CONVERSION_MAX_ATTEMPTS", 3, minimum=1)
CONVERSION_RETRY_BACKOFF = env_float("CONVERSION_RETRY_BACKOFF", 5, minimum=0)
CONVERSION_STALE_AFTER = env_int("CONVERSION_STALE_AFTER", 6 * 3600, minimum=1)  # queued with no worker taking it
CONVERSION_HEARTBEAT_SECONDS = env_float("CONVERSION_HEARTBEAT_SECONDS", 10, positive=True)
CONVERSION_HEARTBEAT_TIMEOUT = env_float("CONVERSION_HEARTBEAT_TIMEOUT", 120, positive=True)
CONVERSION_JOB_TIMEOUT = env_int("CONVERSION_JOB_TIMEOUT", 6 * 3600, minimum=1)
# Publication jobs (upload, registry, bulk files; or a withdrawal): the same lifecycle, their own limits.
PUBLICATION_JOB_TIMEOUT = env_int("PUBLICATION_JOB_TIMEOUT", 3600, minimum=1)
PUBLICATION_STALE_AFTER = env_int("PUBLICATION_STALE_AFTER", 3600, minimum=1)  # queued with no worker taking it
PUBLICATION_HEARTBEAT_TIMEOUT = env_float("PUBLICATION_HEARTBEAT_TIMEOUT", 120, positive=True)
# Rows of each package frictionless reads in a conversion's validation (0: all); our own data check reads every row.
CONVERSION_FRICTIONLESS_ROWS = env_int("CONVERSION_FRICTIONLESS_ROWS", 10_000, minimum=0)
# Where conversion runs build their packages; each worker machine has its own (a killed run's folder is swept).
CONVERSION_SCRATCH_DIR = env_path("CONVERSION_SCRATCH_DIR", Path(tempfile.gettempdir()) / "openspending-migration")

# Packages validated or published (packaging/package_descriptor.py): a datapackage.json bigger than this is refused
# before it is read. Ours are 4-15 KB; the widest the other limits let through (10,000 fields, 1,000 resources) is
# about 2 MB; more is long text that the database row, the site and every registry rebuild would carry.
PACKAGE_DESCRIPTOR_MAX_BYTES = env_int("PACKAGE_DESCRIPTOR_MAX_BYTES", 4 * 1024 * 1024, minimum=1)

# The legacy platform and what we fetch from it.
# The key is the default of `export_legacy --api-key` (and migrate_legacy's), so it stays out of the process list.
LEGACY_API_KEY = env_str("LEGACY_API_KEY")
LEGACY_ALLOW_PRIVATE_ADDRESSES = env_bool("LEGACY_ALLOW_PRIVATE_ADDRESSES")
LEGACY_CONNECT_TIMEOUT = env_float("LEGACY_CONNECT_TIMEOUT", 10, positive=True)
LEGACY_READ_TIMEOUT = env_float("LEGACY_READ_TIMEOUT", 60, positive=True)
LEGACY_RETRIES = env_int("LEGACY_RETRIES", 4, minimum=0)
LEGACY_BACKOFF_SECONDS = env_float("LEGACY_BACKOFF_SECONDS", 1, minimum=0)
SOURCE_MAX_BYTES = env_int("SOURCE_MAX_BYTES", 512 * 1024 * 1024, minimum=1)
# Hostile answers from the legacy instance or a source host: a cap on the decoded size of an API or HTML answer
# (parsed JSON takes several times its text in memory), and total deadlines (seconds, retries included), because
# the read timeout applies per socket read and a server dripping a byte at a time never trips it.
LEGACY_MAX_RESPONSE_BYTES = env_int("LEGACY_MAX_RESPONSE_BYTES", 32 * 1024 * 1024, minimum=1)
LEGACY_REQUEST_DEADLINE = env_float("LEGACY_REQUEST_DEADLINE", 300, positive=True)
LEGACY_DOWNLOAD_DEADLINE = env_float("LEGACY_DOWNLOAD_DEADLINE", 3600, positive=True)

# Dump folders (datasets/dump.py, datasets/export_files.py): dataset.json and aggregates.json are read whole, so
# they have a size cap. The 2015 dumps' largest dataset.json is 18 KB and ours (model, sources with analyses, runs)
# a few MB; json.loads needs several times the file's size in memory, so 64 MiB keeps one dataset well under 1 GB.
DUMP_MAX_JSON_BYTES = env_int("DUMP_MAX_JSON_BYTES", 64 * 1024 * 1024, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "WARNING", list(logging.getLevelNamesMapping())),
    },
}

# Mapping review: proposals below this confidence wait for a curator; the owner of datasets without a team.
MAPPING_CONFIDENCE_THRESHOLD = env_float("MAPPING_CONFIDENCE_THRESHOLD", 0.8, minimum=0, maximum=1)
DEFAULT_DATASET_OWNER = env_str("DEFAULT_DATASET_OWNER", "openspending")

# Later steps add their columns to `migration_status` (datasets -> conversion -> publishing).
MIGRATION_STATUS_EXTENSIONS = [
    "conversion.status.extend_status",
    "conversion.status.extend_conversion_status",
    "publishing.status.extend_status",
]
