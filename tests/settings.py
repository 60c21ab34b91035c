"""Settings for the test suite: the project's own, in development mode unless the environment says otherwise."""

import os

os.environ.setdefault("DEBUG", "1")

from migration_site.settings import *  # noqa: F403

# A file, not memory, for the SQLite test database: the worker tests start real `rqworker` processes that must
# see the same database.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # One file per test process, so two test runs at once do not share (and destroy) each other's database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}  # noqa: F405

# Tests change the catalogue and read the site at once: every request rereads its version (tested with the
# production default in tests/publishing/test_caching.py).
PUBLIC_VERSION_CHECK_SECONDS = 0.0

# Hashing a password the production way takes a second of CPU (by design); the suite creates hundreds of users and
# tests who may do what, not how passwords are stored.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
