"""The catalogue version (models.CatalogState) and the triggers that raise it.

PostgreSQL gets statement-level triggers (one bump per statement, so a bulk update of 10,000 rows is one bump);
SQLite has row-level triggers only. `UPDATE OF` limits the dataset and decision triggers to the columns that decide
visibility; on PostgreSQL and SQLite it fires when the column is in the SET list, which Django's save() always puts.
"""

from typing import Any

from django.db import migrations, models

STATE = "publishing_catalogstate"
WATCHED = [  # (table, events)
    ("publishing_publishedpackage", "INSERT OR UPDATE OR DELETE"),
    ("conversion_datasetdecision", "INSERT OR UPDATE OF decision OR DELETE"),
    ("datasets_legacydataset", "UPDATE OF private, is_incomplete OR DELETE"),
    ("conversion_conversionrun", "UPDATE OF reconciliation_status, accepted_at"),  # a package page shows them
]
BUMP = f"UPDATE {STATE} SET version = version + 1 WHERE id = 1"


def _sqlite_statements() -> list[str]:
    statements = []
    for table, events in WATCHED:
        for event in events.split(" OR "):
            name = f"{table}_catalog_{event.split()[0].lower()}"
            statements.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END")
    return statements


def _postgresql_statements() -> list[str]:
    statements = [
        "CREATE OR REPLACE FUNCTION publishing_catalog_bump() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
    ]
    for table, events in WATCHED:
        statements.append(
            f"CREATE TRIGGER {table}_catalog AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION publishing_catalog_bump()"
        )
    return statements


def create(apps: Any, schema_editor: Any) -> None:
    apps.get_model("publishing", "CatalogState").objects.using(schema_editor.connection.alias).create(pk=1)
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": _sqlite_statements, "postgresql": _postgresql_statements}.get(vendor)
    if statements is None:
        raise RuntimeError(f"no catalogue triggers for the {vendor} database")
    for statement in statements():
        schema_editor.execute(statement)


def drop(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for table, events in WATCHED:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_catalog ON {table}")
        else:
            for event in events.split(" OR "):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_catalog_{event.split()[0].lower()}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS publishing_catalog_bump()")


class Migration(migrations.Migration):
    dependencies = [
        ("conversion", "0004_run_permissions"),
        ("datasets", "0001_initial"),
        ("publishing", "0002_publication_targets_and_uploads"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create, drop),
    ]
