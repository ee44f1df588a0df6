"""The names a community's records know, for the publishing step (fundapp.privacy.Publisher).

Every text that goes out to the public — the public page, its JSON and CSV, the notices (page and PDF), the
year-end summary and poster — passes through one `Publisher` built here for the community: it masks these
names wherever they stand, not only in the name fields, so a resident who writes "我是王小明" in an objection,
or a recipient named in a payment's purpose, is 王** everywhere.
"""
from django.db.models import BooleanField, Value

from fundapp.privacy import Publisher, looks_like_a_person

from .models import Invoice, Need, Objection, Payment, Proposal


def known_names(community):
    """The private persons the community's records name, in one query: objectors, residents who registered
    needs (and the contacts they left), recipients paid without an invoice, and contractors or invoicing
    parties whose name is a person's (个人承办) rather than an organisation's."""
    community_id = getattr(community, "pk", community)

    def named(queryset, field, person):
        return (queryset.order_by().annotate(person=Value(person, output_field=BooleanField()))
                .values_list(field, "person"))

    rows = named(Objection.objects.filter(notice__proposal__community_id=community_id), "resident_name", True).union(
        named(Need.objects.filter(community_id=community_id), "resident_name", True),
        named(Payment.objects.filter(proposal__community_id=community_id), "recipient_name", True),
        # what residents left as their contact (never published) is masked too where a text repeats it
        named(Objection.objects.filter(notice__proposal__community_id=community_id), "resident_contact", True),
        named(Need.objects.filter(community_id=community_id), "resident_contact", True),
        named(Proposal.objects.filter(community_id=community_id), "contractor", False),
        named(Invoice.objects.filter(proposal__community_id=community_id), "contractor", False))
    names = {(name or "").strip() for name, person in rows if person or looks_like_a_person(name)}
    return sorted(names - {""})


def publisher_for(community, extra_names=()):
    """The publishing step for one community's public texts."""
    return Publisher([*known_names(community), *extra_names])


def party(publisher, name):
    """A contractor or invoicing party as the public reads it: an organisation whole, a person masked."""
    return publisher.name(name) if looks_like_a_person(name) else publisher.text(name)


def search_titles_refresh(community):
    """After a name entered the community's records (a need, an objection, a payment without invoice, a
    contractor): its published projects' search entries take their titles as the public reads them now, so a
    name that has just become known is neither shown nor found by the residents' search."""
    from fundapp.models import SearchEntry
    from fundapp.services.search import search_entry_save

    community_id = getattr(community, "pk", community)
    entries = list(SearchEntry.objects.filter(kind=SearchEntry.Kind.PROJECT, community_id=community_id))
    if not entries:
        return
    titles = dict(Proposal.objects.filter(pk__in=[e.object_id for e in entries]).values_list("pk", "title"))
    publisher = publisher_for(community_id)
    for entry in entries:
        name = publisher.text(titles.get(entry.object_id, entry.name))
        if name != entry.name:
            search_entry_save(kind=entry.kind, object_id=entry.object_id, name=name,
                              subdistrict_id=entry.subdistrict_id, community_id=community_id)
