"""Curators see conversion runs and re-run them; migration admins also accept reconciliation mismatches."""

from django.db import migrations

CURATOR = [("conversion", "view_conversionrun")]
ADMIN = [*CURATOR, ("conversion", "accept_reconciliation")]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, wanted in (("Curators", CURATOR), ("Migration admins", ADMIN)):
        group, _ = group_model.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            group.permissions.add(permission_model.objects.get(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [("conversion", "0003_conversion_runs"), ("conversion", "0002_review_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
