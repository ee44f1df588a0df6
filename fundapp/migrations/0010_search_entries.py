"""Search entries for /public/ (fundapp.models.search): the table, on PostgreSQL pg_trgm and a trigram GIN
index on the stored forms, and the entries of the subdistricts and communities already there (the published
projects' come in approvals 0013). On SQLite the table stands alone and searches scan it (the demo's size)."""

import django.db.models.deletion
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

GIN = "fundapp_searchentry_grams_trgm"


def _gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {GIN} ON fundapp_searchentry USING gin (grams gin_trgm_ops)")


def _drop_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {GIN}")


def _backfill(apps, schema_editor):
    from fundapp.services.search import search_forms  # the forms as the services write them today

    Subdistrict, Community, SearchEntry = (apps.get_model("fundapp", m) for m in ("Subdistrict", "Community", "SearchEntry"))
    SearchEntry.objects.bulk_create(
        [SearchEntry(kind="subdistrict", object_id=s.pk, subdistrict_id=s.pk, name=s.name, **search_forms(s.name))
         for s in Subdistrict.objects.all()]
        + [SearchEntry(kind="community", object_id=c.pk, subdistrict_id=c.subdistrict_id, community_id=c.pk,
                       name=c.name, **search_forms(c.name)) for c in Community.objects.all()],
        batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('fundapp', '0009_fund_year_closing'),
    ]

    operations = [
        TrigramExtension(),  # CREATE EXTENSION IF NOT EXISTS pg_trgm; nothing on SQLite
        migrations.CreateModel(
            name='SearchEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('subdistrict', '街道'), ('community', '社区'), ('project', '项目')], max_length=12)),
                ('object_id', models.PositiveBigIntegerField()),
                ('name', models.CharField(max_length=200)),
                ('key', models.CharField(db_index=True, max_length=200)),
                ('pinyin', models.CharField(db_index=True, max_length=1000)),
                ('initials', models.CharField(db_index=True, max_length=200)),
                ('grams', models.TextField()),
                ('community', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='fundapp.community')),
                ('subdistrict', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='fundapp.subdistrict')),
            ],
            options={
                'verbose_name': '搜索条目',
                'verbose_name_plural': '搜索条目',
                'constraints': [models.UniqueConstraint(fields=('kind', 'object_id'), name='search_entry_unique')],
            },
        ),
        migrations.RunPython(_gin_index, _drop_gin_index),
        migrations.RunPython(_backfill, migrations.RunPython.noop),
    ]
