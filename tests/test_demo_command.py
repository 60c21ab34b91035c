"""`make demo` / `manage.py demo`, and manage.py on a fresh clone: ports checked before anything starts, a second run
that changes nothing and says so, passwords that outlive a run, `.env` read without overriding the environment."""

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from dotenv import dotenv_values

from conversion.models import ConversionRun
from datasets.models import LegacyDataset
from publishing.management.commands.demo import _write_env
from publishing.models import PublishedPackage
from tests.conftest import SAMPLE_DATASETS
from tests.factories import make_package

ROOT = Path(__file__).resolve().parent.parent
ALL = len(SAMPLE_DATASETS)  # the demo exports the whole sample instance, the private dataset included


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def demo(tmp_path: Path, *args: str) -> str:
    out = StringIO()
    files = ["--dump-dir", str(tmp_path / "dump"), "--users-file", str(tmp_path / "demo-users.json")]
    call_command("demo", *files, *args, stdout=out)
    return out.getvalue()


def passwords(output: str) -> dict[str, str]:
    return {
        username: output.split(f"user {username!r}, password '")[1].split("'")[0]
        for username in ("admin", "curator", "migration-admin")
    }


def an_uploaded_package() -> None:
    """A package uploaded with publish_osdp: published, with no legacy dataset behind it."""
    package = make_package("alice", "uploaded-budget")
    dataset = package.dataset
    PublishedPackage.objects.filter(pk=package.pk).update(dataset=None, run=None)
    ConversionRun.objects.filter(dataset=dataset).delete()
    dataset.delete()


@pytest.mark.django_db
def test_a_second_demo_changes_nothing_says_so_and_keeps_the_passwords(tmp_path):
    legacy = ["--no-serve", "--legacy-port", str(free_port())]  # a fixed port, as `make demo` gives it
    first = demo(tmp_path, *legacy)
    assert f"Exported {ALL} datasets (1 private, 0 failed)" in first
    assert f"Proposed for {ALL} datasets" in first  # riverton too: a draft, proposed from its source columns
    assert LegacyDataset.objects.count() == ALL
    for username, password in passwords(first).items():
        user = authenticate(username=username, password=password)
        assert user is not None and user.is_staff, username
    runs = ConversionRun.objects.count()
    an_uploaded_package()

    second = demo(tmp_path, *legacy)

    assert passwords(second) == passwords(first)
    assert f"Imported {ALL} dataset folders: {ALL} unchanged" in second
    assert "northfield-spending-2014: unchanged since conversion run" in second
    assert "northfield-spending-2014: unchanged at pwright/northfield-spending-2014, nothing uploaded" in second
    # Waiting: every dataset but northfield, whose mappings were all confident, and kestrel (no data); riverton, a
    # draft, waits too: every proposal made from its columns is ambiguous.
    assert f"{ALL} datasets: 1 converted and reconciled, 1 published, {ALL - 2} waiting for a curator." in second
    assert "To do for the migration admins" in second
    assert "- kestrel-bay-budget-2016: no data:" in second
    assert "Nothing changed since the last run" in second
    assert ConversionRun.objects.count() == runs


@pytest.mark.django_db
def test_an_existing_users_password_is_never_reset(tmp_path, django_user_model):
    django_user_model.objects.create_user("curator", password="chosen-by-her")
    output = demo(tmp_path, "--no-serve", "--legacy-port", "0")

    assert "user 'curator', its own password, kept" in output
    assert authenticate(username="curator", password="chosen-by-her") is not None


@pytest.mark.django_db
def test_a_busy_site_port_stops_the_demo_before_the_migration(tmp_path, settings, busy_port):
    settings.PUBLIC_BASE_URL = f"http://127.0.0.1:{busy_port}"
    with pytest.raises(CommandError, match=rf"port {busy_port} on 127.0.0.1 \(the site\) is not free") as failure:
        demo(tmp_path, "--port", str(busy_port))
    assert f"make demo PORT={busy_port + 1}" in str(failure.value)
    assert not LegacyDataset.objects.exists()


@pytest.mark.django_db
def test_a_busy_legacy_port_stops_the_demo_before_the_migration(tmp_path, busy_port):
    with pytest.raises(CommandError, match=rf"port {busy_port} .*sample legacy instance.* DEMO_LEGACY_PORT="):
        demo(tmp_path, "--no-serve", "--legacy-port", str(busy_port))
    assert not LegacyDataset.objects.exists()


def test_public_base_url_must_lead_to_the_site_the_demo_serves(tmp_path, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    with pytest.raises(CommandError, match=r"run `make demo PORT=8010` \(it sets PUBLIC_BASE_URL\)"):
        demo(tmp_path, "--port", "8010")


def test_the_env_file_follows_the_port_and_keeps_the_other_lines(tmp_path):
    env = tmp_path / ".env"
    _write_env(env, "http://127.0.0.1:8000")
    assert env.read_text().startswith("# Written by `make demo`")
    with env.open("a") as file:
        file.write("SECRET_KEY=kept-as-it-is\n")

    _write_env(env, "http://127.0.0.1:8010")

    assert dotenv_values(env) == {
        "DEBUG": "1",
        "PUBLIC_BASE_URL": "http://127.0.0.1:8010",
        "LEGACY_ALLOW_PRIVATE_ADDRESSES": "1",
        "SECRET_KEY": "kept-as-it-is",
    }


def fresh_shell(*args: str, cwd: Path = ROOT, **variables: str) -> subprocess.CompletedProcess[str]:
    """manage.py as typed in a new terminal: PATH and HOME only, no DEBUG, plus `variables`."""
    environment = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), **variables}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


def test_demo_help_needs_no_settings():
    result = fresh_shell("manage.py", "demo", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: manage.py demo" in result.stdout and "--legacy-port" in result.stdout


def test_missing_settings_are_one_line_not_a_traceback():
    result = fresh_shell("manage.py", "convert", "--all-approved", DEBUG="0")
    assert result.returncode == 1
    assert result.stderr.startswith("manage.py: SECRET_KEY must be set")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_manage_py_reads_dot_env_and_the_environment_wins(tmp_path):
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")  # its .env is the one beside it
    (tmp_path / ".env").write_text("DEBUG=1\nPUBLIC_BASE_URL=http://127.0.0.1:8123\n")
    show = "from django.conf import settings; print(settings.DEBUG, settings.PUBLIC_BASE_URL)"

    from_file = fresh_shell("manage.py", "shell", "-v", "0", "-c", show, cwd=tmp_path, PYTHONPATH=str(ROOT))
    from_environment = fresh_shell(
        "manage.py",
        "shell",
        "-v",
        "0",
        "-c",
        show,
        cwd=tmp_path,
        PYTHONPATH=str(ROOT),
        PUBLIC_BASE_URL="http://127.0.0.1:9",
    )

    assert from_file.stdout.strip() == "True http://127.0.0.1:8123", from_file.stderr
    assert from_environment.stdout.strip() == "True http://127.0.0.1:9", from_environment.stderr
