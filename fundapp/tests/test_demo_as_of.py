"""Development only: the whole app runs "as of" another date (FUND_AS_OF), says so on every page, and
refuses to start with it in production."""
import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals import services as chain
from audit.models import AuditRecord
from fundapp import clock
from fundapp.errors import DomainError
from fundapp.models import Role
from tests.chain import allocate, draft

ROOT = Path(__file__).resolve().parents[2]
BANNER = "演示日期：2027年1月4日（开发模式）"


def _load_settings(**env):
    full_env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FUND_ENV", "DEBUG", "FUND_AS_OF"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import fundapp.settings as s; print(s.FUND_AS_OF)"],
        cwd=ROOT, env=full_env, capture_output=True, text=True,
    )


def test_the_setting_is_read_from_the_environment():
    assert _load_settings().stdout.strip() == "None"
    result = _load_settings(FUND_AS_OF="2027-01-04")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2027-01-04"


def test_a_malformed_date_refuses_to_start():
    result = _load_settings(FUND_AS_OF="4/1/2027")
    assert result.returncode != 0
    assert "FUND_AS_OF must be a date" in result.stderr


def test_production_refuses_to_start_with_it():
    from fundapp.tests.test_settings import production_env

    result = _load_settings(**production_env(FUND_AS_OF="2027-01-04"))
    assert result.returncode != 0
    assert "FUND_AS_OF is for development only" in result.stderr
    # and starts without it
    assert _load_settings(**production_env()).returncode == 0


def test_today_is_that_date_and_the_time_of_day_runs_on(settings):
    settings.FUND_AS_OF = datetime.date(2027, 1, 4)
    real = timezone.now()

    assert clock.today() == datetime.date(2027, 1, 4)
    # Shifted by whole days: the time of day is the real one, and runs on.
    delta = clock.now() - real
    assert abs(delta - datetime.timedelta(days=round(delta.total_seconds() / 86400))) < datetime.timedelta(seconds=5)
    # seed_demo's dated history still wins inside it
    with clock.as_of(datetime.date(2026, 12, 1)):
        assert clock.today() == datetime.date(2026, 12, 1)
    settings.FUND_AS_OF = None
    assert clock.today() == timezone.localdate()


def test_a_notice_that_ends_before_that_date_is_over(org, settings):
    today = clock.today()
    allocate(org, year=today.year)
    p = draft(org, year=today.year)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    chain.proposal_submit_for_consent(proposal=p, by=secretary)
    chain.consent_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
    chain.meeting_record(proposal=p, by=secretary, held_on=today, place="会议室", attendance=20, votes_for=15,
                         votes_against=3, votes_abstain=2, minutes="通过")
    notice = chain.notice_post(proposal=p, by=secretary, posted_on=today, working_days=3)
    with pytest.raises(DomainError, match="公示期至"):
        chain.proposal_submit_for_review(proposal=p, by=secretary)

    settings.FUND_AS_OF = notice.next_step_day
    chain.proposal_submit_for_review(proposal=p, by=secretary)

    p.refresh_from_db()
    assert (p.state, p.review_received_on) == ("under_review", notice.next_step_day)
    record = AuditRecord.objects.filter(action="proposal.submit_for_review").get()
    # The act takes effect on the demo's date; the trail keeps the real time it was written.
    assert record.effective_on == notice.next_step_day
    assert abs((record.recorded_at - timezone.now()).total_seconds()) < 60


def test_every_page_says_so_while_it_is_on(org, client, settings):
    client.force_login(org.person(Role.COMMUNITY_SECRETARY))
    assert BANNER not in client.get(reverse("home")).content.decode()

    settings.FUND_AS_OF = datetime.date(2027, 1, 4)
    assert BANNER in client.get(reverse("home")).content.decode()
    assert BANNER in client.get(reverse("public:index")).content.decode()
    client.cookies["django_language"] = "en"
    assert "Demo date: 4 January 2027 (development mode)" in client.get(reverse("home")).content.decode()
