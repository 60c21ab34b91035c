"""A migration admin's decisions on a dataset: whether and how it is migrated, who owns it, under which licence.
Services like those of conversion.review.services (which re-exports them): keyword-only, permission-checked, each
change traced in the review trail, and no event for a change that changes nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from conversion.models import DatasetDecision, OrganisationOwner, ReviewEvent, dataset_owner
from datasets.models import LegacyDataset
from migration_site.lib import roles
from migration_site.lib.licences import LICENCES


def dataset_decide(*, dataset: LegacyDataset, decision: str, admin: Any, reason: str) -> DatasetDecision:
    roles.require(admin, roles.DECIDE)
    if decision not in DatasetDecision.Choice.values:
        raise ValidationError({"decision": f"choose one of: {', '.join(DatasetDecision.Choice.values)}"})
    if not reason.strip():
        raise ValidationError({"reason": "say why"})
    with transaction.atomic():
        record, _ = DatasetDecision.objects.select_for_update().get_or_create(dataset=dataset)
        if record.decision == decision and record.reason == reason.strip():
            return record  # decided so already, for the same reason: nothing to record
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


OwnerGroups = list[tuple[str, list[tuple[str, str]]]]


def owner_groups(team: Iterable[str]) -> OwnerGroups:
    """Who may own a dataset's package, as (group title, [(owner, label)]): the dataset's legacy team, the owners the
    organisations publish for, the site's active users. Each name once, in the first group that has it."""
    seen: set[str] = set()

    def fresh(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        kept = [(name, label) for name, label in pairs if name not in seen]
        seen.update(name for name, _ in kept)
        return kept

    owners = OrganisationOwner.objects.order_by("owner").values_list("owner", "organisation__name")
    users = get_user_model().objects.filter(is_active=True).order_by("username").values_list("username", flat=True)
    return [
        ("Legacy team", fresh((name, name) for name in team)),
        ("Organisations' owners", fresh((owner, f"{owner} ({organisation})") for owner, organisation in owners)),
        ("Site users", fresh((name, name) for name in users)),
    ]


def dataset_set_owner(*, dataset: LegacyDataset, owner: str, admin: Any, reason: str) -> DatasetDecision:
    roles.require(admin, roles.DECIDE)
    allowed = {name for _, pairs in owner_groups(dataset.team_usernames) for name, _ in pairs}
    if owner and owner not in allowed:
        raise ValidationError(
            {"owner": f"'{owner}' is neither in the dataset's team, an organisation's owner nor a user of the site"}
        )
    with transaction.atomic():
        record, _ = DatasetDecision.objects.select_for_update().get_or_create(dataset=dataset)
        if record.owner == owner:
            return record  # the choice already made: no trail event for a change that changes nothing
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
