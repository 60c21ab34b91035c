"""The house's shape (README, Layout): small application modules, and code the formatter formats.

The layering itself (datasets -> conversion -> publishing, a shared library importing none of them, packaging
without Django) is import-linter's job in `make lint`.
"""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
APPLICATION = ("datasets", "conversion", "publishing", "migration_site")
MAX_LINES = 400


def application_modules() -> list[Path]:
    return sorted(
        path for package in APPLICATION for path in (PROJECT / package).rglob("*.py") if "migrations" not in path.parts
    )


def test_no_application_module_is_over_400_lines() -> None:
    sizes = {path.relative_to(PROJECT).as_posix(): len(path.read_text().splitlines()) for path in application_modules()}

    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}
    assert len(sizes) > 50  # the walk found the application


def test_the_formatter_formats_all_application_code() -> None:
    skipped = [
        f"{path.relative_to(PROJECT).as_posix()}:{number}"
        for path in application_modules()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "fmt: skip" in line or "fmt: off" in line
    ]

    assert skipped == []
