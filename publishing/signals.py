"""A published dataset that a decision or a re-import hides leaves the store at once, not at the next `publish`.

The public site stops showing it the moment the change commits (every public query goes through `published()`);
these receivers also take its files out of the store and the registry, through a withdrawal run like any other
(a job on the `publishing` queue, or inline in embedded mode). The lower apps save the rows; they do not know that
publishing exists, so publishing listens.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from conversion.models import DatasetDecision
from datasets.models import LegacyDataset

logger = logging.getLogger(__name__)


def connect() -> None:
    post_save.connect(_decision_saved, sender=DatasetDecision, dispatch_uid="publishing-decision-saved")
    post_save.connect(_dataset_saved, sender=LegacyDataset, dispatch_uid="publishing-dataset-saved")


def _decision_saved(
    sender: type[DatasetDecision], instance: DatasetDecision, created: bool = False, **kwargs: Any
) -> None:
    # dataset_decide creates the row undecided (which hides nothing), then saves the decision: one withdrawal.
    if not created or instance.decision:
        _after_commit(instance.dataset_id)


def _dataset_saved(sender: type[LegacyDataset], instance: LegacyDataset, created: bool = False, **kwargs: Any) -> None:
    if not created:  # a new dataset has nothing published yet
        _after_commit(instance.pk)


def _after_commit(dataset_id: int) -> None:
    # robust: a failure to withdraw (storage or Redis down) is logged and left for the next `publish`, which
    # withdraws it too (privacy_enforce); the save that triggered it stands, and the site hides the package anyway.
    transaction.on_commit(partial(_withdraw_if_hidden, dataset_id), robust=True)


def _withdraw_if_hidden(dataset_id: int) -> None:
    from publishing.runs import privacy_enforce  # runs import the models this module is loaded with

    for run in privacy_enforce(dataset_id=dataset_id):
        logger.info("dataset %s may not be public any more: withdrawal run %s (%s)", dataset_id, run.pk, run.status)
