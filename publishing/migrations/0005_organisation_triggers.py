"""data.json names each package's publisher from the organisations (conversion.Organisation, OrganisationOwner) when
it is rendered, so a change to them must raise the catalogue version like a change to a package (migration 0003): the
documents' validators are then worked out again, and data.json's include the organisations (publishing/discovery.py).
"""

from typing import Any

from django.db import migrations

STATE = "publishing_catalogstate"
WATCHED = ["conversion_organisation", "conversion_organisationowner"]
EVENTS = ["INSERT", "UPDATE", "DELETE"]
BUMP = f"UPDATE {STATE} SET version = version + 1 WHERE id = 1"


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for table in WATCHED:
        if vendor == "postgresql":  # publishing_catalog_bump() is migration 0003's
            schema_editor.execute(
                f"CREATE TRIGGER {table}_catalog AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION publishing_catalog_bump()"
            )
        elif vendor == "sqlite":
            for event in EVENTS:
                name = f"{table}_catalog_{event.lower()}"
                schema_editor.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END")
        else:
            raise RuntimeError(f"no catalogue triggers for the {vendor} database")


def drop(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for table in WATCHED:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_catalog ON {table}")
        else:
            for event in EVENTS:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_catalog_{event.lower()}")


class Migration(migrations.Migration):
    dependencies = [
        ("conversion", "0008_organisations_and_licence"),
        ("publishing", "0004_publication_run_heartbeat"),
    ]

    operations = [migrations.RunPython(create, drop)]
