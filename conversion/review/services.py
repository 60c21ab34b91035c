"""Writes of the review workflow: proposing mappings, curator review, admin decisions. Every change leaves a trace."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from conversion.models import DimensionMapping, ReviewEvent
from conversion.packaging import number_formats
from conversion.review import mapping_rules, proposals
from conversion.review.decisions import OwnerGroups as OwnerGroups  # re-exported: the decisions are services too
from conversion.review.decisions import dataset_decide as dataset_decide
from conversion.review.decisions import dataset_set_licence as dataset_set_licence
from conversion.review.decisions import dataset_set_owner as dataset_set_owner
from conversion.review.decisions import owner_groups as owner_groups
from conversion.review.draft_models import NO_MODEL_REASON, draft_model
from conversion.source_data import read_source_data
from datasets.models import LegacyDataset
from migration_site.lib import roles

EDITABLE_KEYS = (
    "column_type",
    "field",
    "title",
    "labelfor",
    "parent",
    "primary_key",
    "options",
    "keep_empty",
    "default_value",
    "number_format",
)


class MappingErrors(ValidationError):
    """Refused hand edits: errors per mapping id and form field, and dataset-wide ones."""

    def __init__(self, per_mapping: dict[int, dict[str, list[str]]], general: list[str]) -> None:
        messages = [
            f"{field}: {message}"
            for fields in per_mapping.values()
            for field, items in fields.items()
            for message in items
        ] + general
        super().__init__(messages)
        self.per_mapping = per_mapping
        self.general = general


@dataclass
class ProposeResult:
    dataset: str
    action: str  # "proposed", "kept" (a curator already reviewed), "no model"
    proposed: int = 0
    ambiguous: int = 0
    problems: list[str] = field(default_factory=list)


# -- proposing ------------------------------------------------------------------------------------------------------


def mappings_propose(*, dataset: LegacyDataset, threshold: float | None = None) -> ProposeResult:
    """Propose mappings for a dataset no curator has touched yet; a reviewed dataset is left as it is."""
    if DimensionMapping.objects.filter(dataset=dataset).exclude(status=DimensionMapping.Status.PROPOSED).exists():
        return ProposeResult(dataset.name, "kept")
    source = read_source_data(dataset)
    model = dataset.normalised_model if dataset.normalised_model and dataset.normalised_model.get("mapping") else None
    if model is None and not source.rows:
        return ProposeResult(dataset.name, "no model")
    facts = proposals.DatasetFacts(
        name=dataset.name,
        label=dataset.label,
        currency=dataset.currency,
        category=str((model or {}).get("dataset", {}).get("category") or dataset.category),
        # A draft of the legacy platform (sources, no model): a model drawn from its columns, every proposal doubted.
        model=model or draft_model(source.columns, source.samples),
        samples=source.samples,
        source_columns=source.columns,
        sample_rows=len(source.rows),
    )
    found = proposals.propose(facts, threshold=threshold or settings.MAPPING_CONFIDENCE_THRESHOLD)
    if model is None:
        found = [replace(item, ambiguous=True, reasons=(NO_MODEL_REASON, *item.reasons)) for item in found]
    with transaction.atomic():
        DimensionMapping.objects.filter(dataset=dataset).delete()
        DimensionMapping.objects.bulk_create([_mapping_of(dataset, proposal) for proposal in found])
        ReviewEvent.objects.create(
            dataset=dataset,
            subject="mappings",
            action=ReviewEvent.Action.PROPOSED,
            after={"count": len(found), "ambiguous": sum(p.ambiguous for p in found)},
            reason="proposed by the engine",
        )
    return ProposeResult(
        dataset.name, "proposed", len(found), sum(p.ambiguous for p in found), problems=source.problems
    )


def _mapping_of(dataset: LegacyDataset, proposal: proposals.Proposal) -> DimensionMapping:
    return DimensionMapping(
        dataset=dataset,
        legacy_path=proposal.legacy_path,
        kind=proposal.kind,
        position=proposal.position,
        source=proposal.source,
        proposed_target=proposal.target,
        current_target=proposal.target,
        confidence=proposal.confidence,
        reasons=list(proposal.reasons),
        samples=list(proposal.samples),
        ambiguous=proposal.ambiguous,
    )


# -- curator review -------------------------------------------------------------------------------------------------


def mapping_approve(*, mapping: DimensionMapping, reviewer: Any) -> None:
    roles.require(reviewer, roles.REVIEW)
    if mapping.status == DimensionMapping.Status.APPROVED:
        raise ValidationError("already approved")
    if mapping.status == DimensionMapping.Status.DROPPED:
        raise ValidationError("dropped from the package: a migration admin must reopen it first")
    if _own_send_back(mapping, reviewer):
        raise ValidationError("you sent it back: another curator or a migration admin approves it")
    with transaction.atomic():
        before = mapping.status
        mapping.approve(reviewer=reviewer)
        _trace(mapping, ReviewEvent.Action.APPROVED, reviewer, {"status": before}, {"status": mapping.status}, "")


def mapping_drop(*, mapping: DimensionMapping, reviewer: Any, reason: str) -> None:
    """Leave the mapping's legacy column out of the package, for good: the package page lists it as dropped."""
    roles.require(reviewer, roles.REVIEW)
    if not reason.strip():
        raise ValidationError({"reason": "say why the column is left out of the package"})
    if mapping.is_reviewed:
        raise ValidationError(f"already {mapping.get_status_display()}: a migration admin must reopen it first")
    if _own_send_back(mapping, reviewer):
        raise ValidationError("you sent it back: another curator or a migration admin decides what becomes of it")
    with transaction.atomic():
        before = mapping.status
        mapping.drop(reviewer=reviewer, reason=reason.strip())
        _trace(mapping, ReviewEvent.Action.DROPPED, reviewer, {"status": before}, {"status": mapping.status}, reason)


