"""descriptor_load, the one way a datapackage.json is read: hostile sizes, depths and counts are refused, clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conversion.packaging.package_descriptor import DescriptorError, descriptor_load

MIB = 1024 * 1024


def descriptor_file(folder: Path, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "datapackage.json"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return folder


def refusal(folder: Path, **limits: int) -> str:
    with pytest.raises(DescriptorError) as caught:
        descriptor_load(folder, **limits)
    assert str(caught.value) == f"datapackage.json {caught.value.reason}"
    return caught.value.reason


def test_a_plain_descriptor_is_read(tmp_path: Path) -> None:
    descriptor = {"name": "budget", "resources": [{"path": "data/budget.csv"}], "description": '[[[ {{{ \\" '}

    assert descriptor_load(descriptor_file(tmp_path, json.dumps(descriptor))) == descriptor


def test_a_300_mb_descriptor_is_refused_by_its_size(tmp_path: Path) -> None:
    folder = descriptor_file(tmp_path, '{"name": "big"}')
    with (folder / "datapackage.json").open("r+b") as handle:
        handle.truncate(300 * MIB)  # sparse: no 300 MB written, none read

    assert refusal(folder) == "is 300 MiB, more than the 4 MiB allowed (PACKAGE_DESCRIPTOR_MAX_BYTES)"


def test_the_size_limit_is_a_parameter(tmp_path: Path) -> None:
    text = '{"description": "%s"}'

    assert descriptor_load(descriptor_file(tmp_path / "fits", text % ("x" * (1000 - 19))), max_bytes=1000)
    over = descriptor_file(tmp_path / "over", text % ("x" * (1001 - 19)))
    expected = "is 1,001 bytes, more than the 1,000 bytes allowed (PACKAGE_DESCRIPTOR_MAX_BYTES)"
    assert refusal(over, max_bytes=1000) == expected


def test_a_file_that_says_it_is_empty_is_read_no_further_than_the_limit(tmp_path: Path) -> None:
    """A device, or a file growing while read: its size says 0 and its bytes never end."""
    tmp_path.joinpath("datapackage.json").symlink_to("/dev/zero")

    assert refusal(tmp_path) == "is more than the 4 MiB allowed (PACKAGE_DESCRIPTOR_MAX_BYTES)"


def test_a_giant_string_under_the_limit_is_fine(tmp_path: Path) -> None:
    folder = descriptor_file(tmp_path, json.dumps({"name": "long", "description": "x" * (3 * MIB)}))

    assert len(descriptor_load(folder)["description"]) == 3 * MIB


def test_100000_levels_are_refused_before_parsing(tmp_path: Path) -> None:
    assert refusal(descriptor_file(tmp_path, "[" * 100_000 + "]" * 100_000)) == "nests deeper than 64 levels"


def test_64_levels_are_read_and_65_refused(tmp_path: Path) -> None:
    def nested(levels: int) -> str:  # the descriptor's own object is the first level
        return '{"deep": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"

    deepest = descriptor_load(descriptor_file(tmp_path / "64", nested(64)))["deep"]
    for _ in range(62):
        deepest = deepest[0]
    assert deepest == []
    assert refusal(descriptor_file(tmp_path / "65", nested(65))) == "nests deeper than 64 levels"


def test_brackets_inside_strings_do_not_count(tmp_path: Path) -> None:
    descriptor = {"description": "[" * 1000 + '\\"[{' * 1000, "title": '"' + "{" * 100}

    assert descriptor_load(descriptor_file(tmp_path, json.dumps(descriptor))) == descriptor


def test_an_unterminated_string_of_escaped_quotes_is_a_json_error(tmp_path: Path) -> None:
    """Every quote starts a string to the end of the text: scanned once, not once per quote."""
    reason = refusal(descriptor_file(tmp_path, '{"a": "' + '\\"' * 1_000_000))

    assert reason.startswith("cannot be read as JSON: Unterminated string")


def test_not_utf8_not_json_and_not_an_object_are_refused(tmp_path: Path) -> None:
    assert refusal(descriptor_file(tmp_path / "latin", '{"title": "Haushalt Lindenau für 2013"}'.encode("latin-1")))
    assert refusal(tmp_path / "latin").startswith("is not UTF-8 text: 'utf-8' codec can't decode byte 0xfc")
    assert refusal(descriptor_file(tmp_path / "broken", "{not json")).startswith("cannot be read as JSON")
    assert refusal(descriptor_file(tmp_path / "list", "[]")) == "is not a JSON object"
    assert refusal(tmp_path / "missing").startswith("cannot be read: [Errno 2] No such file or directory")


def test_an_integer_of_a_million_digits_is_a_json_error_not_a_crash(tmp_path: Path) -> None:
    reason = refusal(descriptor_file(tmp_path, '{"count_of_rows": ' + "9" * 1_000_000 + "}"))

    assert reason.startswith("cannot be read as JSON: Exceeds the limit")


def test_a_flood_of_small_values_is_refused_before_parsing(tmp_path: Path) -> None:
    """100,001 empty sources are 0.3 MB; jsonschema would spend 16 s on them, and 10 MB of them take ten minutes."""
    folder = descriptor_file(tmp_path, '{"sources": [' + ",".join(["{}"] * 100_001) + "]}")

    assert refusal(folder) == "holds more than 100,000 values (objects, arrays and list items)"


def test_too_many_resources_or_fields_are_refused(tmp_path: Path) -> None:
    resources = [{"path": "data/budget.csv"}] * 1001
    fields = [{"name": f"f{n}"} for n in range(10_001)]
    wide = {"resources": [{"schema": {"fields": fields[:5001]}}, {"schema": {"fields": fields[5001:]}}]}

    many = descriptor_file(tmp_path / "many", json.dumps({"resources": resources}))
    assert refusal(many) == "lists 1,001 resources, more than the 1,000 allowed"
    assert refusal(descriptor_file(tmp_path / "wide", json.dumps(wide))) == (
        "lists 10,001 fields, more than the 10,000 allowed in one package"
    )
    fits = descriptor_file(tmp_path / "fits", json.dumps({"resources": resources[:1000]}))
    assert len(descriptor_load(fits)["resources"]) == 1000
