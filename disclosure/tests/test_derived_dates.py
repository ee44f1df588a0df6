"""A calendar change moves the last day of a year-end disclosure still being posted, and its poster is
rendered again with the new date."""
import datetime

import pytest

from audit.models import AuditRecord
from disclosure.models import YearEndDisclosure
from disclosure.services import disclosure_figures
from tests.chain import travel
from workdays.services import calendar_change, make_changes

D = datetime.date


@pytest.mark.django_db
def test_a_disclosure_being_posted_gets_a_later_last_day_and_a_new_poster(org, settings, tmp_path,
                                                                          django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    a1, a2 = org.community("a1"), org.community("a2")
    # Posted Tue 15 Dec 2026 for 5 working days: 15–18 and Mon 21 December. Last year's is history.
    running = YearEndDisclosure.objects.create(community=a1, year=2026, posted_on=D(2026, 12, 15),
                                               last_day=D(2026, 12, 21), figures=disclosure_figures(a1, 2026))
    old = YearEndDisclosure.objects.create(community=a2, year=2025, posted_on=D(2025, 12, 15),
                                           last_day=D(2025, 12, 19))

    with travel(D(2026, 12, 16)), django_capture_on_commit_callbacks(execute=True):
        calendar_change(by=org.city_admin, changes=make_changes({D(2026, 12, 18): False, D(2025, 12, 16): False}),
                        reason="临时放假")

    running.refresh_from_db()
    assert (running.last_day, running.calendar_confirmed) == (D(2026, 12, 22), True)
    assert running.has_pdf and running.generated_at is not None  # rendered again after the commit
    assert YearEndDisclosure.objects.get(pk=old.pk).last_day == D(2025, 12, 19)
    [moved] = AuditRecord.objects.filter(action="disclosure.recalculated")
    assert moved.community_id == a1.pk and moved.target_id == str(running.pk)
    assert (moved.before["last_day"], moved.after["last_day"]) == ("2026-12-21", "2026-12-22")
