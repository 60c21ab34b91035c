"""import_legacy is idempotent, updates in place from a newer dump and records what changed."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.models import HarvestRecord, LegacyDataset, Source
from tests.conftest import SAMPLE_DATASETS

pytestmark = pytest.mark.django_db
ALL = len(SAMPLE_DATASETS)  # the sample export holds every dataset of the instance


@pytest.fixture
def dump(sample_dump: Path) -> Path:
    return sample_dump


def import_dump(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_legacy", str(path), *args, stdout=out)
    return out.getvalue()


def edit(dump: Path, name: str, change) -> None:
    path = dump / name / "dataset.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def test_a_second_import_of_the_same_dump_changes_nothing(dump):
    assert f"{ALL} created" in import_dump(dump)
    stamps = dict(LegacyDataset.objects.values_list("name", "updated_at"))
    sources = list(Source.objects.order_by("pk").values())
    assert f"{ALL} unchanged" in import_dump(dump)
    assert dict(LegacyDataset.objects.values_list("name", "updated_at")) == stamps
    assert list(Source.objects.order_by("pk").values()) == sources
    assert HarvestRecord.objects.count() == ALL


def test_a_newer_dump_updates_in_place_and_records_what_changed(dump):
    import_dump(dump)
    dataset_id = LegacyDataset.objects.get(name="lindenau-haushalt").pk

    def newer(document):
        document["label"] = "Haushalt Lindenau (revidiert)"
        document["team"] = document["team"][:2]
        document["export"]["exported_at"] = "2030-01-01T00:00:00+00:00"

    edit(dump, "lindenau-haushalt", newer)
    output = import_dump(dump)
    assert "lindenau-haushalt: updated (label, team)" in output
    assert f"{ALL - 1} unchanged" in output
    dataset = LegacyDataset.objects.get(name="lindenau-haushalt")
    assert dataset.pk == dataset_id
    assert dataset.label == "Haushalt Lindenau (revidiert)"
    assert dataset.team_usernames == ["kmueller", "fbecker"]
    record = dataset.harvests.first()
    changes = {change["field"]: change for change in record.changes}
    assert changes["label"]["after"] == "Haushalt Lindenau (revidiert)"
    assert changes["team"]["before"] == ["kmueller", "fbecker", "pwright"]


def test_an_older_dump_is_skipped_unless_forced(dump):
    import_dump(dump)

    def older(document):
        document["label"] = "An old label"
        document["export"]["exported_at"] = "2001-01-01T00:00:00+00:00"

    edit(dump, "lindenau-haushalt", older)
    assert "lindenau-haushalt: skipped" in import_dump(dump)
    assert LegacyDataset.objects.get(name="lindenau-haushalt").label != "An old label"
    assert "lindenau-haushalt: updated" in import_dump(dump, "--force")
    assert LegacyDataset.objects.get(name="lindenau-haushalt").label == "An old label"


def test_a_broken_dataset_json_is_reported_and_the_rest_imported(dump):
    (dump / "lindenau-haushalt" / "dataset.json").write_text("{not json", encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError, match=f"1 of {ALL} dataset folders failed"):
        call_command("import_legacy", str(dump), stdout=out)
    output = out.getvalue()
    assert "lindenau-haushalt: failed" in output and "not valid JSON" in output
    assert f"{ALL - 1} created" in output and "Failed: lindenau-haushalt" in output
    assert LegacyDataset.objects.count() == ALL - 1


def test_a_changed_source_file_is_stored_beside_the_old_one(dump):
    import_dump(dump)
    old = Source.objects.get(dataset__name="lindenau-haushalt", legacy_id=4101)
    old_name = old.archived_file.name
    path = dump / "lindenau-haushalt" / "archive" / "4101.csv"
    path.write_bytes(path.read_bytes() + b"extra,row\n")

    def forget_hash(document):
        for source in document["sources"]:
            if source["id"] == 4101:
                source["archive"].pop("sha256")
                source["archive"].pop("size")
        document["export"]["exported_at"] = "2030-01-01T00:00:00+00:00"

    edit(dump, "lindenau-haushalt", forget_hash)
    import_dump(dump)
    new = Source.objects.get(pk=old.pk)
    assert new.archived_file.name != old_name
    assert new.archived_file.read().endswith(b"extra,row\n")
    assert old.archived_file.storage.exists(old_name), "the earlier copy is kept"
