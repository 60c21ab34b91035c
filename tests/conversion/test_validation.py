"""Package validation: our FDP schema, the rules beyond it, hashes, unique keys and the data, all offline."""

from __future__ import annotations

import csv
import hashlib
import json
import socket
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conversion.packaging import duplicate_keys
from conversion.packaging.validation import PackageError, Problem, ValidationResult, validate_package
from tests.conftest import SHARED_DIR

HEADER = ["amount", "year", "admin_id", "admin_name"]
ROWS = [["10.50", "2013", "a", "Agency A"], ["20", "2013", "b", "Agency B"], ["5", "2014", "a", "Agency A"]]
EXAMPLES = SHARED_DIR / "legacy-openspending" / "fixtures" / "openspending-migrate" / "examples"


def dual_version_descriptor() -> dict[str, Any]:
    """A small package of the target shape: an FDP 0.3 model plus a columnType on every field."""
    fields = [
        {"name": "amount", "title": "Amount", "type": "number", "columnType": "value"},
        {"name": "year", "title": "Year", "type": "integer", "columnType": "date:fiscal-year"},
        {"name": "admin_id", "title": "Agency (code)", "type": "string", "columnType": "administrator:generic:id"},
        {"name": "admin_name", "title": "Agency", "type": "string", "columnType": "administrator:generic:name"},
    ]
    dimensions = {
        "date": {"dimensionType": "datetime", "primaryKey": ["year"], "attributes": {"year": {"source": "year"}}},
        "administrator": {
            "dimensionType": "entity",
            "primaryKey": ["admin_id"],
            "attributes": {
                "admin_id": {"source": "admin_id"},
                "admin_name": {"source": "admin_name", "labelfor": "admin_id"},
            },
        },
    }
    return {
        "name": "test-budget", "title": "Test budget", "profile": "tabular-data-package", "countryCode": "DE",
        "profiles": {"fiscal": "*", "tabular": "*"}, "granularity": "aggregated",
        "resources": [{
            "name": "budget", "path": "data/budget.csv", "profile": "tabular-data-resource", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8",
            "schema": {"fields": fields, "primaryKey": ["year", "admin_id"]},
        }],
        "model": {
            "measures": {"amount": {"source": "amount", "currency": "EUR", "direction": "expenditure",
                                    "phase": "executed"}},
            "dimensions": dimensions,
        },
    }  # fmt: skip


def write_package(
    folder: Path, *, rows: list[list[str]] = ROWS, edit: Callable[[dict[str, Any]], None] | None = None
) -> Path:
    """The package on disk, with bytes and a sha256 that match its data unless `edit` changes them."""
    data = folder / "data" / "budget.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    with data.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows([HEADER, *rows])
    descriptor = dual_version_descriptor()
    content = data.read_bytes()
    descriptor["resources"][0].update(bytes=len(content), hash=f"sha256:{hashlib.sha256(content).hexdigest()}")
    if edit:
        edit(descriptor)
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    return folder


def codes(result: ValidationResult) -> set[str]:
    return set(result.counts)


def only(result: ValidationResult, code: str) -> Problem:
    found = [problem for problem in result.problems if problem.code == code]
    assert len(found) == 1, result.text()
    return found[0]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network fails the test instead of hanging or passing by luck."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"validation tried the network: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_dual_version_package_is_valid(tmp_path: Path, no_network: None) -> None:
    result = validate_package(write_package(tmp_path))

    assert result.valid, result.text()
    assert result.problems == [] and result.counts == {}
    assert result.rows == {"budget": 3}
    assert result.text() == "valid (1 resource, 3 data rows read)"


def test_datapackage_json_path_and_bare_md5_hash_are_accepted(tmp_path: Path) -> None:
    def md5(descriptor: dict[str, Any]) -> None:
        content = (tmp_path / "data" / "budget.csv").read_bytes()
        descriptor["resources"][0]["hash"] = hashlib.md5(content).hexdigest()

    result = validate_package(write_package(tmp_path, edit=md5) / "datapackage.json")

    assert result.valid, result.text()


