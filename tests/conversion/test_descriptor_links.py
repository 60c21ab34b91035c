"""The descriptor links only http(s) addresses: `legacy.url` and a source's `path`/`web` are web URLs or absent, and a
recorded address that is not one stays as text under `url_as_recorded`."""

from dataclasses import replace

import pytest

from conversion.packaging.build import build_package
from conversion.packaging.validation import validate_package
from tests.conversion.test_build import BUDGET, built, meta, plan

HOSTILE = "javascript:alert(document.cookie)"
LINK_KEYS = {"url", "path", "web", "homepage", "href"}


def with_addresses(tmp_path, legacy_url, source_url):
    build_plan = plan(tmp_path, BUDGET)
    sources = [{"id": 1, "url": source_url}, {"id": 2, "url": "https://example.org/data/budget-2013.csv"}]
    return replace(build_plan, meta=replace(meta(), legacy_url=legacy_url, sources=sources))


def links_in(value, key=""):
    """Every value of a key some consumer follows as a link, anywhere in the descriptor."""
    if isinstance(value, dict):
        return [link for k, v in value.items() for link in links_in(v, k)]
    if isinstance(value, list):
        return [link for item in value for link in links_in(item, key)]
    return [value] if key in LINK_KEYS and isinstance(value, str) else []


@pytest.mark.parametrize(
    "address", [HOSTILE, "JAVASCRIPT:alert(1)", "java\tscript:alert(1)", "data:text/html,x", "//evil.example/a.csv"]
)
def test_an_address_that_is_not_a_web_url_is_never_a_link_in_the_descriptor(tmp_path, address):
    _, _, package = built(tmp_path, with_addresses(tmp_path, address, address))

    assert "url" not in package["legacy"]
    assert package["legacy"]["url_as_recorded"] == address  # kept, as text
    assert package["sources"] == [
        {"name": "1", "title": "Legacy source 1", "url_as_recorded": address},
        {"name": "2", "title": "budget-2013.csv", "path": "https://example.org/data/budget-2013.csv",
         "web": "https://example.org/data/budget-2013.csv"},
    ]  # fmt: skip
    resource_paths = {resource["path"] for resource in package["resources"]}
    assert all(link.startswith("https://") or link in resource_paths for link in links_in(package))


def test_a_web_url_is_the_link_and_nothing_is_recorded_beside_it(tmp_path):
    _, _, package = built(
        tmp_path, with_addresses(tmp_path, " https://openspending.org/lindenau ", "http://a.example/")
    )
    assert package["legacy"]["url"] == "https://openspending.org/lindenau"
    assert "url_as_recorded" not in package["legacy"]
    assert package["sources"][0] == {"name": "1", "title": "a.example", "path": "http://a.example/",
                                     "web": "http://a.example/"}  # fmt: skip


def test_without_any_address_the_descriptor_says_nothing_of_one(tmp_path):
    _, _, package = built(tmp_path, with_addresses(tmp_path, "", ""))
    assert "url" not in package["legacy"] and "url_as_recorded" not in package["legacy"]
    assert package["sources"][0] == {"name": "1", "title": "Legacy source 1"}


def test_a_package_with_recorded_addresses_is_still_valid(tmp_path):
    build_package(with_addresses(tmp_path, HOSTILE, "ftp://ftp.example.org/budget.csv"), tmp_path / "package")
    result = validate_package(tmp_path / "package")
    assert result.valid, result.text()
