"""The search at a city's scale: 20,000 communities' entries, written with bulk SQL (this tests the index, not
the services), each query served by its index as PostgreSQL's planner chooses it. How fast, at 110,000
communities, is measured by `bench/search_scale.py` (a benchmark, not a timed test), which loads its city with
`_city_of` below."""

import pytest
from django.db import connection
from pypinyin import lazy_pinyin

from fundapp.models import Subdistrict
from public.city_selectors import search, search_prefix_queryset, search_substring_queryset

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# 50 characters of single reading: names are three of them and 社区, 50³ = 125,000 distinct names.
CHARS = list("金银铜铁山水林木花草春夏秋冬东南西北红黄蓝绿新旧长安平和光明阳月星云海江湖河桥松竹梅兰菊鹤龙凤虎狮象")
PINYIN = [lazy_pinyin(c)[0] for c in CHARS]


def _city_of(n, *, rebuild_indexes=False):
    """n communities and their search entries, in two INSERT … SELECT statements. `rebuild_indexes`: the table's
    indexes are dropped before the load and made again after it (a bulk build takes a fraction of the time of
    110,000 insertions into a GIN index) — for a database of its own only: dropping an index waits for every
    other connection that has read the table to finish its transaction."""
    sd = Subdistrict.objects.create(name="规模街道", code="scale")
    names = """
        WITH g AS (SELECT i, %(c)s::text[] AS c, %(p)s::text[] AS p,
                          1 + i / 2500 AS a, 1 + (i / 50) %% 50 AS b, 1 + i %% 50 AS d
                   FROM generate_series(0, %(n)s - 1) AS i)
    """
    params = {"c": CHARS, "p": PINYIN, "n": n, "sd": sd.pk}
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'fundapp_searchentry' "
                       "AND indexname NOT LIKE '%%pkey' AND indexdef NOT LIKE 'CREATE UNIQUE%%'")
        indexes = cursor.fetchall() if rebuild_indexes else []
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # foreign keys checked now, not at a commit
        cursor.execute(names + """
            INSERT INTO fundapp_community (subdistrict_id, name, code, phone, address)
            SELECT %(sd)s, c[a] || c[b] || c[d] || '社区', 'scale-' || i, '', '' FROM g""", params)
        cursor.execute(names + """
            INSERT INTO fundapp_searchentry (kind, object_id, subdistrict_id, community_id, name, key, pinyin,
                                             initials, grams)
            SELECT 'community', co.id, %(sd)s, co.id, co.name, co.name, p[a] || p[b] || p[d] || 'shequ',
                   left(p[a], 1) || left(p[b], 1) || left(p[d], 1) || 'sq',
                   repeat(c[a], 3) || repeat(c[b], 3) || repeat(c[d], 3) || '社社社区区区 '
                   || p[a] || p[b] || p[d] || 'shequ ' || left(p[a], 1) || left(p[b], 1) || left(p[d], 1) || 'sq'
            FROM g JOIN fundapp_community co ON co.code = 'scale-' || g.i""", params)
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("ANALYZE fundapp_searchentry")


def test_each_query_is_served_by_its_index_at_20000_communities():
    _city_of(20_000)
    # Two characters inside a name (the GIN trigram index, tripled), one character, pinyin inside a name
    # (the trigram index), a pinyin prefix and initials (the btree pattern indexes).
    plan = search_substring_queryset("光明").explain()
    assert "fundapp_searchentry_grams_trgm" in plan, plan
    assert "fundapp_searchentry_grams_trgm" in search_substring_queryset("梅").explain()
    assert "fundapp_searchentry_grams_trgm" in search_substring_queryset("guangming").explain()
    prefix_plan = search_prefix_queryset("guangming").explain()
    assert "_like" in prefix_plan and "Seq Scan on fundapp_searchentry" not in prefix_plan, prefix_plan
    # The first 20,000 names begin with one of 金银铜铁山水林木 (see _city_of): found inside or at the start.
    for query, found in (("光明", "光明"), ("梅", "梅"), ("guangming", "光明"), ("jyt", "金"),
                         ("金银铜社区", "金银铜社区")):
        hits, _more = search(query, 2026)
        assert hits and found in hits[0].name, (query, [h.name for h in hits[:3]])
    assert search("jyt", 2026)[0][0].rank == 1 and search("金银铜社区", 2026)[0][0].rank == 0  # prefix, exact