def test_lower_case_currency_is_refused(tmp_path: Path) -> None:
    def lower(descriptor: dict[str, Any]) -> None:
        descriptor["model"]["measures"]["amount"]["currency"] = "eur"

    result = validate_package(write_package(tmp_path, edit=lower))

    assert not result.valid
    problem = only(result, "schema")
    assert problem.where == "model.measures.amount.currency"
    assert "'eur' does not match" in problem.message


def test_lower_case_country_and_object_classification_are_refused(tmp_path: Path) -> None:
    def loose(descriptor: dict[str, Any]) -> None:
        descriptor["countryCode"] = "de"
        descriptor["model"]["dimensions"]["administrator"]["classificationType"] = "object"

    result = validate_package(write_package(tmp_path, edit=loose))

    assert {problem.where for problem in result.problems} == {
        "countryCode",
        "model.dimensions.administrator.classificationType",
    }


def test_empty_model_parts_the_03_schema_lets_through_are_refused(tmp_path: Path) -> None:
    def empty(descriptor: dict[str, Any]) -> None:
        descriptor["model"] = {"measures": {}, "dimensions": {"date": {"primaryKey": "year", "attributes": {}}}}

    result = validate_package(write_package(tmp_path, edit=empty))

    assert {problem.where for problem in result.problems if problem.code == "schema"} == {
        "model.measures",
        "model.dimensions.date.attributes",
    }


def test_unknown_column_type_is_named(tmp_path: Path) -> None:
    def unknown(descriptor: dict[str, Any]) -> None:
        descriptor["resources"][0]["schema"]["fields"][3]["columnType"] = "administrator:generic:nom"

    result = validate_package(write_package(tmp_path, edit=unknown))

    problem = only(result, "column-type")
    assert (problem.field, problem.message) == ("admin_name", "unknown columnType 'administrator:generic:nom'")
    assert "resources.budget.schema, field admin_name: unknown columnType" in result.text()


def test_field_type_must_agree_with_its_column_type(tmp_path: Path) -> None:
    def string_year(descriptor: dict[str, Any]) -> None:
        descriptor["resources"][0]["schema"]["fields"][1]["type"] = "string"

    result = validate_package(write_package(tmp_path, edit=string_year))

    problem = only(result, "column-type")
    assert problem.field == "year"
    assert "needs 'integer'" in problem.message


def test_missing_column_type_lists_the_fields_in_one_problem(tmp_path: Path) -> None:
    def untyped(descriptor: dict[str, Any]) -> None:
        for item in descriptor["resources"][0]["schema"]["fields"][2:]:
            del item["columnType"]

    result = validate_package(write_package(tmp_path, edit=untyped))

    problem = only(result, "schema")
    assert problem.field == "admin_id, admin_name"
    assert problem.message == "'columnType' is a required property (2 fields)"


def test_dangling_labelfor_is_refused(tmp_path: Path) -> None:
    def dangling(descriptor: dict[str, Any]) -> None:
        descriptor["model"]["dimensions"]["administrator"]["attributes"]["admin_name"]["labelfor"] = "admin_code"

    result = validate_package(write_package(tmp_path, edit=dangling))

    problem = only(result, "model-link")
    assert problem.where == "model.dimensions.administrator.attributes.admin_name"
    assert problem.message == "labelfor 'admin_code' names no other attribute of dimension 'administrator'"


def test_source_naming_no_field_is_refused(tmp_path: Path) -> None:
    def renamed(descriptor: dict[str, Any]) -> None:
        descriptor["model"]["measures"]["amount"]["source"] = "amount_eur"
        descriptor["model"]["dimensions"]["date"]["attributes"]["year"]["source"] = "jahr"

    result = validate_package(write_package(tmp_path, edit=renamed))

    assert result.counts == {"model-source": 2}
    assert {(problem.where, problem.field) for problem in result.problems} == {
        ("model.measures.amount", "amount_eur"),
        ("model.dimensions.date.attributes.year", "jahr"),
    }


