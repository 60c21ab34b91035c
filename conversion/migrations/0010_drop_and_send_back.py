"""Rejecting a mapping meant two things (the column is wrong for the package; the proposal is wrong): they are now
"dropped from the package" and "sent back". A mapping rejected before always left its column out of the package,
which is what dropping does: it becomes dropped."""

from django.db import migrations, models


def rejected_to_dropped(apps, schema_editor):
    apps.get_model("conversion", "DimensionMapping").objects.filter(status="rejected").update(status="dropped")


def dropped_to_rejected(apps, schema_editor):
    mappings = apps.get_model("conversion", "DimensionMapping").objects
    mappings.filter(status__in=["dropped", "sent_back"]).update(status="rejected")


class Migration(migrations.Migration):
    dependencies = [("conversion", "0009_organisation_permissions")]

    operations = [
        migrations.AlterField(
            model_name="dimensionmapping",
            name="status",
            field=models.CharField(
                choices=[
                    ("proposed", "proposed"),
                    ("edited", "edited"),
                    ("approved", "approved"),
                    ("dropped", "dropped from the package"),
                    ("sent_back", "sent back"),
                ],
                default="proposed",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="dimensionmapping",
            name="rejection_reason",
            field=models.TextField(blank=True, help_text="Why it was dropped from the package or sent back."),
        ),
        migrations.AlterField(
            model_name="reviewevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("proposed", "proposed"),
                    ("edited", "edited"),
                    ("approved", "approved"),
                    ("rejected", "rejected (before dropping and sending back were told apart)"),
                    ("dropped", "dropped from the package"),
                    ("sent_back", "sent back"),
                    ("reopened", "reopened"),
                    ("decided", "decided"),
                    ("owner_set", "owner set"),
                    ("licence_set", "licence set"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(rejected_to_dropped, dropped_to_rejected),
    ]
