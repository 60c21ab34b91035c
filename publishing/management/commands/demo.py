"""python manage.py demo: migrate the bundled sample legacy instance over HTTP, then serve the site."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from datasets.sample_legacy.server import ADMIN_API_KEY, SampleLegacyServer

DEMO_USERS = [("admin", None), ("curator", "Curators"), ("migration-admin", "Migration admins")]


class Command(BaseCommand):
    help = "Start the sample legacy instance, export it over HTTP, import the dump, report, and serve the site."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addrport", default="127.0.0.1:8000", help="Where to serve the site.")
        parser.add_argument("--dump-dir", type=Path, default=settings.VAR_DIR / "dumps" / "sample")
        parser.add_argument("--no-serve", action="store_true", help="Stop after the migration (for scripts).")

    def handle(self, *args: Any, **options: Any) -> None:
        with SampleLegacyServer() as legacy:
            self.stdout.write(self.style.MIGRATE_HEADING(f"Sample legacy instance at {legacy.base_url}"))
            call_command(
                "migrate_legacy", url=legacy.base_url, to=options["dump_dir"], api_key=ADMIN_API_KEY,
                allow_private_addresses=True, auto_approve_confident=True, stdout=self.stdout,
            )  # fmt: skip
            self.stdout.write(self.style.MIGRATE_HEADING("Migration status"))
            call_command("migration_status", stdout=self.stdout)
            host = options["addrport"]
            self.stdout.write(
                self.style.SUCCESS(f"The public site: http://{host}/   the review app: http://{host}/admin/")
            )
            for username, group in DEMO_USERS:
                password = _reset_demo_user(username, group)
                role = group or "administrator (superuser)"
                self.stdout.write(self.style.SUCCESS(f"  {role}: user {username!r}, password {password!r}"))
            if not options["no_serve"]:
                call_command("runserver", host, use_reloader=False)


def _reset_demo_user(username: str, group: str | None) -> str:
    """A fresh random password on every demo run, printed once: no fixed credentials in the repository."""
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": f"{username}@example.org"})
    user.is_staff = True
    user.is_superuser = group is None
    user.set_password(password)
    user.save()
    if group:
        user.groups.add(Group.objects.get(name=group))
    return password