def test_measure_on_a_text_field_is_refused(tmp_path: Path) -> None:
    def textual(descriptor: dict[str, Any]) -> None:
        descriptor["model"]["measures"]["amount"]["source"] = "admin_name"

    result = validate_package(write_package(tmp_path, edit=textual))

    assert "is of type 'string'; a measure must be number or integer" in only(result, "measure-type").message


def test_wrong_hash_and_bytes_are_refused(tmp_path: Path) -> None:
    def wrong(descriptor: dict[str, Any]) -> None:
        descriptor["resources"][0]["hash"] = "sha256:" + hashlib.sha256(b"other").hexdigest()
        descriptor["resources"][0]["bytes"] = 7

    result = validate_package(write_package(tmp_path, edit=wrong))

    assert result.counts == {"hash": 1, "bytes": 1}, result.text()
    assert only(result, "hash").where == "data/budget.csv"
    assert "but the file's sha256 is" in only(result, "hash").message
    assert only(result, "bytes").message.startswith("bytes says 7 but the file has")


def test_duplicate_primary_keys_are_reported_with_their_rows(tmp_path: Path) -> None:
    rows = [
        *ROWS,
        ["1", "2013", "a", "Agency A"],
        ["2", "2014", "b", "B"],
        ["3", "2014", "b", "B"],
        ["4", "13", "a", ""],
    ]
    rows.append(["5", "02013", "a", "Agency A"])  # the same integer key as 2013, as frictionless reads it

    result = validate_package(write_package(tmp_path, rows=rows))

    assert result.counts == {"duplicate-keys": 1, "duplicate-key": 2}, result.text()
    summary = only(result, "duplicate-keys")
    assert summary.message == "primary key (year, admin_id) is not unique: 2 values occur more than once, in 5 rows"
    first, second = [problem for problem in result.problems if problem.code == "duplicate-key"]
    assert first.message == "key (2013, a) occurs 3 times: rows 2, 5, 9"
    assert (first.row, first.field) == (5, "year, admin_id")
    assert second.message == "key (2014, b) occurs 2 times: rows 6, 7"


def test_many_duplicate_keys_are_counted_and_the_first_listed(tmp_path: Path) -> None:
    rows = [[str(n), str(2000 + n), "x", "X"] for n in range(30)] * 2

    result = validate_package(write_package(tmp_path, rows=rows))

    assert result.counts == {"duplicate-keys": 1, "duplicate-key": 30}
    listed = [problem for problem in result.problems if problem.code == "duplicate-key"]
    assert len(listed) == 10
    assert listed[0].message == "key (2000, x) occurs 2 times: rows 2, 32"
    assert "30 values occur more than once, in 60 rows; the first 10 follow" in only(result, "duplicate-keys").message
    assert "... and 20 more problems not listed" in result.text()


def test_bad_data_type_in_a_cell_is_reported_with_row_and_field(tmp_path: Path) -> None:
    rows = [ROWS[0], ["12,5x", "2013", "b", "Agency B"]]

    result = validate_package(write_package(tmp_path, rows=rows))

    problem = only(result, "type-error")
    assert (problem.where, problem.row, problem.field) == ("data/budget.csv", 3, "amount")
    assert '"12,5x"' in problem.message


def test_missing_data_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    write_package(tmp_path)
    (tmp_path / "data" / "budget.csv").unlink()

    result = validate_package(tmp_path)

    assert result.counts == {"missing-data-file": 1}
    assert "data file data/budget.csv is missing from the package" in result.text()


def test_mapping_instead_of_model_is_named(tmp_path: Path) -> None:
    def osdp(descriptor: dict[str, Any]) -> None:
        descriptor["mapping"] = descriptor.pop("model")

    result = validate_package(write_package(tmp_path, edit=osdp))

    assert result.counts == {"mapping-not-model": 1}
    assert "`mapping` instead of `model`" in result.problems[0].message


def test_unreadable_descriptor_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "datapackage.json").write_text("{not json", encoding="utf-8")

    result = validate_package(tmp_path)

    assert result.counts == {"descriptor": 1}
    assert result.problems[0].message.startswith("cannot be read as JSON")


