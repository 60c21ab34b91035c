"""Migration admins edit organisations and which owners belong to them (the publisher of packages); curators do not.
Granted to the Migration admins group, which is a bundle of permissions."""

from django.db import migrations

PERMISSIONS = [
    ("conversion", f"{action}_{model}")
    for model in ("organisation", "organisationowner")
    for action in ("view", "add", "change", "delete")
]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; this migration needs these now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    permission_model = apps.get_model("auth", "Permission")
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Migration admins")
    for app_label, codename in PERMISSIONS:
        group.permissions.add(permission_model.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    codenames = [codename for _, codename in PERMISSIONS]
    for group in apps.get_model("auth", "Group").objects.filter(name="Migration admins"):
        group.permissions.remove(
            *permission_model.objects.filter(content_type__app_label="conversion", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("conversion", "0008_organisations_and_licence"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
