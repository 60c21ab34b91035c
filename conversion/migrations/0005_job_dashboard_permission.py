"""Migration admins may use the job dashboard (django-rq's own permission `django_rq.admin`); curators may not."""

from django.db import migrations


def grant(apps, schema_editor):
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    group_model = apps.get_model("auth", "Group")
    # django-rq's Dashboard is unmanaged: its permission is normally created after all migrations ran.
    content_type, _ = content_type_model.objects.get_or_create(app_label="django_rq", model="dashboard")
    permission, _ = permission_model.objects.get_or_create(
        content_type=content_type, codename="admin", defaults={"name": "Access admin page"}
    )
    group, _ = group_model.objects.get_or_create(name="Migration admins")
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for group in group_model.objects.filter(name="Migration admins"):
        group.permissions.remove(*permission_model.objects.filter(content_type__app_label="django_rq", codename="admin"))


class Migration(migrations.Migration):
    dependencies = [
        ("conversion", "0004_run_permissions"),
        ("django_rq", "0003_alter_dashboard_permission_names"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