def test_remote_profiles_and_data_are_not_fetched(tmp_path: Path, no_network: None) -> None:
    def remote(descriptor: dict[str, Any]) -> None:
        descriptor["profile"] = "fiscal-data-package"
        descriptor["$schema"] = "https://example.org/fdp-profile.json"
        descriptor["resources"].append(
            {**descriptor["resources"][0], "name": "remote", "path": "https://example.org/x.csv"}
        )

    result = validate_package(write_package(tmp_path, edit=remote))

    assert result.counts == {"data-file": 1, "schema": 1}, result.text()  # the schema wants a local path
    assert "https://example.org/x.csv is remote" in only(result, "data-file").message
    assert any("'fiscal-data-package' is remote and was not fetched" in note for note in result.notes)
    assert any("https://example.org/fdp-profile.json" in note for note in result.notes)
    assert result.rows == {"budget": 3}


def test_remote_resource_profile_is_not_fetched(tmp_path: Path, no_network: None) -> None:
    def remote(descriptor: dict[str, Any]) -> None:
        descriptor["profile"] = "https://example.org/fiscal-data-package.json"
        descriptor["resources"][0]["profile"] = "https://example.org/resource-profile.json"

    result = validate_package(write_package(tmp_path, edit=remote))

    assert result.valid, result.text()
    assert len(result.notes) == 2


def test_remote_table_schema_is_refused_without_the_network(tmp_path: Path, no_network: None) -> None:
    """Nothing rewrites this one: frictionless asks its session, which refuses without touching a socket."""

    def remote(descriptor: dict[str, Any]) -> None:
        descriptor["resources"][0]["schema"] = "https://example.org/schema.json"

    result = validate_package(write_package(tmp_path, edit=remote))

    assert "not fetched, validation runs offline: https://example.org/schema.json" in result.text()


def zip_folder(folder: Path, archive: Path, *, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def test_zip_of_a_package_is_validated(tmp_path: Path) -> None:
    package = write_package(tmp_path / "package")

    flat = validate_package(zip_folder(package, tmp_path / "flat.zip"))
    nested = validate_package(zip_folder(package, tmp_path / "nested.zip", prefix="test-budget/"))

    assert flat.valid and nested.valid, (flat.text(), nested.text())
    assert flat.rows == nested.rows == {"budget": 3}


@pytest.mark.parametrize("member", ["../escaped.txt", "data/../../escaped.txt", "/tmp/escaped.txt", "C:/escaped.txt"])
def test_zip_with_path_traversal_is_refused(tmp_path: Path, member: str) -> None:
    archive = zip_folder(write_package(tmp_path / "package"), tmp_path / "evil.zip")
    with zipfile.ZipFile(archive, "a") as bundle:
        bundle.writestr(member, "gotcha")

    with pytest.raises(PackageError, match="unsafe path"):
        validate_package(archive)
    assert not (tmp_path / "escaped.txt").exists()


def test_zip_with_a_symlink_is_refused(tmp_path: Path) -> None:
    archive = zip_folder(write_package(tmp_path / "package"), tmp_path / "link.zip")
    link = zipfile.ZipInfo("data/link.csv")
    link.external_attr = (0o120777 << 16) | 0
    with zipfile.ZipFile(archive, "a") as bundle:
        bundle.writestr(link, "/etc/passwd")

    with pytest.raises(PackageError, match="unsafe path"):
        validate_package(archive)


def test_zip_bigger_than_the_cap_is_refused(tmp_path: Path) -> None:
    archive = zip_folder(write_package(tmp_path / "package"), tmp_path / "big.zip")

    with pytest.raises(PackageError, match="more than the 100 allowed"):
        validate_package(archive, max_unzipped_bytes=100)


def test_broken_zip_and_missing_path_are_package_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")

    with pytest.raises(PackageError, match="neither a package folder nor a readable zip"):
        validate_package(tmp_path / "broken.zip")
    with pytest.raises(PackageError, match="does not exist"):
        validate_package(tmp_path / "nowhere")
    with pytest.raises(PackageError, match=r"has no datapackage\.json"):
        validate_package(tmp_path)


def test_result_survives_a_json_round_trip(tmp_path: Path) -> None:
    result = validate_package(write_package(tmp_path, rows=[*ROWS, ROWS[0]]))

    stored = json.loads(json.dumps(result.as_dict()))
    again = ValidationResult.from_dict(stored)

    assert stored["valid"] is False and stored["total"] == result.total == 2
    assert again.problems == result.problems and again.counts == result.counts and again.text() == result.text()


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(path.parent.name for path in EXAMPLES.glob("*/datapackage.json")))
def test_2015_osdp_conversions_report_their_problems(name: str, no_network: None) -> None:
    result = validate_package(EXAMPLES / name)

    assert not result.valid
    assert result.counts["mapping-not-model"] == 1
    assert "`mapping` instead of `model`" in result.text()
    assert "'columnType' is a required property" in result.text()
    has_data = (EXAMPLES / name / "dataset.csv").is_file()
    assert ("missing-data-file" in result.counts) is not has_data
    if has_data:
        assert result.rows["dataset"] > 0
        assert not {code for code in result.counts if code.endswith("-error")}, result.text()
    else:
        assert "data file dataset.csv is missing from the package" in result.text()


