"""The sample instance through the real pipeline (import, propose, approve, convert, publish), once per session.

Running that pipeline costs seconds; dozens of tests start from its result. So a session builds it once, inside a
transaction it rolls back, and keeps a `Snapshot` of each stage: the rows it wrote (serialised the way `dumpdata`
does) and the files it left in the working and public storages. A test restores a snapshot the way `loaddata` does
(raw saves, primary keys kept, so the package paths that name a run's id still hold) and gets the very rows and files
the pipeline made, in a fraction of the time. Under pytest-xdist each worker builds its own, in its own database.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from io import StringIO
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.test import override_settings

from conversion.models import ConversionRun, DimensionMapping
from conversion.review import services
from datasets.models import LegacyDataset
from migration_site.lib import roles
from tests.factories import make_user

# What the pipeline writes; CatalogState is a single row of the schema, moved by triggers, not data to copy.
APPS = ("datasets", "conversion", "publishing")
SKIPPED = {"publishing.catalogstate"}
CURATOR = "carla"  # the reviewer of the converted sample: the `curator` fixture's user
PUBLISHED = ["lindenau-haushalt", "northfield-spending-2014"]  # what the published stage has published
# What the converted stage holds: every dataset with data (riverton, a draft without a legacy model, too: proposed
# from its source columns); not kestrel (no data).
CONVERTED = 7
Writer = Callable[[str, bytes], None]


def import_and_propose(dump: Path) -> None:
    call_command("import_legacy", str(dump), stdout=StringIO())
    call_command("propose_mappings", stdout=StringIO())


def approve_and_convert(reviewer: Any) -> None:
    for item in DimensionMapping.objects.open():
        services.mapping_approve(mapping=item, reviewer=reviewer)
    call_command("convert", "--all-approved", "--sync", stdout=StringIO())
    runs = ConversionRun.objects.values_list("dataset__name", "status", "error")
    assert ConversionRun.objects.succeeded().count() == CONVERTED, list(runs)


def migrate_sample(dump: Path, reviewer: Any) -> dict[str, LegacyDataset]:
    """The whole pipeline, here and now, from `dump`: for a test whose export differs from the shared one."""
    import_and_propose(dump)
    approve_and_convert(reviewer)
    return datasets_by_name()


def datasets_by_name() -> dict[str, LegacyDataset]:
    return {dataset.name: dataset for dataset in LegacyDataset.objects.all()}


def _snapshot_models() -> list[type[models.Model]]:
    found = [model for label in APPS for model in apps.get_app_config(label).get_models()]
    return [model for model in found if model._meta.label_lower not in SKIPPED]


def _user_fields(model: type[models.Model]) -> list[str]:
    user_model = get_user_model()
    return [f.name for f in model._meta.concrete_fields if f.is_relation and f.related_model is user_model]


@dataclass(frozen=True)
class Snapshot:
    """Rows in `dumpdata`'s python form (users as usernames, since a test's users get new ids) and a copy of each
    storage's files, by alias ("default", the working storage, and "public")."""

    rows: list[dict[str, Any]]
    folders: dict[str, Path]

    @classmethod
    def take(cls, *, storages: dict[str, Path], into: Path) -> Snapshot:
        """The rows of the current database and a copy of each storage's folder (`storages`: alias -> folder)."""
        usernames = dict(get_user_model().objects.values_list("pk", "username"))
        rows = []
        for model in _snapshot_models():
            user_fields = _user_fields(model)
            for row in serializers.serialize("python", model._default_manager.order_by("pk")):
                for name in user_fields:
                    row["fields"][name] = usernames.get(row["fields"][name])
                rows.append(row)
        return cls(rows=rows, folders={alias: _copy(folder, into / alias) for alias, folder in storages.items()})

    def restore(self, writers: Mapping[str, Writer] | None = None) -> None:
        """Into the current database (users named by the snapshot must exist) and storages, through
        `writers[alias](name, content)` where given (a test on S3 passes plain PUTs: django-storages' save would
        first build a boto3 connection and push each small file through a transfer manager, costing more than the
        restore), else through the storage's own save."""
        self._insert_rows()
        for alias, folder in self.folders.items():
            write = (writers or {}).get(alias) or partial(_save, alias)
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    write(path.relative_to(folder).as_posix(), path.read_bytes())

    def _insert_rows(self) -> None:
        # As `loaddata` writes them (raw saves: values kept, auto_now included; receivers told `raw`), but with one
        # INSERT a row. Foreign keys are checked at commit (Django declares them deferrable): order does not matter.
        users = dict(get_user_model().objects.values_list("username", "pk"))
        restored: set[type[models.Model]] = set()
        for deserialised in serializers.deserialize("python", self._rows_for(users)):
            assert not deserialised.m2m_data, "no snapshot model has many-to-many fields"
            deserialised.object.save_base(raw=True, force_insert=True)
            restored.add(type(deserialised.object))
        with connection.cursor() as cursor:  # PostgreSQL: sequences past the ids just written
            for statement in connection.ops.sequence_reset_sql(no_style(), list(restored)):
                cursor.execute(statement)

    def _rows_for(self, users: dict[str, int]) -> Iterator[dict[str, Any]]:
        for row in copy.deepcopy(self.rows):  # a test that edits a JSON value in place must not edit the snapshot
            model = apps.get_model(row["model"])
            for name in _user_fields(model):
                username = row["fields"][name]
                if username is not None and username not in users:
                    raise LookupError(f"the snapshot names user {username!r}: create it first (see its fixture)")
                row["fields"][name] = users.get(username)
            yield row


def _copy(folder: Path, into: Path) -> Path:
    if folder.is_dir():
        shutil.copytree(folder, into)
    else:
        into.mkdir(parents=True)
    return into


def _save(alias: str, name: str, content: bytes) -> None:
    storages[alias].save(name, ContentFile(content))


@dataclass(frozen=True)
class SampleSnapshots:
    proposed: Snapshot  # imported and proposed, nothing reviewed
    converted: Snapshot  # every mapping approved by CURATOR, every dataset with a model converted
    published: Snapshot  # converted, and PUBLISHED published (in embedded mode: no workers)


def take_snapshots(dump: Path, root: Path) -> SampleSnapshots:
    """Run the pipeline in a transaction that is rolled back, on storage folders of its own, keeping each stage."""
    local, working, public = "django.core.files.storage.FileSystemStorage", root / "storage", root / "public"
    configured = {
        **settings.STORAGES,
        "default": {"BACKEND": local, "OPTIONS": {"location": str(working)}},
        "public": {"BACKEND": local, "OPTIONS": {"location": str(public)}},
    }
    folders = {"default": working, "public": public}
    scratch = root / "scratch"
    with override_settings(STORAGES=configured, CONVERSION_SCRATCH_DIR=scratch, REDIS_URL=""), transaction.atomic():
        import_and_propose(dump)
        proposed = Snapshot.take(storages=folders, into=root / "proposed")
        approve_and_convert(make_user(CURATOR, group=roles.CURATORS))
        converted = Snapshot.take(storages=folders, into=root / "converted")
        call_command("publish", *PUBLISHED, "--sync", stdout=StringIO())
        published = Snapshot.take(storages=folders, into=root / "published")
        transaction.set_rollback(True)
    return SampleSnapshots(proposed=proposed, converted=converted, published=published)
