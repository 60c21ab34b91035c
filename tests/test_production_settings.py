"""Production settings: the README's example passes `check --deploy`, and each HTTPS switch is read from the
environment (a typo is an error, not a silent "off")."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = re.compile(r"<!-- production-example -->\s*```sh\n(.*?)```", re.DOTALL)


def readme_production_example() -> str:
    match = EXAMPLE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md has no production example block"
    return match.group(1)


def run_with(script: str) -> subprocess.CompletedProcess[str]:
    """A shell with only PATH and HOME from here, so the test's own DEBUG=1 does not leak in."""
    environment = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        ["bash", "-euc", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def settings_value(example: str, expression: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    script = f"{example}\nexport DJANGO_SETTINGS_MODULE=migration_site.settings\n{sys.executable} -c '{code}'"
    result = run_with(script)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_readme_production_example_passes_check_deploy_without_a_warning():
    result = run_with(f"{readme_production_example()}\n{sys.executable} manage.py check --deploy --fail-level WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_the_https_settings_check_deploy_warns_about_each():
    example = "\n".join(
        line for line in readme_production_example().splitlines() if "SECURE_" not in line or "SECRET" in line
    )
    result = run_with(f"{example}\n{sys.executable} manage.py check --deploy --fail-level WARNING")
    assert result.returncode != 0
    for code in ("security.W004", "security.W008"):
        assert code in result.stderr + result.stdout
    for code in ("security.W012", "security.W016"):  # secure cookies are the default once DEBUG is off
        assert code not in result.stderr + result.stdout


def test_cookies_are_secure_by_default_without_debug_and_can_be_turned_off():
    example = readme_production_example()
    assert settings_value(example, "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE") == "True True"
    plain = f"{example}\nexport SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=off"
    assert settings_value(plain, "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE") == "False False"


def test_the_proxy_header_names_the_header_the_proxy_sets():
    value = settings_value(readme_production_example(), "settings.SECURE_PROXY_SSL_HEADER")
    assert value == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_a_misspelt_switch_stops_the_site_instead_of_turning_it_off():
    result = run_with(
        f"{readme_production_example()}\nexport SECURE_SSL_REDIRECT=ture\n{sys.executable} manage.py check --deploy"
    )
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT='ture'" in result.stderr


@pytest.mark.django_db
def test_every_page_carries_the_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "Content-Security-Policy" in client.get("/admin/login/")


@pytest.mark.django_db
def test_the_csrf_cookie_is_out_of_reach_of_scripts(client):
    response = client.get("/admin/login/")
    assert response.cookies["csrftoken"]["httponly"]


@pytest.mark.django_db
def test_the_site_wide_header_is_the_one_django_csp_builds_and_follows_the_settings(client, settings):
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse
    from django.test import RequestFactory

    expected = CSPMiddleware(lambda request: HttpResponse()).process_response(RequestFactory().get("/"), HttpResponse())
    assert client.get("/")["Content-Security-Policy"] == expected["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/")["Content-Security-Policy"] == "default-src 'none'"
