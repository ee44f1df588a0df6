import pytest
from django.core.management import call_command

from fundapp import rights
from fundapp.demo import demo_summary
from fundapp.models import FundYear, Post, Role


@pytest.mark.django_db
def test_seed_demo_builds_the_city_and_is_idempotent():
    call_command("seed_demo")
    first = demo_summary()
    assert first["subdistricts"] == 2 and first["communities"] == 6
    # every role has a person in office
    assert set(Post.objects.filter(end_date__isnull=True).values_list("role", flat=True)) == set(Role.values)
    assert FundYear.objects.filter(allocated__gt=0).count() == 6
    call_command("seed_demo")
    assert demo_summary() == first
    assert FundYear.objects.filter(allocated__gt=0).count() == 6
    assert all(fy.allocated == fy.total for fy in FundYear.objects.all())


@pytest.mark.django_db
def test_demo_former_secretary_keeps_history_but_no_rights():
    call_command("seed_demo")
    former = Post.objects.get(user__username="xingfu-former-secretary")
    assert former.end_date is not None
    assert not rights.check(former.user, "view_fund", former.community)
