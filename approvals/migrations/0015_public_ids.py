"""Public identifiers for proposals, notices and documents (fundapp.publicurls): public addresses name a
random 12-character id instead of the sequential primary key. Added empty, filled for every existing row,
then made unique and required."""
from django.db import migrations, models

import fundapp.publicurls

MODELS = ("proposal", "notice", "document")


def fill(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("approvals", name)
        taken = set()
        rows = list(model.objects.filter(public_id__isnull=True).only("pk"))
        for row in rows:
            value = fundapp.publicurls.new_public_id()
            while value in taken:
                value = fundapp.publicurls.new_public_id()
            taken.add(value)
            row.public_id = value
        model.objects.bulk_update(rows, ["public_id"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("approvals", "0014_resident_text_public_version"),
    ]

    operations = [
        *[migrations.AddField(model_name=name, name="public_id",
                              field=models.CharField(max_length=16, null=True, editable=False,
                                                     verbose_name="公开编号"))
          for name in MODELS],
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        *[migrations.AlterField(model_name=name, name="public_id",
                                field=models.CharField(default=fundapp.publicurls.new_public_id, editable=False,
                                                       max_length=16, unique=True, verbose_name="公开编号"))
          for name in MODELS],
    ]
