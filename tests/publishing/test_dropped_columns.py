"""Dropping a column is explicit and its consequence shows (issue 12, item 4): the package leaves the legacy column
out, and its page lists it as a dropped legacy column with the curator's reason; a mapping sent back holds the
conversion until someone else decides."""

from io import StringIO

import pytest
from django.core.management import call_command
from lxml import html  # type: ignore[import-untyped]

from conversion.models import ConversionRun, DimensionMapping
from conversion.plan import convertible_problem
from conversion.review import services
from migration_site.lib import roles
from publishing.models import PublishedPackage
from tests.factories import make_user
from tests.publishing.conftest import publish

pytestmark = pytest.mark.django_db
NAME = "lindenau-haushalt"


def reopened(converted, migration_admin, path: str) -> DimensionMapping:
    item = DimensionMapping.objects.get(dataset=converted[NAME], legacy_path=path)
    services.mapping_reopen(mapping=item, admin=migration_admin, reason="second look")
    return DimensionMapping.objects.get(pk=item.pk)


def test_a_dropped_column_is_left_out_and_listed_on_the_package_page(client, converted, curator, migration_admin):
    dezernat = reopened(converted, migration_admin, "produktbereich.dezernat")
    services.mapping_drop(mapping=dezernat, reviewer=curator, reason="the departments were reorganised in 2015")
    call_command("convert", NAME, "--sync", stdout=StringIO())
    run = ConversionRun.objects.filter(dataset=converted[NAME]).first()
    assert run is not None and run.status == ConversionRun.Status.SUCCEEDED

    publish(NAME)
    package = PublishedPackage.objects.get(name=NAME)
    fields = [field["name"] for field in package.descriptor["resources"][0]["schema"]["fields"]]
    assert dezernat.field_name not in fields
    assert package.descriptor["provenance"]["dropped_columns"] == [
        {
            "path": "produktbereich.dezernat",
            "column": "Dezernat",
            "reason": "the departments were reorganised in 2015",
            "by": curator.username,
        }
    ]
    page = html.fromstring(client.get(f"/packages/{package.owner}/{package.name}/").content)
    listed = page.get_element_by_id("dropped-title").getnext().getnext().text_content()
    assert listed == "produktbereich.dezernat (source column Dezernat): the departments were reorganised in 2015"


def test_a_mapping_sent_back_holds_the_conversion_until_someone_else_decides(converted, curator, migration_admin):
    time = reopened(converted, migration_admin, "time")
    services.mapping_send_back(mapping=time, reviewer=curator, reason="is it the fiscal year?")
    assert convertible_problem(converted[NAME]) == "1 mapping(s) still wait for a curator"
    other = make_user("olga", group=roles.CURATORS)
    services.mapping_approve(mapping=DimensionMapping.objects.get(pk=time.pk), reviewer=other)
    assert convertible_problem(converted[NAME]) == ""
