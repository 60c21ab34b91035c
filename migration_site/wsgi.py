"""WSGI entry point for gunicorn: `gunicorn migration_site.wsgi`.

Settings come from the process's environment only. Unlike manage.py, this does not read `.env`: a development file
(`make demo` writes one, with DEBUG on) left in a deployed checkout must never reach a web process.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "migration_site.settings")
application = get_wsgi_application()
