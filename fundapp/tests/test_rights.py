"""Rights come from posts in force, checked per community through django-guardian."""
import datetime

import pytest
from django.utils import timezone
from guardian.models import UserObjectPermission

from fundapp import rights
from fundapp.models import Community, Post, Role
from fundapp.services import org as org_services

ROLES = list(Role)
WRITE_PERMISSIONS = sorted(rights.ALL_PERMISSIONS - {"view_fund"})


def own_and_other(role):
    """(own community, other community) for a person posted to a1 or to a1's subdistrict."""
    if role == Role.CITY_ADMIN:
        return "a1", "b2"  # the city administrator's "other" is still in scope
    return "a1", "b1"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_rights_matrix_read_and_write(org, role):
    user = org.person(role, "a1")
    own, other = own_and_other(role)
    granted = rights.ROLE_PERMISSIONS[role]
    for codename in ["view_fund", *WRITE_PERMISSIONS]:
        own_decision = rights.check(user, codename, org.community(own))
        assert bool(own_decision) == (codename in granted), (role, codename, "own")
        other_decision = rights.check(user, codename, org.community(other))
        expected_other = role == Role.CITY_ADMIN and codename in granted
        assert bool(other_decision) == expected_other, (role, codename, "other")
        if not other_decision:
            assert other_decision.reason  # a refusal says why


@pytest.mark.django_db
def test_subdistrict_people_reach_every_community_of_their_subdistrict_only(org):
    staff = org.person(Role.SUBDISTRICT_STAFF, "a1")
    visible = set(rights.communities_for(staff, "view_fund").values_list("code", flat=True))
    assert visible == {"a1", "a2"}


@pytest.mark.django_db
def test_community_people_list_only_their_community(org):
    secretary = org.person(Role.COMMUNITY_SECRETARY, "b2")
    assert list(rights.communities_for(secretary, "view_fund").values_list("code", flat=True)) == ["b2"]
    assert not rights.communities_for(secretary, "settle_invoice").exists()


@pytest.mark.django_db
def test_city_admin_reaches_all(org):
    assert set(rights.communities_for(org.city_admin, "view_fund").values_list("code", flat=True)) == {
        "a1", "a2", "b1", "b2"
    }


@pytest.mark.django_db
def test_a_post_that_ended_grants_nothing_from_its_end_date(org):
    secretary = org.person(Role.COMMUNITY_SECRETARY, "a1")
    community = org.community("a1")
    post = secretary.posts.get()
    today = timezone.localdate()
    org_services.post_end(post=post, end_date=today + datetime.timedelta(days=1))
    assert rights.check(secretary, "file_proposal", community)
    # Midnight passes: the end date arrives before any sync has removed the guardian grant.
    Post.objects.filter(pk=post.pk).update(end_date=today)
    assert UserObjectPermission.objects.filter(user=secretary).exists()
    assert not rights.check(secretary, "file_proposal", community)
    assert not rights.communities_for(secretary, "view_fund").exists()
    # The sync then removes the grants; history keeps who held the post.
    rights.sync_user_permissions(secretary)
    assert not UserObjectPermission.objects.filter(user=secretary).exists()
    assert secretary.posts.filter(role=Role.COMMUNITY_SECRETARY, end_date=today).exists()
    assert rights.post_for(secretary, community, on=today - datetime.timedelta(days=1)) == post


@pytest.mark.django_db
def test_a_successor_takes_over_on_the_start_date(org, make_user):
    community = org.community("a1")
    successor = make_user("successor")
    start = timezone.localdate() + datetime.timedelta(days=3)
    post = org_services.post_create(user=successor, role=Role.COMMUNITY_SECRETARY, community=community,
                                    start_date=start)
    assert not rights.check(successor, "file_proposal", community)
    assert not UserObjectPermission.objects.filter(user=successor).exists()
    # The start date arrives: the first check derives the grants from the post.
    Post.objects.filter(pk=post.pk).update(start_date=timezone.localdate())
    assert rights.check(successor, "file_proposal", community)
    assert UserObjectPermission.objects.filter(user=successor).exists()


@pytest.mark.django_db
def test_inactive_user_is_denied_everything(org):
    user = org.person(Role.FINANCE_OFFICER, "a1")
    user.is_active = False
    user.save()
    decision = rights.check(user, "settle_invoice", org.community("a1"))
    assert not decision and decision.reason


@pytest.mark.django_db
def test_no_model_wide_permissions_for_post_holders(org):
    """Grants are per object: no post holder could make guardian return every community."""
    for user in [org.city_admin, *org.people.values()]:
        if user.is_superuser:
            continue
        assert not user.user_permissions.exists()
        assert not user.groups.exists()


@pytest.mark.django_db
def test_new_community_is_reached_by_its_subdistrict_and_the_city(org):
    new = org_services.community_create(subdistrict=org.a, name="新建社区", code="a3")
    assert rights.check(org.person(Role.SUBDISTRICT_STAFF, "a1"), "manage_project", new)
    assert not rights.check(org.person(Role.SUBDISTRICT_STAFF, "b1"), "manage_project", new)
    assert Community.objects.filter(code="a3").exists()


@pytest.mark.django_db
def test_unknown_action_is_denied(org):
    assert not rights.check(org.city_admin, "delete_everything", org.community("a1"))
