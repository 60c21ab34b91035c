"""Privacy on the store side: a dataset that may not be public never reaches `<owner>/<dataset>/` or the registry,
and one that a decision or a re-import hides after publication leaves them at once, on moto's S3 server."""

import os

import pytest
from django.core.exceptions import ValidationError

from conversion.models import ConversionRun, DatasetDecision
from conversion.review.services import dataset_decide
from publishing import runs, store
from publishing.models import PublicationRun, PublishedPackage
from tests.publishing.conftest import PUBLIC, keys, publish, registry_ids, restore_on_s3
from tests.sample import CONVERTED, datasets_by_name

pytestmark = pytest.mark.django_db
Choice = DatasetDecision.Choice
Status = PublicationRun.Status


@pytest.fixture
def published(s3_storage, curator, sample_snapshots, settings):
    """The converted sample with lindenau-haushalt and northfield-spending-2014 published (the session's run of the
    pipeline, restored: tests/sample.py); jobs inline (embedded mode) unless a test says otherwise, so the withdrawal
    a change starts has run when the change returns."""
    settings.REDIS_URL = ""
    restore_on_s3(sample_snapshots.published, s3_storage)
    assert ConversionRun.objects.succeeded().count() == CONVERTED
    assert registry_ids(s3_storage) == ["kmueller/lindenau-haushalt", "pwright/northfield-spending-2014"]
    return datasets_by_name()


def decide(dataset, decision, admin, capture):
    with capture(execute=True):
        dataset_decide(dataset=dataset, decision=decision, admin=admin, reason="steering group, 2026-11-20")


@pytest.mark.parametrize("decision", [Choice.MIGRATE_PRIVATE, Choice.EXCLUDE])
def test_a_decision_that_hides_a_published_dataset_takes_its_files_out_at_once(
    published, s3_storage, migration_admin, django_capture_on_commit_callbacks, decision
):
    decide(published["lindenau-haushalt"], decision, migration_admin, django_capture_on_commit_callbacks)

    assert keys(s3_storage, "kmueller/") == []
    assert registry_ids(s3_storage) == ["pwright/northfield-spending-2014"]
    package = PublishedPackage.objects.get(name="lindenau-haushalt")
    assert package.withdrawn_at is not None and package.purged_at is not None
    run = PublicationRun.objects.get(action=PublicationRun.Action.WITHDRAW)
    assert run.status == Status.SUCCEEDED, run.error
    assert run.reason.startswith("may not be public: a migration admin")
    assert keys(s3_storage, "pwright/")  # the other package is untouched


def test_a_decision_to_publish_withdraws_nothing(
    published, s3_storage, migration_admin, django_capture_on_commit_callbacks
):
    decide(published["lindenau-haushalt"], Choice.MIGRATE_PUBLIC, migration_admin, django_capture_on_commit_callbacks)

    assert not PublicationRun.objects.filter(action=PublicationRun.Action.WITHDRAW).exists()
    assert "kmueller/lindenau-haushalt" in registry_ids(s3_storage)


def test_a_reimport_that_makes_the_dataset_private_withdraws_it(
    published, s3_storage, django_capture_on_commit_callbacks
):
    dataset = published["northfield-spending-2014"]
    with django_capture_on_commit_callbacks(execute=True):
        dataset.private = True  # what a newer dump says; the import saves the row like this
        dataset.save()

    assert keys(s3_storage, "pwright/") == []
    assert registry_ids(s3_storage) == ["kmueller/lindenau-haushalt"]
    assert PublicationRun.objects.get(action=PublicationRun.Action.WITHDRAW).reason == (
        "may not be public: it is private on the legacy platform and no migration admin decided to publish it"
    )


def test_a_failed_withdrawal_keeps_the_decision_and_the_next_publish_completes_it(
    published, s3_storage, migration_admin, django_capture_on_commit_callbacks, monkeypatch, client
):
    def storage_down(owner, name):
        raise OSError("S3 endpoint unreachable (test fault)")

    with monkeypatch.context() as patch:
        patch.setattr(store, "package_purge", storage_down)
        decide(
            published["lindenau-haushalt"], Choice.MIGRATE_PRIVATE, migration_admin, django_capture_on_commit_callbacks
        )

    assert DatasetDecision.objects.get(dataset=published["lindenau-haushalt"]).decision == Choice.MIGRATE_PRIVATE
    failed = PublicationRun.objects.get(action=PublicationRun.Action.WITHDRAW)
    assert failed.status == Status.FAILED and "S3 endpoint unreachable" in failed.error
    # Hidden from the public already: the row is withdrawn and the registry rebuilt before the files go.
    assert client.get("/packages/kmueller/lindenau-haushalt/").status_code == 404
    assert registry_ids(s3_storage) == ["pwright/northfield-spending-2014"]
    assert keys(s3_storage, "kmueller/")  # the files are still there

    output = publish("--all-ready")

    assert keys(s3_storage, "kmueller/") == []
    assert "lindenau-haushalt" in output
    assert PublishedPackage.objects.get(name="lindenau-haushalt").purged_at is not None


def test_private_and_incomplete_datasets_are_never_published(converted, s3_storage):
    publish("--all-ready")

    assert registry_ids(s3_storage) == sorted(
        f"{package.owner}/{package.name}" for package in PublishedPackage.objects.published()
    )
    published_names = set(PublishedPackage.objects.values_list("name", flat=True))
    assert published_names <= set(PUBLIC)
    private = converted["hafnarvik-utgjold-2013"]
    assert private.private
    with pytest.raises(ValidationError, match="may not be public: it is private on the legacy platform"):
        runs.publication_request(dataset=private, sync=True)
    everything = keys(s3_storage)
    assert not any(key.split("/")[1] == private.name for key in everything if key.count("/") >= 2
                   and not key.startswith(("packages/", "legacy/")))  # fmt: skip


def test_a_decision_made_while_the_files_go_up_takes_them_down_again(
    converted, s3_storage, migration_admin, monkeypatch
):
    dataset = converted["lindenau-haushalt"]
    real_put = store.package_put

    def put_then_decide(package):
        written = real_put(package)
        DatasetDecision.objects.update_or_create(dataset=dataset, defaults={"decision": Choice.MIGRATE_PRIVATE})
        return written

    monkeypatch.setattr(store, "package_put", put_then_decide)
    run = runs.publication_request(dataset=dataset, sync=True)

    assert run.status == Status.FAILED and "may not be public any more" in run.error
    assert keys(s3_storage, "kmueller/") == []
    assert "kmueller/lindenau-haushalt" not in registry_ids(s3_storage)
    assert not PublishedPackage.objects.published().exists()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_with_workers_the_withdrawal_is_a_job_on_the_publishing_queue(
    published, s3_storage, migration_admin, django_capture_on_commit_callbacks, settings
):
    import django_rq

    settings.REDIS_URL = os.environ["REDIS_URL"]
    queue = django_rq.get_queue("publishing")
    queue.empty()
    decide(published["lindenau-haushalt"], Choice.EXCLUDE, migration_admin, django_capture_on_commit_callbacks)

    run = PublicationRun.objects.get(action=PublicationRun.Action.WITHDRAW)
    assert run.status == Status.QUEUED and run.job_id in queue.job_ids
    assert keys(s3_storage, "kmueller/")  # not yet: a worker does it
    queue.empty()
    runs.publication_execute(run_id=run.pk)  # what the worker's job calls
    assert keys(s3_storage, "kmueller/") == []
