"""Writes of the review workflow: proposing mappings, curator review, admin decisions. Every change leaves a trace."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from conversion.models import DatasetDecision, DimensionMapping, ReviewEvent, dataset_owner
from conversion.review import mapping_rules, proposals
from conversion.source_data import read_source_data
from datasets.models import LegacyDataset
from migration_site.lib import roles
from migration_site.lib.licences import LICENCES

EDITABLE_KEYS = ("column_type", "field", "title", "labelfor", "parent", "primary_key", "options", "keep_empty")


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
    if not dataset.normalised_model or not dataset.normalised_model.get("mapping"):
        return ProposeResult(dataset.name, "no model")
    source = read_source_data(dataset)
    facts = proposals.DatasetFacts(
        name=dataset.name,
        label=dataset.label,
        currency=dataset.currency,
        category=str(dataset.normalised_model.get("dataset", {}).get("category") or dataset.category),
        model=dataset.normalised_model,
        samples=source.samples,
        source_columns=source.columns,
        sample_rows=len(source.rows),
    )
    found = proposals.propose(facts, threshold=threshold or settings.MAPPING_CONFIDENCE_THRESHOLD)
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
    if mapping.status == DimensionMapping.Status.REJECTED:
        raise ValidationError("rejected: a migration admin must reopen it first")
    with transaction.atomic():
        before = mapping.status
        mapping.approve(reviewer=reviewer)
        _trace(mapping, ReviewEvent.Action.APPROVED, reviewer, {"status": before}, {"status": mapping.status}, "")


def mapping_reject(*, mapping: DimensionMapping, reviewer: Any, reason: str) -> None:
    roles.require(reviewer, roles.REVIEW)
    if not reason.strip():
        raise ValidationError({"reason": "say why the mapping is rejected"})
    if mapping.is_reviewed:
        raise ValidationError(f"already {mapping.status}: a migration admin must reopen it first")
    with transaction.atomic():
        before = mapping.status
        mapping.reject(reviewer=reviewer, reason=reason.strip())
        _trace(mapping, ReviewEvent.Action.REJECTED, reviewer, {"status": before}, {"status": mapping.status}, reason)


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
        m.legacy_path: m.current_target for m in mappings.values() if m.status != DimensionMapping.Status.REJECTED
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
            target, path=mapping.legacy_path, paths=list(targets), samples=mapping.samples
        )
        if field_errors:
            errors[pk] = field_errors
        targets[mapping.legacy_path] = target
        edited.append((mapping, target))
    general = mapping_rules.validate_dataset(targets, override=override_required)
    if errors or general:
        raise MappingErrors(errors, general)
    with transaction.atomic():
        for mapping, target in edited:
            before = mapping.current_target
            mapping.edit(target=target, editor=editor)
            _trace(mapping, ReviewEvent.Action.EDITED, editor, before, target, reason)
    return [mapping for mapping, _ in edited]


def mapping_update(*, mapping: DimensionMapping, data: Mapping[str, Any], editor: Any, reason: str) -> None:
    """Edit one mapping (validated with the rest of its dataset)."""
    dataset_mappings_update(dataset=mapping.dataset, changes={mapping.pk: data}, editor=editor, reason=reason)
    mapping.refresh_from_db()


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
    return target


# -- admin decisions ------------------------------------------------------------------------------------------------


def dataset_decide(*, dataset: LegacyDataset, decision: str, admin: Any, reason: str) -> DatasetDecision:
    roles.require(admin, roles.DECIDE)
    if decision not in DatasetDecision.Choice.values:
        raise ValidationError({"decision": f"choose one of: {', '.join(DatasetDecision.Choice.values)}"})
    if not reason.strip():
        raise ValidationError({"reason": "say why"})
    with transaction.atomic():
        record, _ = DatasetDecision.objects.select_for_update().get_or_create(dataset=dataset)
        before = record.decision or None
        record.decision = decision
        record.reason = reason.strip()
        record.decided_by = admin
        record.decided_at = timezone.now()
        record.save(update_fields=["decision", "reason", "decided_by", "decided_at"])
        ReviewEvent.objects.create(
            dataset=dataset,
            subject="decision",
            action=ReviewEvent.Action.DECIDED,
            before={"decision": before},
            after={"decision": decision},
            user=admin,
            reason=reason.strip(),
        )
    return record


def dataset_set_owner(*, dataset: LegacyDataset, owner: str, admin: Any, reason: str) -> DatasetDecision:
    roles.require(admin, roles.DECIDE)
    team = dataset.team_usernames
    if owner and owner not in team:
        raise ValidationError({"owner": f"'{owner}' is not in the dataset's team ({', '.join(team) or 'none'})"})
    with transaction.atomic():
        record, _ = DatasetDecision.objects.select_for_update().get_or_create(dataset=dataset)
        before = dataset_owner(dataset, record)
        record.owner = owner
        record.save(update_fields=["owner"])
        ReviewEvent.objects.create(
            dataset=dataset,
            subject="owner",
            action=ReviewEvent.Action.OWNER_SET,
            before={"owner": before},
            after={"owner": dataset_owner(dataset, record)},
            user=admin,
            reason=reason,
        )
    return record


def dataset_set_licence(*, dataset: LegacyDataset, licence: str, admin: Any, reason: str) -> DatasetDecision:
    """Choose the dataset's licence ("": PACKAGE_LICENSE); the next conversion writes it into the package. Nothing is
    recorded when the choice is the one already made."""
    roles.require(admin, roles.DECIDE)
    if licence and licence not in LICENCES:
        raise ValidationError({"licence": f"'{licence}' is not a known licence ({', '.join(LICENCES)})"})
    with transaction.atomic():
        record, _ = DatasetDecision.objects.select_for_update().get_or_create(dataset=dataset)
        before = record.licence
        if before == licence:
            return record
        record.licence = licence
        record.save(update_fields=["licence"])
        ReviewEvent.objects.create(
            dataset=dataset,
            subject="licence",
            action=ReviewEvent.Action.LICENCE_SET,
            before={"licence": before or None},  # None: the site's default (PACKAGE_LICENSE)
            after={"licence": licence or None},
            user=admin,
            reason=reason,
        )
    return record


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
