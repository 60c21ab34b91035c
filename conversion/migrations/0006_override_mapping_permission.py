"""A permission of its own for what only migration admins do to mappings: reopen a reviewed one, and save edits that
break the one-measure-one-date rule. Granted to the Migration admins group, which is a bundle of permissions."""

from django.db import migrations

PERMISSION = ("conversion", "override_dimensionmapping")


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; this migration needs this one now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    permission_model = apps.get_model("auth", "Permission")
    app_label, codename = PERMISSION
    permission = permission_model.objects.get(content_type__app_label=app_label, codename=codename)
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Migration admins")
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    app_label, codename = PERMISSION
    for group in apps.get_model("auth", "Group").objects.filter(name="Migration admins"):
        group.permissions.remove(*permission_model.objects.filter(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("conversion", "0005_job_dashboard_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="dimensionmapping",
            options={
                "ordering": ["dataset__name", "position", "legacy_path"],
                "permissions": [
                    ("review_dimensionmapping", "Can approve and reject dimension mappings"),
                    (
                        "override_dimensionmapping",
                        "Can reopen reviewed mappings and override the one-measure-one-date rule",
                    ),
                ],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
