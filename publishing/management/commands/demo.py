"""python manage.py demo: migrate the bundled sample legacy instance over HTTP, then serve the site.

Made to be run again: the sample instance listens on a fixed port, so its datasets keep their legacy links and a
second run finds nothing changed (nothing converted or uploaded again); the demo users keep their passwords.
"""

from __future__ import annotations

import json
import secrets
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from dotenv import set_key

from datasets.sample_legacy.server import ADMIN_API_KEY, SampleLegacyServer
from migration_site.lib import roles

HOST = "127.0.0.1"
DEMO_USERS = [("admin", None), ("curator", roles.CURATORS), ("migration-admin", roles.MIGRATION_ADMINS)]
ENV_HEADER = (
    "# Written by `make demo` (python manage.py demo --env-file .env): development settings, DEBUG on.\n"
    "# manage.py reads this file; a variable set in the environment wins over it. Never use it in production.\n"
)


class Command(BaseCommand):
    help = (
        "Start the sample legacy instance, export it over HTTP, import, convert and publish it, report, and serve "
        "the site. Ports are checked before anything starts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=None, help="The site's port (default: the one of PUBLIC_BASE_URL, else 8000)."
        )
        parser.add_argument(
            "--legacy-port",
            type=int,
            default=8765,
            help="The sample legacy instance's port (default 8765). Keep it: the datasets' legacy links name it, and "
            "another port makes every dataset change, so the next run converts and publishes them all again.",
        )
        parser.add_argument("--dump-dir", type=Path, default=settings.VAR_DIR / "dumps" / "sample")
        parser.add_argument(
            "--env-file",
            type=Path,
            default=None,
            help="Write the demo's settings there (DEBUG, PUBLIC_BASE_URL...), keeping the file's other lines.",
        )
        parser.add_argument(
            "--users-file",
            type=Path,
            default=settings.VAR_DIR / "demo-users.json",
            help="Where the demo users' passwords are kept between runs (default var/demo-users.json).",
        )
        parser.add_argument("--no-serve", action="store_true", help="Stop after the migration (for scripts).")

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"] or _port_of(settings.PUBLIC_BASE_URL) or 8000
        site = f"http://{HOST}:{port}"
        if not options["no_serve"]:
            if port == options["legacy_port"]:
                raise CommandError(f"the site and the sample legacy instance cannot both listen on port {port}")
            _check_base_url(port)
            _check_free(port, "the site", "PORT", "--port")
        with _start_legacy(options["legacy_port"]) as legacy:
            if options["env_file"]:
                _write_env(options["env_file"], site)
            self.stdout.write(self.style.MIGRATE_HEADING(f"Sample legacy instance at {legacy.base_url}"))
            self.stdout.write(self.style.MIGRATE_HEADING("Migrating the database"))
            call_command("migrate", interactive=False, verbosity=0)
            call_command(
                "migrate_legacy",
                url=legacy.base_url,
                to=options["dump_dir"],
                api_key=ADMIN_API_KEY,
                allow_private_addresses=True,
                auto_approve_confident=True,
                stdout=self.stdout,
            )
            self.stdout.write(self.style.MIGRATE_HEADING("Migration status"))
            call_command("migration_status", stdout=self.stdout)
            self.stdout.write(self.style.SUCCESS(f"The public site: {site}/   the review app: {site}/admin/"))
            for line in _demo_users(options["users_file"]):
                self.stdout.write(self.style.SUCCESS(line))
            if not options["no_serve"]:
                call_command("runserver", f"{HOST}:{port}", use_reloader=False)


def _port_of(url: str) -> int | None:
    """The port of a local http address (the demo's own PUBLIC_BASE_URL, from .env); None for any other address."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in {HOST, "localhost"}:
        return None
    return parts.port or 80


def _check_base_url(port: int) -> None:
    """Published links are built from PUBLIC_BASE_URL: they must lead to the site this demo serves."""
    if _port_of(settings.PUBLIC_BASE_URL) != port:
        raise CommandError(
            f"PUBLIC_BASE_URL is {settings.PUBLIC_BASE_URL}, but the demo would serve http://{HOST}:{port}: run "
            f"`make demo PORT={port}` (it sets PUBLIC_BASE_URL), or set PUBLIC_BASE_URL=http://{HOST}:{port}"
        )


def _check_free(port: int, what: str, make_variable: str, option: str) -> None:
    """Bind the port and let it go, before the minutes of migration that would otherwise precede the failure.
    SO_REUSEADDR as the servers set it, so the sockets of a previous run waiting out TIME_WAIT do not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise CommandError(_port_taken(port, what, make_variable, option, error)) from error


def _start_legacy(port: int) -> SampleLegacyServer:
    server = SampleLegacyServer(host=HOST, port=port)
    try:
        return server.start()
    except OSError as error:
        raise CommandError(
            _port_taken(port, "the sample legacy instance", "DEMO_LEGACY_PORT", "--legacy-port", error)
        ) from error


def _port_taken(port: int, what: str, make_variable: str, option: str, error: OSError) -> str:
    return (
        f"port {port} on {HOST} ({what}) is not free: {error.strerror or error}. Stop what listens there (another "
        f"demo?), or choose another port: make demo {make_variable}={port + 1} (manage.py demo {option} {port + 1})"
    )


def _write_env(path: Path, site: str) -> None:
    """The demo's settings, for the commands typed after it (`manage.py convert ...`); other lines are kept."""
    if not path.exists():
        path.write_text(ENV_HEADER, encoding="utf-8")
    for key, value in {"DEBUG": "1", "PUBLIC_BASE_URL": site, "LEGACY_ALLOW_PRIVATE_ADDRESSES": "1"}.items():
        set_key(path, key, value, quote_mode="never")


def _demo_users(path: Path) -> list[str]:
    """One line per demo user. A new user gets the password kept in `path` (made up once, on the first run); an
    existing user keeps whatever password it has, so the credentials a running demo printed go on working."""
    stored = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    lines = []
    for username, group in DEMO_USERS:
        password = stored.setdefault(username, secrets.token_urlsafe(12))
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        if created:
            user.set_password(password)
        user.is_staff = True
        user.is_superuser = group is None
        user.save()
        if group:
            user.groups.add(Group.objects.get(name=group))
        role = group or "administrator (superuser)"
        shown = (
            f"password {password!r}"
            if user.check_password(password)
            else f"its own password, kept (`manage.py changepassword {username}` sets another)"
        )
        lines.append(f"  {role}: user {username!r}, {shown}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)  # passwords: readable by their owner only
    path.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    return lines
