"""The keyed hash (audit.keys): each record carries its algorithm and key id. Records already written get
"sha256" (the plain SHA-256 they were hashed with) and no key id, and still verify; new records are written
with the keyed hash. Adding a column with a default makes SQLite rebuild the table and drop its triggers, so
they are installed again afterwards (as in 0003). The published chain heads get a table of their own.
"""
import importlib

from django.db import migrations, models

_triggers = importlib.import_module("audit.migrations.0002_append_only_triggers")


def reinstall_triggers(apps, schema_editor):
    _triggers.remove_triggers(apps, schema_editor)
    _triggers.install_triggers(apps, schema_editor)



class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_auditrecord_effective_on'),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, reinstall_triggers),
        migrations.AddField(
            model_name='auditrecord',
            name='algorithm',
            field=models.CharField(default='sha256', max_length=20, verbose_name='哈希算法'),
        ),
        migrations.AddField(
            model_name='auditrecord',
            name='key_id',
            field=models.CharField(blank=True, max_length=40, verbose_name='密钥编号'),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
        migrations.CreateModel(
            name='PublishedHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('chain', models.CharField(max_length=64, verbose_name='记录链')),
                ('seq', models.PositiveBigIntegerField(verbose_name='序号')),
                ('hash', models.CharField(max_length=64, verbose_name='哈希')),
                ('published_at', models.DateTimeField(verbose_name='发布时间')),
            ],
            options={
                'verbose_name': '已发布的链头',
                'verbose_name_plural': '已发布的链头',
                'ordering': ['chain', '-published_at', '-pk'],
                'indexes': [models.Index(fields=['chain', '-published_at'], name='audit_published_head_idx')],
            },
        ),
    ]
