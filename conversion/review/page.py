"""What the per-dataset review page shows: its mappings with their forms, the preview, the decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from conversion.models import ConversionRun, DatasetDecision, DimensionMapping, dataset_licence, dataset_owner
from conversion.packaging import vocabulary
from conversion.review import mapping_rules
from conversion.review.forms import DecisionForm, MappingForm, SaveForm
from conversion.review.preview import Column, Preview, build_preview
from conversion.source_data import read_source_data
from datasets.models import LegacyDataset
from migration_site.lib import roles


@dataclass
class Row:
    mapping: DimensionMapping
    form: MappingForm | None  # None: reviewed, shown read-only


def mapping_rows(
    dataset: LegacyDataset, mappings: list[DimensionMapping], data: Mapping[str, Any] | None = None
) -> list[Row]:
    paths = [mapping.legacy_path for mapping in mappings]
    return [
        Row(mapping, None if mapping.is_reviewed else MappingForm(data, mapping=mapping, paths=paths))
        for mapping in mappings
    ]


def preview_for(dataset: LegacyDataset, mappings: list[DimensionMapping], rows: list[Row] | None = None) -> Preview:
    """The preview under the targets on screen: a row's form data when it is valid, else the stored target."""
    targets = {mapping.pk: mapping.current_target for mapping in mappings}
    for row in rows or []:
        if row.form is not None and row.form.is_bound and row.form.is_valid():
            targets[row.mapping.pk] = row.form.target_data()
    columns = [
        Column(
            path=mapping.legacy_path,
            field=str(targets[mapping.pk].get("field", "")),
            column_type=str(targets[mapping.pk].get("column_type", "")),
            source=_effective_source(mapping.source, targets[mapping.pk]),
        )
        for mapping in mappings
        if mapping.status != DimensionMapping.Status.DROPPED
    ]
    return build_preview(read_source_data(dataset, rows=20).rows, columns)


def _effective_source(source: Mapping[str, Any], target: Mapping[str, Any]) -> dict[str, Any]:
    """The legacy source reading with the curator's choices on screen: another default, a number format."""
    effective = dict(source)
    if "default_value" in target:
        effective["default_value"] = target["default_value"]
    if target.get("number_format"):
        effective["number_format"] = target["number_format"]
    return effective


def page_context(
    request: HttpRequest,
    dataset: LegacyDataset,
    mappings: list[DimensionMapping],
    rows: list[Row],
    *,
    save_form: SaveForm | None = None,
    decision_form: DecisionForm | None = None,
    general_errors: list[str] | None = None,
) -> dict[str, Any]:
    decision = DatasetDecision.objects.filter(dataset=dataset).select_related("decided_by").first()
    counts = {status: sum(1 for m in mappings if m.status == status) for status in DimensionMapping.Status.values}
    return {
        "dataset": dataset,
        "rows": rows,
        "preview": preview_for(dataset, mappings, rows),
        "save_form": save_form or SaveForm(),
        "decision": decision,
        "owner": dataset_owner(dataset, decision),
        "licence": dataset_licence(decision),
        "decision_form": decision_form
        or DecisionForm(
            team=dataset.team_usernames,
            initial={
                "decision": decision.decision if decision else "",
                "owner": decision.owner if decision else "",
                "licence": decision.licence if decision else "",
            },
        ),
        "general_errors": general_errors or [],
        "error_rows": (errors := error_summary(rows)),
        "error_count": len(general_errors or []) + sum(len(problems) for _, _, problems in errors),
        "counts": counts,
        "confident_open": sum(1 for m in mappings if not m.is_reviewed and not m.ambiguous),
        "open_count": sum(1 for m in mappings if not m.is_reviewed),
        # What the user may do decides which buttons and forms the page shows; the services check again.
        "can_review": roles.may(request.user, roles.REVIEW),
        "can_override": roles.may(request.user, roles.OVERRIDE),
        "can_decide": roles.may(request.user, roles.DECIDE),
        "column_types": vocabulary.all_column_types(),
        "paths": [mapping.legacy_path for mapping in mappings],
        "title": f"Review mappings: {dataset.name}",
        "latest_run": ConversionRun.objects.filter(dataset=dataset).first(),
        "latest_package": ConversionRun.objects.filter(dataset=dataset).succeeded().first(),
    }


def error_summary(rows: list[Row]) -> list[tuple[int, str, list[str]]]:
    """Per mapping with errors after a save: its id, legacy path and each problem with the field's label first."""
    summary = []
    for row in rows:
        form = row.form
        if form is None or not form.is_bound or not form.errors:
            continue
        problems = [
            f"{form[name].label}: {message}" if name in form.fields else str(message)
            for name, messages in form.errors.items()
            for message in messages
        ]
        summary.append((row.mapping.pk, row.mapping.legacy_path, problems))
    return summary


def invalid_fields(rows: list[Row]) -> list[str]:
    """The names of the inputs whose values the forms refuse, for the page to mark while the curator types."""
    return [
        row.form.add_prefix(name)
        for row in rows
        if row.form is not None and row.form.is_bound
        for name in row.form.errors
        if name in row.form.fields
    ]


def check_rows(rows: list[Row]) -> list[str]:
    """The rules the save applies (conversion.review.mapping_rules), run on the page's unsaved forms so a curator
    sees a refused edit while typing: a form's own errors go on its fields; the dataset's rules are returned."""
    forms = [row for row in rows if row.form is not None and row.form.is_bound]
    targets = {row.mapping.legacy_path: row.mapping.current_target for row in rows}
    for row in forms:
        assert row.form is not None
        if row.form.is_valid():
            targets[row.mapping.legacy_path] = row.form.target_data()
    for row in forms:
        assert row.form is not None
        if not row.form.is_valid():
            continue
        target, mapping = targets[row.mapping.legacy_path], row.mapping
        errors = mapping_rules.validate_target(
            target, path=mapping.legacy_path, paths=list(targets), samples=mapping.samples, source=mapping.source
        )
        for name, messages in errors.items():
            for message in messages:
                row.form.add_error(name if name in row.form.fields else None, message)
    live = {
        row.mapping.legacy_path: targets[row.mapping.legacy_path]
        for row in rows
        if row.mapping.status != DimensionMapping.Status.DROPPED
    }
    return mapping_rules.validate_dataset(live, override=False)
