"""The stored searchable forms of what residents look for (fundapp.models.SearchEntry): written here when a
subdistrict or community is created or renamed (fundapp.services.org) and when a project is put before
residents or retitled (approvals.services); read by public.selectors.search."""
import re
import unicodedata

from pypinyin import Style, lazy_pinyin

from ..models import SearchEntry

_DROP = re.compile(r"[\s'’·・\-_.,，。、()（）]+")


def normalise(text):
    """What is compared: full-width letters and digits made plain (NFKC), lower case, no spaces or
    punctuation that people type or leave out at will ("Xing Fu", "xing'fu" → "xingfu")."""
    return _DROP.sub("", unicodedata.normalize("NFKC", str(text)).lower())


def _syllables(text, style):
    # lazy_pinyin keeps runs of other characters whole ("K2", "1"): those stand as they are.
    return [normalise(s) for s in lazy_pinyin(text, style=style, errors="default") if normalise(s)]


def triple(text):
    return "".join(ch * 3 for ch in text)


def search_forms(name):
    key = normalise(name)
    pinyin = "".join(_syllables(name, Style.NORMAL))
    initials = "".join(s[0] if s.isalpha() and s.isascii() else s for s in _syllables(name, Style.FIRST_LETTER))
    return {"key": key, "pinyin": pinyin, "initials": initials,
            "grams": " ".join(part for part in (triple(key), pinyin, initials) if part)}


def search_entry_save(*, kind, object_id, name, subdistrict_id, community_id=None):
    """Create or refresh the entry of one subdistrict, community or published project (idempotent)."""
    SearchEntry.objects.update_or_create(
        kind=kind, object_id=object_id,
        defaults={"name": name, "subdistrict_id": subdistrict_id, "community_id": community_id,
                  **search_forms(name)})


def subdistrict_indexed(subdistrict):
    search_entry_save(kind=SearchEntry.Kind.SUBDISTRICT, object_id=subdistrict.pk, name=subdistrict.name,
                      subdistrict_id=subdistrict.pk)


def community_indexed(community):
    search_entry_save(kind=SearchEntry.Kind.COMMUNITY, object_id=community.pk, name=community.name,
                      subdistrict_id=community.subdistrict_id, community_id=community.pk)


def communities_indexed(communities):
    """The entries of many new communities at once (the city's roster; none has an entry yet)."""
    SearchEntry.objects.bulk_create(
        [SearchEntry(kind=SearchEntry.Kind.COMMUNITY, object_id=c.pk, name=c.name, subdistrict_id=c.subdistrict_id,
                     community_id=c.pk, **search_forms(c.name)) for c in communities], batch_size=500)


def project_indexed(*, proposal_id, title, community):
    search_entry_save(kind=SearchEntry.Kind.PROJECT, object_id=proposal_id, name=title,
                      subdistrict_id=community.subdistrict_id, community_id=community.pk)


def project_retitled(*, proposal_id, title, community):
    """A title changed: refresh its entry if the project is already published (drafts have none)."""
    if SearchEntry.objects.filter(kind=SearchEntry.Kind.PROJECT, object_id=proposal_id).exists():
        project_indexed(proposal_id=proposal_id, title=title, community=community)