def mapping_send_back(*, mapping: DimensionMapping, reviewer: Any, reason: str) -> None:
    """The proposal is wrong and this curator cannot settle it: it waits, first in the queue, for another curator
    or a migration admin. Its column stays in the package's plan; nothing converts until it is decided."""
    roles.require(reviewer, roles.REVIEW)
    if not reason.strip():
        raise ValidationError({"reason": "say what is wrong with the proposal"})
    if mapping.is_reviewed:
        raise ValidationError(f"already {mapping.get_status_display()}: a migration admin must reopen it first")
    if mapping.status == DimensionMapping.Status.SENT_BACK:
        raise ValidationError("already sent back")
    with transaction.atomic():
        before = mapping.status
        mapping.send_back(reviewer=reviewer, reason=reason.strip())
        _trace(mapping, ReviewEvent.Action.SENT_BACK, reviewer, {"status": before}, {"status": mapping.status}, reason)


def _own_send_back(mapping: DimensionMapping, user: Any) -> bool:
    """Whether `user` sent the mapping back and may not settle it alone (a migration admin may)."""
    sent_back = mapping.status == DimensionMapping.Status.SENT_BACK and mapping.reviewer_id == getattr(user, "pk", None)
    return sent_back and not roles.may(user, roles.OVERRIDE)


def mapping_reopen(*, mapping: DimensionMapping, admin: Any, reason: str) -> None:
    roles.require(admin, roles.OVERRIDE)
    if not mapping.is_reviewed:
        raise ValidationError("only an approved or rejected mapping can be reopened")
    with transaction.atomic():
        before = mapping.status
        mapping.reopen()
        _trace(mapping, ReviewEvent.Action.REOPENED, admin, {"status": before}, {"status": mapping.status}, reason)


def dataset_mappings_update(
    *,
    dataset: LegacyDataset,
    changes: Mapping[int, Mapping[str, Any]],
    editor: Any,
    reason: str,
    override_required: bool = False,
) -> list[DimensionMapping]:
    """Apply hand edits to several mappings of one dataset at once, validated together.

    Raises MappingErrors: {mapping id: {field: [errors]}} and the dataset-wide errors.
    """
    roles.require(editor, roles.REVIEW)
    if override_required:
        roles.require(editor, roles.OVERRIDE)
    mappings = {mapping.pk: mapping for mapping in DimensionMapping.objects.filter(dataset=dataset)}
    targets = {
        m.legacy_path: m.current_target for m in mappings.values() if m.status != DimensionMapping.Status.DROPPED
    }
    errors: dict[int, dict[str, list[str]]] = {}
    edited = []
    for pk, data in changes.items():
        mapping = mappings.get(pk)
        if mapping is None:
            raise ValidationError(f"mapping {pk} is not part of {dataset.name}")
        target = _target_from(mapping, data)
        if target == mapping.current_target:
            continue
        if mapping.is_reviewed:
            errors[pk] = {"__all__": [f"{mapping.status}: read-only"]}
            continue
        field_errors = mapping_rules.validate_target(
            target, path=mapping.legacy_path, paths=list(targets), samples=mapping.samples, source=mapping.source
        )
        if field_errors:
            errors[pk] = field_errors
        targets[mapping.legacy_path] = target
        edited.append((mapping, target))
    general = mapping_rules.validate_dataset(targets, override=override_required)
    if edited and not reason.strip():
        general.append("say why you made these edits: the reason goes into the review trail with them")
    if errors or general:
        raise MappingErrors(errors, general)
    with transaction.atomic():
        for mapping, target in edited:
            before = mapping.current_target
            mapping.edit(target=target, editor=editor)
            _trace(mapping, ReviewEvent.Action.EDITED, editor, before, target, reason)
    return [mapping for mapping, _ in edited]


