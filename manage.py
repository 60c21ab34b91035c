#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

Settings come from the environment, and from `.env` beside this file for what the environment does not set (`make
demo` writes one for development). The WSGI entry point does not read `.env`: a web process takes its settings from
its environment only, so a development file left in a checkout can never turn DEBUG on in production.
"""

import os
import sys
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent / ".env"
# Commands that only make sense in development: DEBUG is on for them unless the environment says otherwise, so
# `manage.py demo` (and its --help) works on a fresh clone before any .env exists.
DEVELOPMENT_COMMANDS = {"demo"}


def main() -> None:
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
        from django.core.management import execute_from_command_line
        from dotenv import load_dotenv
    except ModuleNotFoundError as error:
        sys.exit(
            f"manage.py: {error.name} is not installed for {sys.executable}: use the project's virtualenv, "
            "`.venv/bin/python manage.py ...` or `source .venv/bin/activate` (`make demo` or `make test` creates it)"
        )
    load_dotenv(ENV_FILE, override=False)
    if set(sys.argv[1:2]) & DEVELOPMENT_COMMANDS:
        os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "migration_site.settings")
    try:
        settings.INSTALLED_APPS  # noqa: B018 -- loads the settings: a misconfiguration is one line, not a traceback
    except ImproperlyConfigured as error:
        hint = "" if ENV_FILE.exists() else " -- there is no .env yet: `make demo` writes one for development"
        sys.exit(f"manage.py: {error}{hint}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
