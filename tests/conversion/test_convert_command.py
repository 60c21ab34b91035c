"""The `convert` command: one line per dataset, a summary, exit status 2 when some failed, and `--all-approved`
leaving alone the datasets converted since their last change."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conversion import runs
from conversion.models import ConversionRun, DimensionMapping
from conversion.packaging.build import build_package
from conversion.review import services
from datasets.models import LegacyDataset
from tests.factories import mapping

pytestmark = pytest.mark.django_db
TWO = ["lindenau-haushalt", "northfield-spending-2014"]


def convert(*args):
    out = StringIO()
    call_command("convert", *args, "--sync", stdout=out)
    return out.getvalue()


@pytest.fixture
def two_approved(proposed, curator):
    for item in DimensionMapping.objects.filter(dataset__name__in=TWO).open():
        services.mapping_approve(mapping=item, reviewer=curator)
    return {dataset.name: dataset for dataset in LegacyDataset.objects.filter(name__in=TWO)}


def test_a_failed_conversion_exits_2_after_the_other_datasets_are_converted(two_approved, monkeypatch):
    def fails_for_lindenau(plan, out):
        if plan.meta.name == "lindenau-haushalt":
            raise ValueError("the archived file is unreadable")
        return build_package(plan, out)

    monkeypatch.setattr("conversion.runs.build_package", fails_for_lindenau)
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("convert", *TWO, "--sync", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[1/2] lindenau-haushalt: failed: ") and "unreadable" in lines[0]
    assert lines[1].startswith("[2/2] northfield-spending-2014: built from sources, 18 rows")
    assert lines[2] == "2 datasets: 1 converted, 1 failed"
    assert str(failure.value) == "1 of 2 datasets failed (see above)"
    assert failure.value.returncode == 2
    assert ConversionRun.objects.get(dataset__name="northfield-spending-2014").status == ConversionRun.Status.SUCCEEDED


def test_nothing_to_convert_says_so_in_one_line(proposed):
    assert convert("--all-approved").splitlines() == [
        "nothing to convert: no dataset has every mapping reviewed (and one approved)"
    ]


def test_all_approved_leaves_alone_a_dataset_converted_since_its_last_change(two_approved):
    convert("--all-approved")
    first = {run.dataset.name: run.pk for run in ConversionRun.objects.select_related("dataset")}

    output = convert("--all-approved")

    assert output.splitlines() == [
        f"[1/2] lindenau-haushalt: unchanged since conversion run {first['lindenau-haushalt']}, not converted again",
        f"[2/2] northfield-spending-2014: unchanged since conversion run {first['northfield-spending-2014']}, "
        "not converted again",
        "2 datasets: 2 unchanged",
    ]
    assert ConversionRun.objects.count() == 2


def reapprove_a_mapping(dataset, curator, migration_admin):
    services.mapping_reopen(mapping=mapping(dataset, "amount"), admin=migration_admin, reason="check the currency")
    services.mapping_approve(mapping=mapping(dataset, "amount"), reviewer=curator)


def choose_another_owner(dataset, curator, migration_admin):
    services.dataset_set_owner(dataset=dataset, owner="fbecker", admin=migration_admin, reason="she keeps it now")


def reimport(dataset, curator, migration_admin):
    dataset.save()  # what an import that found the dataset changed does


@pytest.mark.parametrize("change", [reapprove_a_mapping, choose_another_owner, reimport])
def test_a_change_to_what_a_package_is_built_from_converts_that_dataset_again(
    two_approved, curator, migration_admin, change
):
    convert("--all-approved")
    change(two_approved["lindenau-haushalt"], curator, migration_admin)

    output = convert("--all-approved")

    assert output.splitlines()[0].startswith("[1/2] lindenau-haushalt: built from sources")
    assert output.splitlines()[-1] == "2 datasets: 1 converted, 1 unchanged"


def test_an_accepted_mismatch_does_not_count_as_a_change(two_approved, migration_admin):
    convert("--all-approved")
    run = ConversionRun.objects.get(dataset__name="lindenau-haushalt")
    ConversionRun.objects.filter(pk=run.pk).update(reconciliation_status=ConversionRun.Reconciliation.MISMATCH)
    run.refresh_from_db()
    runs.reconciliation_accept(run=run, admin=migration_admin, reason="the legacy total double-counted a row")

    assert "lindenau-haushalt: unchanged since conversion run" in convert("--all-approved")
    assert ConversionRun.objects.count() == 2


def test_named_datasets_and_force_convert_even_when_up_to_date(two_approved):
    convert("--all-approved")

    assert convert("lindenau-haushalt").splitlines()[-1] == "1 dataset: 1 converted"
    assert convert("--all-approved", "--force").splitlines()[-1] == "2 datasets: 2 converted"
    assert ConversionRun.objects.count() == 5