@pytest.mark.shared
def test_research_example_passes_our_schema(tmp_path: Path, no_network: None) -> None:
    """The dual-version example of fiscal-data-package.md §1.4, with a data file of its own."""
    text = (SHARED_DIR / "research" / "fiscal-data-package.md").read_text(encoding="utf-8")
    start = text.index("```json", text.index("### 1.4")) + len("```json")
    descriptor = json.loads(text[start : text.index("```", start)])
    data = tmp_path / descriptor["resources"][0]["path"]
    data.parent.mkdir(parents=True)
    names = [item["name"] for item in descriptor["resources"][0]["schema"]["fields"]]
    data.write_text(",".join(names) + "\n1.5,2009-04-01,hmt,HM Treasury,01,General,01.1,Executive,u1\n")
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")

    result = validate_package(tmp_path)

    assert result.valid, result.text()


# -- frictionless on a sample, our data check on every row -------------------------------------------------------------


def test_with_frictionless_rows_every_row_is_still_checked(tmp_path: Path) -> None:
    rows = [[str(n), str(2000 + n), "a", "Agency A"] for n in range(50)]
    rows.append(["12,5x", "2050", "b", "Agency B"])  # row 52, far past the sample

    result = validate_package(write_package(tmp_path, rows=rows), frictionless_rows=5)

    problem = only(result, "type-error")
    assert (problem.row, problem.field) == (52, "amount")
    assert result.rows == {"budget": 51}  # every row counted, not the sample
    assert any("reached row limit: 5" in note for note in result.notes), result.notes


def test_a_bad_cell_inside_the_frictionless_sample_is_reported_once(tmp_path: Path) -> None:
    rows = [["12,5x", "2013", "c", "Agency C"], *ROWS[:2], ["7", "2014"]]  # a bad number and a short row

    for limit in (None, 100):
        result = validate_package(write_package(tmp_path / str(limit), rows=rows), frictionless_rows=limit)

        assert result.counts == {"type-error": 1, "missing-cell": 2}, (limit, result.text())
        assert only(result, "type-error").row == 2


