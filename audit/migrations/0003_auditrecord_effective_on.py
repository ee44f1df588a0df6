"""The date an act took effect, beside the time it was recorded (SPEC §9).

Nullable: records written before it have none, and their hashes (which never included it) stay valid;
audit.services hashes the column only when it is set. The append-only triggers are installed again
afterwards in both directions, since SQLite drops them whenever it rebuilds the table (see 0002).
"""
import importlib

from django.db import migrations, models


_triggers = importlib.import_module("audit.migrations.0002_append_only_triggers")


def reinstall_triggers(apps, schema_editor):
    _triggers.remove_triggers(apps, schema_editor)
    _triggers.install_triggers(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, reinstall_triggers),
        migrations.AddField(
            model_name="auditrecord",
            name="effective_on",
            field=models.DateField(blank=True, null=True, verbose_name="生效日期"),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
