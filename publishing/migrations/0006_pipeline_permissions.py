"""Publication runs and packages in the admin: curators and migration admins see them; migration admins publish and
withdraw from the admin, which asks for `publishing.add_publicationrun` (asking for a publication adds a run)."""

from django.db import migrations

CURATOR = [("publishing", "view_publicationrun"), ("publishing", "view_publishedpackage")]
ADMIN = [*CURATOR, ("publishing", "add_publicationrun")]


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


def revoke(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, wanted in (("Curators", CURATOR), ("Migration admins", ADMIN)):
        for group in group_model.objects.filter(name=name):
            for app_label, codename in wanted:
                group.permissions.remove(
                    *permission_model.objects.filter(content_type__app_label=app_label, codename=codename)
                )


class Migration(migrations.Migration):
    dependencies = [("publishing", "0005_organisation_triggers"), ("conversion", "0002_review_groups")]

    operations = [migrations.RunPython(grant, revoke)]