def test_unique_keys_are_found_without_listing_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The data check proves the key unique; the slower pass that lists repeated keys is not run."""

    def refuse(*args: Any) -> Any:
        raise AssertionError("the duplicate listing ran for a unique key")

    monkeypatch.setattr(duplicate_keys, "_duplicates", refuse)
    rows = [[str(n), str(2000 + n), "a", "Agency A"] for n in range(200)]

    assert validate_package(write_package(tmp_path, rows=rows), frictionless_rows=10).valid


def test_a_package_in_another_csv_dialect_is_read_whole_by_frictionless(tmp_path: Path) -> None:
    def quoted(descriptor: dict[str, Any]) -> None:
        descriptor["resources"][0]["dialect"] = {"quoteChar": "'"}

    rows = [[str(n), str(2000 + n), "a", "Agency A"] for n in range(30)] + [["x", "2100", "a", "A"]]

    result = validate_package(write_package(tmp_path, rows=rows, edit=quoted), frictionless_rows=5)

    assert only(result, "type-error").row == 32
    assert not any("row limit" in note for note in result.notes)


# Hostile descriptors: refused with one readable problem, and no validator ever sees them -----------------------------


@pytest.fixture
def no_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our JSON Schema, our rules and frictionless fail the test if a refused descriptor reaches them."""

    def reached(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a validator saw a descriptor that descriptor_load refused")

    monkeypatch.setattr("conversion.packaging.validation.check_schema", reached)
    monkeypatch.setattr("conversion.packaging.validation.read_resources", reached)
    monkeypatch.setattr("conversion.packaging.validation_data.Package.from_descriptor", reached)


def refused_by_descriptor(result: ValidationResult) -> str:
    assert not result.valid and result.counts == {"descriptor": 1} and result.rows == {}
    assert result.problems[0].where == "datapackage.json"
    return result.problems[0].message


def test_a_300_mb_descriptor_is_one_problem_and_never_read(tmp_path: Path, no_validator: None) -> None:
    folder = write_package(tmp_path)
    with (folder / "datapackage.json").open("r+b") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse

    message = refused_by_descriptor(validate_package(folder))

    assert message == "is 300 MiB, more than the 4 MiB allowed (PACKAGE_DESCRIPTOR_MAX_BYTES)"


def test_a_descriptor_nested_100000_levels_is_a_problem_not_a_recursion_error(
    tmp_path: Path, no_validator: None
) -> None:
    write_package(tmp_path)
    (tmp_path / "datapackage.json").write_text('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")

    assert refused_by_descriptor(validate_package(tmp_path)) == "nests deeper than 64 levels"


def test_a_descriptor_with_10001_fields_is_refused_before_frictionless(tmp_path: Path, no_validator: None) -> None:
    """frictionless checks a header in time quadratic in its fields: 100,000 of them took it 5 minutes."""

    def wide(descriptor: dict[str, Any]) -> None:
        descriptor["resources"][0]["schema"]["fields"] += [{"name": f"f{n}"} for n in range(9_997)]

    message = refused_by_descriptor(validate_package(write_package(tmp_path, edit=wide)))

    assert message == "lists 10,001 fields, more than the 10,000 allowed in one package"


def test_a_giant_description_under_the_size_limit_is_valid(tmp_path: Path) -> None:
    def long(descriptor: dict[str, Any]) -> None:
        descriptor["description"] = "Haushalt " * 300_000  # 2.7 MB

    assert validate_package(write_package(tmp_path, edit=long)).valid


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../../etc/passwd", "points outside the package"),
        ("/etc/passwd", "points outside the package"),
        ("data/../../outside.csv", "points outside the package"),
        ("data/budget.csv\x00.txt", "'data/budget.csv\\x00.txt' cannot be a file name"),
        ("data/" + "x" * 5000, "cannot be a file name"),
    ],
)
def test_a_resource_path_outside_the_package_is_refused(tmp_path: Path, path: str, problem: str) -> None:
    def outside(descriptor: dict[str, Any]) -> None:
        descriptor["resources"][0]["path"] = path

    (tmp_path / "outside.csv").write_text("amount,year,admin_id,admin_name\n1,2013,a,A\n", encoding="utf-8")
    result = validate_package(write_package(tmp_path / "package", edit=outside))

    assert problem in only(result, "data-file").message
    assert result.rows == {} and "no data file in the package to check" in result.notes


def test_a_data_file_linking_outside_the_package_is_refused(tmp_path: Path) -> None:
    package = write_package(tmp_path / "package")
    (tmp_path / "secret.csv").write_bytes((package / "data" / "budget.csv").read_bytes())
    (package / "data" / "budget.csv").unlink()
    (package / "data" / "budget.csv").symlink_to(tmp_path / "secret.csv")

    result = validate_package(package)

    assert only(result, "data-file").message == "data/budget.csv points outside the package"
    assert result.rows == {}
