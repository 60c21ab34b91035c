"""Organisations (the publishers of packages, by owner) and a licence per dataset decision, with its trail action."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('conversion', '0007_conversion_run_not_convertible'),
    ]

    operations = [
        migrations.AddField(
            model_name='datasetdecision',
            name='licence',
            field=models.CharField(blank=True, help_text='A licence id; empty: PACKAGE_LICENSE.', max_length=32),
        ),
        migrations.AlterField(
            model_name='reviewevent',
            name='action',
            field=models.CharField(choices=[('proposed', 'proposed'), ('edited', 'edited'), ('approved', 'approved'), ('rejected', 'rejected'), ('reopened', 'reopened'), ('decided', 'decided'), ('owner_set', 'owner set'), ('licence_set', 'licence set')], max_length=16),
        ),
        migrations.AlterField(
            model_name='reviewevent',
            name='subject',
            field=models.CharField(help_text="The mapping's legacy path, or 'decision' / 'owner' / 'licence'.", max_length=300),
        ),
        migrations.CreateModel(
            name='Organisation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=300, unique=True)),
                ('url', models.URLField(blank=True, help_text='Its web site (optional).', max_length=500)),
                ('email', models.EmailField(blank=True, help_text='Contact for its packages in data.json; empty: PUBLIC_CONTACT_EMAIL.', max_length=254)),
                ('is_default', models.BooleanField(default=False, help_text='Publisher of the packages whose owner belongs to no organisation (at most one).')),
            ],
            options={
                'ordering': ['name'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('is_default', True)), fields=('is_default',), name='one_default_organisation', violation_error_message='Another organisation is already the default: untick it there first.')],
            },
        ),
        migrations.CreateModel(
            name='OrganisationOwner',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('owner', models.CharField(help_text='The user name that owns packages (`<owner>/<name>/` in the store).', max_length=255, unique=True)),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='owners', to='conversion.organisation')),
            ],
            options={
                'ordering': ['owner'],
            },
        ),
    ]
