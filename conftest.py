"""Shared fixtures: an organisation built through the services, as the application itself builds it."""
import datetime
import os

import pytest
from django.db import connection

from fundapp.demo import DEMO_PASSWORD
from fundapp.models import Role
from fundapp.services import org as org_services


# Under pytest-xdist (bin/test runs the suite on two workers) each worker is its own process with its own test
# database (pytest-django suffixes the name with the worker id). Shared services must be split the same way:
# each worker takes its own Redis database (the tests that need Redis flush theirs), counted down from the
# one REDIS_TEST_URL names, and its own media directory (files such as a1-2026.pdf would collide).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER.startswith("gw") and os.environ.get("REDIS_TEST_URL"):
    _base, _, _db = os.environ["REDIS_TEST_URL"].rpartition("/")
    if _db.isdigit():
        os.environ["REDIS_TEST_URL"] = f"{_base}/{max(int(_db) - int(_WORKER[2:]), 0)}"


@pytest.fixture(autouse=True, scope="session")
def _media_root_per_worker(tmp_path_factory):
    """Uploads and posters of a test run go to a directory of its own (one per xdist worker)."""
    from django.conf import settings

    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    yield


def pytest_collection_modifyitems(config, items):
    # Locally a test that needs PostgreSQL is skipped on SQLite; CI sets REQUIRE_POSTGRES=1 so that the
    # same test fails instead of skipping if the suite somehow runs without PostgreSQL.
    if os.environ.get("REQUIRE_POSTGRES") == "1" and connection.vendor != "postgresql":
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL")
    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://…)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _default_language(settings):
    # A request activates its reader's language in the thread that served it; a test that switched to
    # English must not leave the next test's domain messages in English.
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _forget_remembered_public_pages():
    """Each web process remembers the public pages it served (public.views.PAGES); a test starts with none,
    as a freshly started process does."""
    from public.views import PAGES

    PAGES.clear()
    yield
    PAGES.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for attackers, not for the hundreds of test users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(django_user_model):
    def make(username, full_name=None, **extra):
        user = django_user_model.objects.create_user(
            username=username, password=DEMO_PASSWORD, first_name=full_name or username, **extra
        )
        return user

    return make


class Org:
    """Two subdistricts with two communities each, and a person in every post of every role.

    `org.person(role, "a1")` is the holder of `role` for community a1 (or its subdistrict a).
    """

    def __init__(self, make_user, start):
        self.start = start
        self.a = org_services.subdistrict_create(name="东城街道", code="a")
        self.b = org_services.subdistrict_create(name="西城街道", code="b")
        self.communities = {}
        for sd in (self.a, self.b):
            for n in (1, 2):
                code = f"{sd.code}{n}"
                self.communities[code] = org_services.community_create(
                    subdistrict=sd, name=f"{sd.name}{n}号社区", code=code
                )
        self.people = {}
        self.city_admin = self._hold(make_user("city"), Role.CITY_ADMIN)
        for sd in (self.a, self.b):
            for role in (Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR,
                         Role.SUBDISTRICT_STAFF, Role.FINANCE_OFFICER):
                self.people[(role, sd.code)] = self._hold(make_user(f"{sd.code}-{role}"), role, subdistrict=sd)
        for code, community in self.communities.items():
            for role in (Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF, Role.SUPERVISOR):
                self.people[(role, code)] = self._hold(make_user(f"{code}-{role}"), role, community=community)

    def _hold(self, user, role, **scope):
        org_services.post_create(user=user, role=role, start_date=self.start, **scope)
        return user

    def community(self, code):
        return self.communities[code]

    def person(self, role, community_code="a1"):
        if role == Role.CITY_ADMIN:
            return self.city_admin
        if Role.scope_of(role) == "subdistrict":
            return self.people[(role, community_code[0])]
        return self.people[(role, community_code)]


@pytest.fixture
def org(db, make_user):
    return Org(make_user, start=datetime.date(2020, 1, 1))
