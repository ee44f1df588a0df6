"""Shared fixtures: an organisation built through the services, as the application itself builds it."""
import datetime
import inspect
import os
from pathlib import Path

import pytest
from django.db import connection

from fundapp.demo import DEMO_PASSWORD
from fundapp.models import Role
from fundapp.services import org as org_services
from tests.snapshot import FAST_PASSWORD_HASHERS, Snapshot


# Under pytest-xdist (bin/test runs the suite on two workers) each worker is its own process with its own test
# database (pytest-django suffixes the name with the worker id). Shared services must be split the same way:
# each worker takes its own Redis database (the tests that need Redis flush theirs), counted down from the
# one REDIS_TEST_URL names, and its own media directory (files such as a1-2026.pdf would collide).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER.startswith("gw") and os.environ.get("REDIS_TEST_URL"):
    _base, _, _db = os.environ["REDIS_TEST_URL"].rpartition("/")
    if _db.isdigit():
        os.environ["REDIS_TEST_URL"] = f"{_base}/{max(int(_db) - int(_WORKER[2:]), 0)}"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """pytest-django's, plus, on PostgreSQL: the tests' connections commit without waiting for the WAL to
    reach the disk (`synchronous_commit=off`: what a commit makes visible, and when, is unchanged; only a
    crash of the server could lose the last commits of a test database); and a pool as large as the
    concurrency tests' threads."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        options = database.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
        if isinstance(options.get("pool"), dict):
            # The concurrency tests' threads stand for requests served by many processes, each with its own
            # connection (a hundred simultaneous settlements): the test process's pool lets each have one.
            options["pool"] = {**options["pool"], "max_size": 120, "timeout": 30}


@pytest.fixture(autouse=True, scope="session")
def _media_root_per_worker(tmp_path_factory):
    """Uploads and posters of a test run go to a directory of its own (one per xdist worker)."""
    from django.conf import settings

    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    # The same paper rendered again (the chain walks of many tests file identical papers, ids and dates
    # included) is rendered once per process: fundapp.pdf keeps the bytes WeasyPrint made for that HTML.
    settings.PDF_RENDER_CACHE_SIZE = 400
    # bin/test gives both databases' workers one directory, so a paper is rendered once in the whole run.
    settings.PDF_RENDER_CACHE_DIR = os.environ.get("PDF_RENDER_CACHE_DIR", "")
    # Published audit heads (audit.services.publish_heads) never go to, nor are checked against, var/.
    settings.AUDIT_HEADS_FILE = str(tmp_path_factory.mktemp("audit") / "audit-heads.jsonl")
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
    # bin/test hands tests to its workers one at a time (pytest-xdist --dist loadgroup): the longest start
    # first, so that no worker is still running one of them long after the other has run out of work.
    items.sort(key=lambda item: _LONGEST_FIRST.get(item.nodeid.split("::")[0], len(_LONGEST_FIRST)))
    for item in items:
        # A module whose tests share a module-scoped fixture stays on one worker, which computes it once.
        if _uses_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


# The files of the longest tests, longest first (measured: docs/operations.md, "How fast the suite is and why").
_LONGEST_FIRST = {path: rank for rank, path in enumerate([
    "tests/test_bad_input.py",
    "tests/test_money_properties.py",
    "tests/test_access_matrix.py",
    "tests/test_offers_match_the_service.py",
    "tests/test_state_action_matrix.py",
    "tests/browser/test_full_chain.py",
    "tests/browser/test_walk_taps.py",
    "tests/test_concurrency.py",
    "tests/test_faults.py",
    "tests/browser/test_login_and_home.py",
    "tests/test_year_close_concurrency.py",
    "tests/browser/test_readable_by_everyone.py",
    "tests/browser/test_access.py",
    "tests/test_offline_install.py",
    "tests/test_deploy_site.py",
    "tests/test_deploy_units.py",
    "desk/tests/test_dashboard.py",
    "tests/test_celery_worker.py",
    "tests/browser/test_city_setup.py",
    "desk/tests/test_reconcile.py",
    "tests/browser/test_public_objection.py",
])}


def _uses_a_module_fixture(item):
    """Does the test use a module-, class- or package-scoped fixture of this project (not of a plugin)?"""
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info is not None else ()
    return any((d.scope in ("module", "package", "class") or getattr(d.func, "shared_by_module", False))
               and _ours(d.func) for defs in definitions for d in defs)


def _ours(func):
    try:
        path = Path(inspect.getfile(func)).resolve()
    except TypeError:
        return False
    return path.is_relative_to(_ROOT) and "site-packages" not in path.parts


_ROOT = Path(__file__).resolve().parent


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
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS




def _make_user(username, full_name=None, **extra):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=username, password=DEMO_PASSWORD, first_name=full_name or username, **extra
    )


@pytest.fixture
def make_user(django_user_model):
    return _make_user


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


ORG_START = datetime.date(2020, 1, 1)


@pytest.fixture(scope="session")
def org_snapshot(django_db_setup, django_db_blocker):
    """The organisation built once per test process through the services (tests/snapshot.py)."""
    from django.test import override_settings

    def build():
        with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
            return Org(_make_user, start=ORG_START)

    snapshot = Snapshot(build)
    with django_db_blocker.unblock():
        snapshot.take()
    return snapshot


@pytest.fixture
def org(db, org_snapshot):
    """A fresh organisation for this test: the rows the services wrote for `Org`, written back in a dozen
    statements instead of ~600 (tests/snapshot.py), and its own copy of the `Org` object."""
    org = org_snapshot.restore()
    yield org
    org_snapshot.forget()


@pytest.fixture(scope="session")
def demo_city_snapshot(django_db_setup, django_db_blocker):
    """`manage.py seed_demo` run once per test process (tests/snapshot.py), as of the real today."""
    from io import StringIO

    from django.core.management import call_command
    from django.test import override_settings

    def build():
        with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
            call_command("seed_demo", stdout=StringIO())

    # Under bin/test, built once per database engine and loaded by the other workers (tests/snapshot.py).
    snapshot = Snapshot(build, shared_as="demo_city")
    with django_db_blocker.unblock():
        snapshot.take()
    return snapshot


@pytest.fixture
def demo_city(db, demo_city_snapshot):
    """The demo city exactly as `manage.py seed_demo` leaves it today (two subdistricts, six communities, a
    proposal in every state), written back in a few statements instead of seeding it again (~4,000 queries).
    A test about the command itself runs the command."""
    demo_city_snapshot.restore()
    yield
    demo_city_snapshot.forget()

