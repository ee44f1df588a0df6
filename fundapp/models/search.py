"""What residents can find on /public/: the searchable forms of names and titles, stored once.

One row per subdistrict, community and published project, written by the services when the thing is created,
renamed or put before residents (fundapp.services.search), never computed per request. The forms:

- `key`: the name itself, lower-cased, without spaces (exact and prefix matches, btree-indexed);
- `pinyin`, `initials`: 幸福社区 → `xingfushequ`, `xfsq` (exact and prefix, btree-indexed);
- `grams`: what substring queries search (a trigram GIN index on PostgreSQL, migration 0010): the name with
  every character written three times, then the pinyin and the initials. pg_trgm finds nothing to use in a
  query of one or two characters (it indexes runs of three), and 幸福 is a typical query; tripled, 幸福 is
  幸幸幸福福福 and 幸 is 幸幸幸, so every Chinese query of one character or more is served by the index. A
  string is a substring of a name exactly when its tripled form is a substring of the tripled name.
  pg_trgm takes Chinese characters as word characters only under a UTF-8 character type (LC_CTYPE C.UTF-8,
  zh_CN.UTF-8, …); under plain C the index still answers correctly but scans all of itself.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from .org import Community, Subdistrict


class SearchEntry(models.Model):
    class Kind(models.TextChoices):
        # In the order results are shown within one rank.
        SUBDISTRICT = "subdistrict", _("街道")
        COMMUNITY = "community", _("社区")
        PROJECT = "project", _("项目")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    # The subdistrict's, community's or proposal's id (a proposal is not on this floor: no foreign key).
    object_id = models.PositiveBigIntegerField()
    subdistrict = models.ForeignKey(Subdistrict, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=200, db_index=True)
    pinyin = models.CharField(max_length=1000, db_index=True)
    initials = models.CharField(max_length=200, db_index=True)
    grams = models.TextField()

    class Meta:
        verbose_name = _("搜索条目")
        verbose_name_plural = _("搜索条目")
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_entry_unique")]

    def __str__(self):
        return self.name
