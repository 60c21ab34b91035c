"""/bulk/: zip files of every package's rows by year, split under the size limits, stable when the catalogue changes,
built once and kept in storage."""

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from lxml import html  # type: ignore[import-untyped]

from publishing import bulk, bulk_segments
from publishing.models import PublishedPackage
from publishing.store import public_storage
from tests.factories import HEADER, make_package

pytestmark = pytest.mark.django_db


def noisy_rows(years, per_year):
    """Rows that do not compress much, so the zipped limit is the one that bites."""
    return [
        [f"{year}{n:04d}.25", str(year), hashlib.sha256(f"{year}-{n}".encode()).hexdigest()[:40]]
        for year in years
        for n in range(per_year)
    ]


def index_links(client):
    tree = html.fromstring(client.get("/bulk/").content)
    return [(a.get("href"), a.text_content()) for a in tree.xpath("//main//table//th/a")]


def download(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Type"] == "application/zip"
    return b"".join(response.streaming_content)


def unpack(content):
    """The rows of a part (header checked) and its unzipped size."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        rows, size = [], 0
        for info in archive.infolist():
            size += info.file_size
            table = list(csv.reader(io.TextIOWrapper(archive.open(info), encoding="utf-8", newline="")))
            assert table[0] == HEADER
            rows += table[1:]
    return rows, size


def parts_of(client, owner, name):
    return [href for href, _ in index_links(client) if f"/{owner}/{name}-part-" in href]


def test_the_default_limits_are_10_mb_zipped_and_1_gb_unzipped(settings):
    assert bulk.max_zipped() == 10_000_000 and bulk.max_unzipped() == 1_000_000_000
    settings.BULK_MAX_ZIPPED_BYTES = 123
    assert bulk.max_zipped() == 123


def test_rows_are_segmented_by_year_and_listed_newest_year_first(client):
    rows = [["1.5", "2014", "North"], ["2.5", "2015", "South"], ["3.5", "2014", "East"]]
    make_package("berlin", "budget", rows=rows, years=[2014, 2015])
    assert index_links(client) == [
        ("/bulk/2015/berlin/budget-part-1.zip", "berlin/budget-part-1.zip"),
        ("/bulk/2014/berlin/budget-part-1.zip", "berlin/budget-part-1.zip"),
    ]
    assert unpack(download(client, "/bulk/2014/berlin/budget-part-1.zip"))[0] == [rows[0], rows[2]]
    assert unpack(download(client, "/bulk/2015/berlin/budget-part-1.zip"))[0] == [rows[1]]


def test_rows_without_a_year_go_under_the_packages_only_year_or_undated(client):
    make_package("one", "year", rows=[["1", "", "x"]], years=[2013])
    make_package("many", "years", rows=[["1", "n/a", "x"], ["2", "2011", "y"]], years=[2011, 2012])
    hrefs = [href for href, _ in index_links(client)]
    assert "/bulk/2013/one/year-part-1.zip" in hrefs
    assert "/bulk/undated/many/years-part-1.zip" in hrefs and "/bulk/2011/many/years-part-1.zip" in hrefs
    assert hrefs[-1] == "/bulk/undated/many/years-part-1.zip", "undated files come last"


def test_parts_stay_under_the_unzipped_limit_and_keep_every_row_in_order(client, settings):
    settings.BULK_MAX_UNZIPPED_BYTES = 400
    rows = [[f"{n}.5", "2014", f"Region number {n}"] for n in range(60)]
    make_package("berlin", "budget", rows=rows, years=[2014])
    hrefs = parts_of(client, "berlin", "budget")
    assert len(hrefs) > 3
    assert hrefs == [f"/bulk/2014/berlin/budget-part-{n}.zip" for n in range(1, len(hrefs) + 1)]
    found = []
    for href in hrefs:
        part_rows, unzipped = unpack(download(client, href))
        assert unzipped <= 400
        found += part_rows
    assert found == rows


def test_parts_stay_under_the_zipped_limit_when_the_data_does_not_compress(client, settings):
    settings.BULK_MAX_ZIPPED_BYTES = 1500
    rows = noisy_rows([2014], 120)
    make_package("leeds", "spend", rows=rows, years=[2014])
    hrefs = parts_of(client, "leeds", "spend")
    assert len(hrefs) > 3
    found = []
    for href in hrefs:
        content = download(client, href)
        assert len(content) <= 1500
        found += unpack(content)[0]
    assert found == rows
    # and not absurdly small: the bound used before the size is known is not too pessimistic
    assert sum(len(download(client, href)) for href in hrefs) / len(hrefs) > 500


def test_a_new_package_does_not_move_rows_of_another(client, settings):
    settings.BULK_MAX_UNZIPPED_BYTES = 500
    make_package("leeds", "spend", rows=noisy_rows([2014, 2015], 20), years=[2014, 2015])
    before = {href: download(client, href) for href in parts_of(client, "leeds", "spend")}
    etags = {href: client.get(href)["ETag"] for href in before}
    make_package("aachen", "budget", rows=noisy_rows([2014, 2015], 20), years=[2014, 2015])
    make_package("zwickau", "budget", rows=noisy_rows([2014], 5), years=[2014])
    assert parts_of(client, "leeds", "spend") == list(before)
    for href, content in before.items():
        assert download(client, href) == content
        assert client.get(href)["ETag"] == etags[href]


def test_segments_are_built_once_and_kept_in_storage_by_content_hash(client, monkeypatch):
    package = make_package()
    index_links(client)
    stored = public_storage().listdir(f"bulk/berlin/budget/{bulk.digest(package)}")
    assert "manifest.json" in stored[1] and sorted(stored[0]) == ["2014", "2015"]

    def no_rebuild(package):
        raise AssertionError("segments rebuilt")

    monkeypatch.setattr(bulk, "build_segments", no_rebuild)
    make_package("other", "budget")  # the index changes, the first package's segments do not
    monkeypatch.undo()
    monkeypatch.setattr(bulk, "build_segments", lambda p: no_rebuild(p) if p.pk == package.pk else [])
    assert len(index_links(client)) == 2
    download(client, "/bulk/2014/berlin/budget-part-1.zip")


def test_changed_data_or_limits_get_new_segments(settings):
    package = make_package()
    first = bulk.digest(package)
    settings.BULK_MAX_ZIPPED_BYTES = 5_000_000
    assert bulk.digest(package) != first
    settings.BULK_MAX_ZIPPED_BYTES = 10_000_000
    PublishedPackage.objects.filter(pk=package.pk).update(data_sha256="0" * 64)
    package.refresh_from_db()
    assert bulk.digest(package) != first


def test_the_zips_are_reproducible(client):
    package = make_package()
    first = bulk.build_segments(package)
    second = bulk.build_segments(package)
    for a, b in zip(first, second, strict=True):
        assert public_storage().open(a.key).read() == public_storage().open(b.key).read()


def test_a_part_download_has_validators_a_file_name_and_answers_conditional_requests(client):
    make_package(rows=[["1", "2014", "x"]], years=[2014])
    response = client.get("/bulk/2014/berlin/budget-part-1.zip")
    assert response["Content-Disposition"] == 'attachment; filename="berlin--budget-2014-part-1.zip"'
    assert response["Last-Modified"] and response["ETag"]
    again = client.get("/bulk/2014/berlin/budget-part-1.zip", headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304
    head = client.head("/bulk/2014/berlin/budget-part-1.zip")
    assert head.status_code == 200 and int(head["Content-Length"]) > 0


def test_unknown_parts_years_and_names_are_404(client):
    make_package(rows=[["1", "2014", "x"]], years=[2014])
    for path in ("/bulk/2014/berlin/budget-part-2.zip", "/bulk/2015/berlin/budget-part-1.zip",
                 "/bulk/2014/berlin/budget-part-0.zip", "/bulk/2014/berlin/budget.zip",
                 "/bulk/2014/berlin/nothing-part-1.zip"):  # fmt: skip
        assert client.get(path).status_code == 404, path


def stored_bulk_files(owner, name):
    root = Path(public_storage().path(f"bulk/{owner}/{name}"))
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_a_build_that_ends_after_its_package_was_withdrawn_leaves_nothing_behind():
    """A request that found the package published, then built its zips while a withdrawal ran: the withdrawal's
    purge may be over already, so the build deletes what it stored."""
    package = make_package(rows=[["1", "2014", "x"], ["2", "2015", "y"]])
    PublishedPackage.objects.get(pk=package.pk).withdraw()

    segments = bulk.package_segments(package)  # the row as the request read it, before the withdrawal

    assert len(segments) == 2
    assert stored_bulk_files("berlin", "budget") == []


def test_a_build_that_fails_half_way_deletes_the_parts_it_stored(settings, monkeypatch):
    settings.BULK_MAX_UNZIPPED_BYTES = 400
    package = make_package(rows=[[f"{n}.5", "2014", f"Region number {n}"] for n in range(60)], years=[2014])
    real_add, calls = bulk_segments._Segmenter.add, []

    def add_then_fail(self, *args):
        calls.append(1)
        if len(calls) == 40:
            raise OSError("the data file went away (test fault)")
        real_add(self, *args)

    monkeypatch.setattr(bulk_segments._Segmenter, "add", add_then_fail)
    with pytest.raises(OSError):
        bulk.package_segments(package)

    assert stored_bulk_files("berlin", "budget") == []


def test_an_index_document_replaces_the_ones_of_earlier_catalogue_states(client):
    make_package()
    client.get("/bulk/")
    first = bulk.index_keys()
    make_package("other", "budget")
    client.get("/bulk/")

    assert len(first) == 1 and len(bulk.index_keys()) == 1 and bulk.index_keys() != first