def dataset_review_submit(
    *,
    dataset: LegacyDataset,
    changes: Mapping[int, Mapping[str, Any]],
    editor: Any,
    reason: str,
    override_required: bool = False,
    act: tuple[str, int, str] | None = None,
) -> tuple[list[DimensionMapping], DimensionMapping | None]:
    """The review page's one POST: save every edit on the page, then act on the mapping whose button was pressed
    (`act`: "approve", "drop" or "send_back", its id, the reason the card gave), all or nothing. So Approve
    approves what the curator sees, edits included, and no button loses edits. Returns (edited, acted on)."""
    with transaction.atomic():
        edited = dataset_mappings_update(
            dataset=dataset, changes=changes, editor=editor, reason=reason, override_required=override_required
        )
        if act is None:
            return edited, None
        action, pk, why = act
        mapping = DimensionMapping.objects.filter(dataset=dataset, pk=pk).first()
        if mapping is None:
            raise ValidationError(f"mapping {pk} is not part of {dataset.name}")
        if action == "approve":
            mapping_approve(mapping=mapping, reviewer=editor)
        elif action == "drop":
            mapping_drop(mapping=mapping, reviewer=editor, reason=why)
        elif action == "send_back":
            mapping_send_back(mapping=mapping, reviewer=editor, reason=why)
        else:
            raise ValidationError(f"unknown action {action!r}")
    return edited, mapping


def mapping_update(*, mapping: DimensionMapping, data: Mapping[str, Any], editor: Any, reason: str) -> None:
    """Edit one mapping (validated with the rest of its dataset)."""
    dataset_mappings_update(dataset=mapping.dataset, changes={mapping.pk: data}, editor=editor, reason=reason)
    mapping.refresh_from_db()


def mappings_approve_open(
    *, mappings: Iterable[DimensionMapping], reviewer: Any
) -> tuple[list[DimensionMapping], list[tuple[DimensionMapping, str]]]:
    """Approve every unreviewed one, ambiguous ones included (the page asked for a confirmation that lists them);
    return (approved, [(refused, why)])."""
    roles.require(reviewer, roles.REVIEW)
    approved, refused = [], []
    for mapping in mappings:
        if mapping.is_reviewed:
            refused.append((mapping, f"already {mapping.status}"))
            continue
        mapping_approve(mapping=mapping, reviewer=reviewer)
        approved.append(mapping)
    return approved, refused


def mappings_approve_confident(
    *, mappings: Iterable[DimensionMapping], reviewer: Any
) -> tuple[list[DimensionMapping], list[tuple[DimensionMapping, str]]]:
    """Approve the confident, unreviewed ones; return (approved, [(refused, why)])."""
    roles.require(reviewer, roles.REVIEW)
    approved, refused = [], []
    for mapping in mappings:
        why = approval_refusal(mapping)
        if why:
            refused.append((mapping, why))
            continue
        mapping_approve(mapping=mapping, reviewer=reviewer)
        approved.append(mapping)
    return approved, refused


def approval_refusal(mapping: DimensionMapping) -> str:
    """Why bulk approval would skip this mapping; empty when it would approve it."""
    if mapping.is_reviewed:
        return f"already {mapping.status}"
    if mapping.ambiguous:
        return "ambiguous: a curator must look at it"
    return ""


def _target_from(mapping: DimensionMapping, data: Mapping[str, Any]) -> dict[str, Any]:
    target = dict(mapping.current_target)
    for key in EDITABLE_KEYS:
        if key in data:
            target[key] = data[key]
    target["labelfor"] = target.get("labelfor") or None
    target["parent"] = target.get("parent") or None
    target["primary_key"] = bool(target.get("primary_key"))
    if not target.get("keep_empty"):
        target.pop("keep_empty", None)  # absent and off are the same choice: no edit without a change
    # The legacy model's default and number format stand unless the curator chose others: only a change is kept.
    if "default_value" in target and target["default_value"] == mapping.source.get("default_value"):
        del target["default_value"]
    if target.get("number_format") in (None, list(number_formats.LEGACY)):
        target.pop("number_format", None)
    return target


def _trace(mapping: DimensionMapping, action: str, user: Any, before: Any, after: Any, reason: str) -> None:
    ReviewEvent.objects.create(
        dataset=mapping.dataset,
        mapping=mapping,
        subject=mapping.legacy_path,
        action=action,
        before=before,
        after=after,
        user=user,
        reason=reason,
    )
