"""The search entries (fundapp 0010) of projects already put before residents: a plan notice posted, as
approvals.services.notice_post writes them from now on."""
from django.db import migrations


def _backfill(apps, schema_editor):
    from fundapp.services.search import search_forms  # the forms as the services write them today

    Proposal, SearchEntry = apps.get_model("approvals", "Proposal"), apps.get_model("fundapp", "SearchEntry")
    published = Proposal.objects.filter(notices__kind="plan").distinct().select_related("community")
    SearchEntry.objects.bulk_create(
        [SearchEntry(kind="project", object_id=p.pk, subdistrict_id=p.community.subdistrict_id,
                     community_id=p.community_id, name=p.title, **search_forms(p.title)) for p in published.iterator()],
        batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("approvals", "0012_filed_papers"),
        ("fundapp", "0010_search_entries"),
    ]

    operations = [migrations.RunPython(_backfill, migrations.RunPython.noop)]
