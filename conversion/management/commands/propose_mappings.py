"""python manage.py propose_mappings [NAME ...]: propose mappings for datasets no curator has reviewed yet."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from conversion.review.services import mappings_propose
from datasets.models import LegacyDataset
from migration_site.lib.commands import Outcome, datasets_named, each_dataset


class Command(BaseCommand):
    help = "Propose a Fiscal Data Package mapping for every legacy dimension and measure; never overwrites a review."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="Only these datasets (default: all).")

    def handle(self, *args: Any, **options: Any) -> None:
        everything = LegacyDataset.objects.prefetch_related("team").order_by("name")
        datasets = datasets_named(options["names"], everything) if options["names"] else list(everything)
        if not datasets:
            self.stdout.write("nothing to propose: no dataset imported yet (import_legacy DIR)")
            return
        mappings: Counter[str] = Counter()

        def propose(dataset: LegacyDataset) -> Outcome:
            result = mappings_propose(dataset=dataset)
            mappings.update(proposed=result.proposed, ambiguous=result.ambiguous)
            line = f"{result.dataset}: {result.action}"
            if result.action == "proposed":
                line += f", {result.proposed} mappings, {result.ambiguous} ambiguous"
            if result.action == "kept":
                line += " (a curator has reviewed it)"
            return line + "".join(f"; {problem}" for problem in result.problems), result.action

        tally = each_dataset(self.stdout.write, datasets, propose)
        counts = tally.counts
        tally.finish(
            self.stdout.write,
            f"Proposed for {counts['proposed']} datasets ({mappings['proposed']} mappings, {mappings['ambiguous']} "
            f"need a curator); kept {counts['kept']} reviewed; {counts['no model']} without a model.",
        )
