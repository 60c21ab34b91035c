"""The `migration_status` table: the progress columns, never a value cut short, fitted to the terminal by leaving out
the least important columns (and saying which); `--wide` shows them all."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from datasets.management.commands.migration_status import COLUMNS, fit, table
from tests.conftest import SAMPLE_DATASETS

PROGRESS = ["mapping", "decision", "owner", "conversion", "rows", "built from", "reconciliation", "package"]
# The sample imported: hafnarvik is private; riverton (no model) and kestrel (no data) are incomplete.
SAMPLE_SUMMARY = f"{len(SAMPLE_DATASETS)} datasets: 1 private, 2 incomplete."
LONG_NAME = "a-dataset-whose-name-is-longer-than-any-column-used-to-be"


def row(name, **values):
    base = {
        "name": name,
        "private": False,
        "incomplete": False,
        "incomplete_reasons": [],
        "model_problems": 0,
        "sources_fetched": 1,
        "sources_unreachable": 0,
        "team": ["kmueller", "fbecker", "pwright"],
        "mapping_status": "approved",
        "decision": None,
        "owner": "kmueller",
        "conversion_status": "succeeded",
        "rows": 24,
        "built_from": "sources",
        "reconciliation": "match",
        "package_path": f"packages/{name}/runs/7",
        "publication_status": "published",
        "package_url": f"http://127.0.0.1:8000/packages/kmueller/{name}/",
    }
    return {**base, **values}


def render(rows, width):
    widths, left_out = fit(COLUMNS, rows, width)
    return table(widths, rows), [column.title for column in left_out]


def titles(header):
    """Column titles are one or two words, two spaces apart at least."""
    return re.split(r"\s{2,}", header.strip())


def test_a_wide_terminal_shows_every_progress_column_and_whole_names():
    lines, left_out = render([row(LONG_NAME), row("lindenau-haushalt")], 440)

    assert left_out == []
    assert titles(lines[0]) == [column.title for column in COLUMNS]
    assert lines[1].startswith(LONG_NAME + "  ")
    assert "kmueller, fbecker, pwright" in lines[1]
    assert "http://127.0.0.1:8000/packages/kmueller/lindenau-haushalt/" in lines[2]


def test_a_narrow_terminal_leaves_out_the_least_important_columns_and_never_cuts_a_value():
    rows = [row(LONG_NAME), row("lindenau-haushalt", mapping_status="needs_review")]

    lines, left_out = render(rows, 100)

    assert all(len(line) <= 100 for line in lines)
    shown = titles(lines[0])
    assert shown == ["dataset", "mapping", "conversion", "reconciliation"]  # by rank: how far each dataset got
    assert set(shown) | set(left_out) == {column.title for column in COLUMNS}
    assert left_out[-3:] == ["team", "package path", "package url"]
    assert lines[1].startswith(LONG_NAME) and "…" not in "".join(lines)
    assert "needs_review" in lines[2]


def test_the_dataset_name_is_shown_whole_even_wider_than_the_terminal():
    lines, left_out = render([row(LONG_NAME)], 20)

    assert lines == ["dataset", LONG_NAME]
    assert left_out[0] == "mapping"


def test_a_list_wraps_over_lines_rather_than_being_cut():
    reasons = ["no_model", "no_successful_import", "no_entries"]
    widths, _ = fit(COLUMNS, [row("riverton", incomplete_reasons=reasons)], None)
    incomplete = next(column for column in widths if column.title == "incomplete because")
    narrow = {column: size for column, size in widths.items() if column in (COLUMNS[0], incomplete)}
    narrow[incomplete] = 22

    lines = table(narrow, [row("riverton", incomplete_reasons=reasons)])

    assert lines[1:] == ["riverton  no_model,", "          no_successful_import,", "          no_entries"]


@pytest.mark.django_db
def test_the_command_fits_the_terminal_and_says_what_it_left_out(proposed, monkeypatch):
    monkeypatch.setenv("COLUMNS", "90")
    out = StringIO()
    call_command("migration_status", stdout=out)

    lines = out.getvalue().splitlines()
    assert titles(lines[0])[:3] == ["dataset", "mapping", "conversion"]
    assert "lagoon-district-expenditure" in out.getvalue()
    assert lines[-2] == SAMPLE_SUMMARY
    assert lines[-1].startswith("Not shown, to fit 90 characters: ") and lines[-1].endswith("(--wide shows them).")
    assert all(len(line) <= 90 for line in lines[:-1])


@pytest.mark.django_db
def test_wide_shows_every_column_and_json_every_key(proposed, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    wide, data = StringIO(), StringIO()
    call_command("migration_status", "--wide", stdout=wide)
    call_command("migration_status", "--json", stdout=data)

    header = titles(wide.getvalue().splitlines()[0])
    assert all(title in header for title in PROGRESS)
    assert wide.getvalue().splitlines()[-1] == SAMPLE_SUMMARY
    rows = json.loads(data.getvalue())
    keys = {"mapping_status", "decision", "owner", "conversion_status", "rows", "built_from", "reconciliation"}
    assert keys <= set(rows[0])
