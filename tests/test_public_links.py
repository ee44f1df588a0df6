"""Every button leads somewhere: a reader clicking through the public pages of the demo city, in both
languages, never meets a 404 or a 500 (tests/public_walk.py)."""
import pytest
from django.test import Client

from tests.public_walk import broken, walk

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database


@pytest.mark.django_db
def test_every_link_on_every_public_page_of_the_demo_city_answers(demo_city):
    seen = {}
    for language in ("zh-hans", "en"):
        client = Client()
        client.cookies["django_language"] = language
        seen.update(walk(client, ["/public/"]))
    assert not broken(seen), broken(seen)
    pages = [url for url, (status, _) in seen.items() if status == 200]
    # The walk went everywhere a reader can: both languages, each community's year, its files, the
    # year-end summaries, objection and need forms, notice papers.
    for fragment in ("/public/zh/", "/public/en/", ".json", ".csv", "/needs/new/", "/summary/", "/object/",
                     "/language/"):
        assert any(fragment in url for url in seen), fragment
    assert len(pages) > 50, len(pages)
