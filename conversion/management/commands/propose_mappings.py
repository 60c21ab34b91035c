"""python manage.py propose_mappings [NAME ...]: propose mappings for datasets no curator has reviewed yet."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from conversion.services import mappings_propose
from datasets.command_args import datasets_named
from datasets.models import LegacyDataset
from datasets.progress import Progress


class Command(BaseCommand):
    help = "Propose a Fiscal Data Package mapping for every legacy dimension and measure; never overwrites a review."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="Only these datasets (default: all).")

    def handle(self, *args: Any, **options: Any) -> None:
        everything = LegacyDataset.objects.prefetch_related("team").order_by("name")
        datasets = datasets_named(options["names"], everything) if options["names"] else list(everything)
        progress = Progress(self.stdout.write, label="datasets")
        progress.start(len(datasets))
        totals = {"proposed": 0, "kept": 0, "no model": 0, "mappings": 0, "ambiguous": 0}
        try:
            for dataset in datasets:
                result = mappings_propose(dataset=dataset)
                totals[result.action] += 1
                totals["mappings"] += result.proposed
                totals["ambiguous"] += result.ambiguous
                line = f"{result.dataset}: {result.action}"
                if result.action == "proposed":
                    line += f", {result.proposed} mappings, {result.ambiguous} ambiguous"
                if result.action == "kept":
                    line += " (a curator has reviewed it)"
                progress.advance(line + "".join(f"; {problem}" for problem in result.problems))
        finally:
            progress.close()
        self.stdout.write(
            f"Proposed for {totals['proposed']} datasets ({totals['mappings']} mappings, {totals['ambiguous']} "
            f"need a curator); kept {totals['kept']} reviewed; {totals['no model']} without a model."
        )
