"""Create the "Curators" and "Migration admins" groups with their permissions."""

from django.db import migrations

CURATOR_PERMISSIONS = [
    ("datasets", "view_legacydataset"),
    ("conversion", "view_dimensionmapping"),
    ("conversion", "change_dimensionmapping"),
    ("conversion", "review_dimensionmapping"),
    ("conversion", "view_reviewevent"),
    ("conversion", "view_datasetdecision"),
]
ADMIN_PERMISSIONS = [
    *CURATOR_PERMISSIONS,
    ("conversion", "add_datasetdecision"),
    ("conversion", "change_datasetdecision"),
    ("conversion", "decide_dataset"),
]


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; this migration needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, wanted in (("Curators", CURATOR_PERMISSIONS), ("Migration admins", ADMIN_PERMISSIONS)):
        group, _ = group_model.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            group.permissions.add(permission_model.objects.get(content_type__app_label=app_label, codename=codename))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Curators", "Migration admins"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("conversion", "0001_initial"),
        ("datasets", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
