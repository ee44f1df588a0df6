import datetime

import pytest

from audit.models import AuditRecord
from fundapp.errors import DomainError, NotAllowed
from fundapp.models import Post, Role
from fundapp.services import org as org_services


@pytest.mark.django_db
def test_post_scope_must_match_role(org, make_user):
    user = make_user("x")
    before = Post.objects.count()
    with pytest.raises(DomainError):
        org_services.post_create(user=user, role=Role.COMMUNITY_SECRETARY, start_date=datetime.date(2026, 1, 1),
                                 subdistrict=org.a)
    with pytest.raises(DomainError):
        org_services.post_create(user=user, role=Role.FINANCE_OFFICER, start_date=datetime.date(2026, 1, 1),
                                 community=org.community("a1"))
    assert Post.objects.count() == before


@pytest.mark.django_db
def test_post_end_must_follow_start(org):
    post = org.person(Role.SUPERVISOR, "a2").posts.get()
    with pytest.raises(DomainError):
        org_services.post_end(post=post, end_date=post.start_date)
    post.refresh_from_db()
    assert post.end_date is None


@pytest.mark.django_db
def test_only_a_city_admin_in_office_manages_posts(org, make_user):
    secretary = org.person(Role.SUBDISTRICT_SECRETARY, "a1")
    with pytest.raises(NotAllowed):
        org_services.post_create(user=make_user("y"), role=Role.COMMUNITY_STAFF,
                                 start_date=datetime.date(2026, 1, 1), community=org.community("a1"), by=secretary)
    org_services.post_create(user=make_user("z"), role=Role.COMMUNITY_STAFF,
                             start_date=datetime.date(2026, 1, 1), community=org.community("a1"), by=org.city_admin)


@pytest.mark.django_db
def test_post_changes_are_audited_with_before_and_after(org):
    post = org.person(Role.SUPERVISOR, "b1").posts.get()
    org_services.post_end(post=post, end_date=datetime.date(2030, 1, 1), by=org.city_admin)
    record = AuditRecord.objects.filter(action="post.change").latest("pk")
    assert record.before["end_date"] is None
    assert record.after["end_date"] == "2030-01-01"
    assert record.actor == org.city_admin


@pytest.mark.django_db
def test_city_admin_post_opens_and_closes_the_back_office(org, client):
    admin = org.city_admin
    admin.refresh_from_db()
    assert admin.is_staff and not admin.is_superuser
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
    org_services.post_end(post=admin.posts.get(), end_date=datetime.date.today())
    admin.refresh_from_db()
    assert not admin.is_staff and not admin.is_superuser
    assert client.get("/admin/").status_code == 302  # sent to the admin login


@pytest.mark.django_db
def test_other_roles_cannot_enter_the_back_office(org, client):
    client.force_login(org.person(Role.SUBDISTRICT_SECRETARY, "a1"))
    assert client.get("/admin/").status_code == 302
