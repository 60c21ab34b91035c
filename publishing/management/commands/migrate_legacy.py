"""python manage.py migrate_legacy (--url URL [--api-key KEY] | --dump DIR) [--auto-approve-confident]

The whole migration in one command: export (with --url), import, proposals, auto-approval of confident mappings only,
conversion, reconciliation and publication; ambiguous mappings wait for a curator and are listed as a to-do.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils import timezone

from conversion.models import ConversionRun, DimensionMapping
from conversion.review.services import mappings_approve_confident
from datasets.models import LegacyDataset
from migration_site.lib import roles
from migration_site.lib.commands import SOME_DATASETS_FAILED
from publishing import todo
from publishing.models import PublicationRun, PublishedPackage

BOT = "migration-bot"


class Command(BaseCommand):
    help = "Run the whole migration: export, import, propose, approve confident mappings, convert, publish."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--url", help="Base URL of a legacy instance to export first.")
        source.add_argument("--dump", type=Path, help="A dump folder already exported (ours or the 2015 format).")
        parser.add_argument("--api-key", default="", help="Default: LEGACY_API_KEY.")
        parser.add_argument("--to", type=Path, default=None, help="Where --url exports to (default var/dumps/).")
        parser.add_argument("--allow-private-addresses", action="store_true")
        parser.add_argument(
            "--auto-approve-confident",
            action="store_true",
            help="Approve every confident proposal as the 'migration-bot' account; ambiguous ones wait for a curator.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = timezone.now()
        dump = self._export(options) if options["url"] else options["dump"]
        if not dump.exists():
            raise CommandError(f"{dump} does not exist")
        self._step("Importing", "import_legacy", str(dump), partial_ok=True)
        self._step("Proposing mappings", "propose_mappings")
        approved = self._approve_confident() if options["auto_approve_confident"] else 0
        self._step("Converting", "convert", "--all-approved", "--sync", allow_failure=True)
        self._step("Publishing", "publish", "--all-ready", "--sync", allow_failure=True)
        self._summary()
        self._admin_todo()
        self.stdout.write(_changes_since(started, approved=approved))

    def _export(self, options: dict[str, Any]) -> Path:
        target = options["to"] or settings.VAR_DIR / "dumps" / "legacy"
        extra = ["--allow-private-addresses"] if options["allow_private_addresses"] else []
        api_key = options["api_key"] or settings.LEGACY_API_KEY
        if api_key:
            extra += ["--api-key", api_key, "--include-private"]
        self._step("Exporting", "export_legacy", "--url", options["url"], "--to", str(target), *extra, partial_ok=True)
        return Path(target)

    def _step(
        self, title: str, command: str, *arguments: str, allow_failure: bool = False, partial_ok: bool = False
    ) -> None:
        """Run one command; `partial_ok`: go on when it went through every dataset but some failed (each says why)."""
        self.stdout.write(self.style.MIGRATE_HEADING(title))
        try:
            call_command(command, *arguments, stdout=self.stdout, stderr=self.stderr)
        except CommandError as error:
            partial = partial_ok and error.returncode == SOME_DATASETS_FAILED
            if not (allow_failure or partial):
                raise
            self.stdout.write(self.style.WARNING(f"{command}: {error}"))

    def _approve_confident(self) -> int:
        self.stdout.write(self.style.MIGRATE_HEADING("Approving confident mappings"))
        bot = _bot()
        approved, refused = mappings_approve_confident(
            mappings=DimensionMapping.objects.open().select_related("dataset"), reviewer=bot
        )
        self.stdout.write(f"Approved {len(approved)} confident mappings as {BOT}; {len(refused)} wait for a curator.")
        return len(approved)

    def _summary(self) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING("Summary"))
        datasets = list(LegacyDataset.objects.order_by("name"))
        runs = {run.dataset_id: run for run in ConversionRun.objects.latest_per_dataset()}
        # A dataset without data waits for nobody: the admins' to-do lists it as not convertible.
        no_data = LegacyDataset.objects.filter(todo.stage_condition("not_convertible"))
        ambiguous = DimensionMapping.objects.open().filter(ambiguous=True).exclude(dataset__in=no_data)
        waiting = {row["dataset__name"]: row["count"] for row in _count_by_dataset(ambiguous)}
        converted = [dataset for dataset in datasets if dataset.pk in runs and runs[dataset.pk].publishable]
        # Datasets only: a package uploaded with publish_osdp has none, and is not part of this migration.
        published = PublishedPackage.objects.published().filter(dataset__isnull=False).count()
        self.stdout.write(
            f"{len(datasets)} datasets: {len(converted)} converted and reconciled, {published} published, "
            f"{len(waiting)} waiting for a curator."
        )
        if waiting:
            self.stdout.write(self.style.WARNING("To do: these datasets wait for a curator in the review queue:"))
            for name, count in sorted(waiting.items()):
                self.stdout.write(f"  - {name}: {count} ambiguous mapping(s)")

    def _admin_todo(self) -> None:
        """What waits for the migration admins, each with the admin page to act on (the dashboard lists it too)."""
        items = todo.admin_todo()
        if not items:
            self.stdout.write("Nothing waits for a migration admin.")
            return
        self.stdout.write(self.style.WARNING("To do for the migration admins (the migration dashboard lists it too):"))
        for stage in todo.STAGES:
            listed = [item for item in items if item.stage == stage.key]
            if listed:
                self.stdout.write(f"  {stage.title}:")
            for item in listed:
                self.stdout.write(f"  - {item.dataset}: {item.why}\n      {item.task}: {item.url}")


def _changes_since(started: datetime, *, approved: int) -> str:
    """What this run changed, so a second run over the same legacy instance says it changed nothing."""
    changes = {
        "imported or updated": LegacyDataset.objects.filter(updated_at__gte=started).count(),
        "mappings approved": approved,
        "converted": ConversionRun.objects.filter(queued_at__gte=started).count(),
        "published or withdrawn": PublicationRun.objects.filter(queued_at__gte=started, dataset__isnull=False)
        .exclude(status=PublicationRun.Status.UNCHANGED)
        .count(),
    }
    done = [f"{count} {what}" for what, count in changes.items() if count]
    if not done:
        return "Nothing changed since the last run: every dataset is unchanged, none converted or published again."
    return "This run: " + ", ".join(done) + "."


def _count_by_dataset(queryset: Any) -> Any:
    return queryset.values("dataset__name").annotate(count=Count("id")).order_by()


def _bot() -> Any:
    """The account that approves confident proposals, so the review trail says who (what) approved them."""
    user, _ = get_user_model().objects.get_or_create(username=BOT, defaults={"is_active": True, "is_staff": False})
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=roles.CURATORS))
    return user
