from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from workdays import calendar

from fundapp import rights, selectors
from fundapp.forms import LoginForm, WorkdayForm
from fundapp.models import FundYear


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@login_required
def home(request):
    from approvals.actions import ACTIONS
    from approvals.selectors import recent_acts, work_queue_and_later

    from .home import home_sections

    queue, later = work_queue_and_later(request.user)
    return render(request, "fundapp/home.html", {
        "home": home_sections(request.user),
        "rows": selectors.home_overview(request.user),
        "queue": queue, "later": later,
        "actions": ACTIONS,
        "recent": recent_acts(request.user),
        "notifications": request.user.notifications.filter(read_at__isnull=True)[:20],
    })


@login_required
def workday_calculator(request):
    form = WorkdayForm(request.GET or None)
    answer = None
    if form.is_valid():
        start, days = form.cleaned_data["start"], form.cleaned_data["days"]
        try:
            answer = {
                "last_day": calendar.notice_last_day(start, days),
                "next_step": calendar.notice_next_step_day(start, days),
                "deadline": calendar.deadline_after(start, days),
            }
        except calendar.CalendarError as exc:
            form.add_error("start", str(exc))
    return render(request, "fundapp/workdays.html", {"form": form, "answer": answer,
                                                     "keeps_calendar": rights.is_city_admin(request.user)})


@login_required
def ledgers(request):
    """The fund years this person may see, this year first."""
    fund_years = (FundYear.objects.filter(community__in=rights.communities_for(request.user, "view_fund"))
                  .select_related("community", "community__subdistrict")
                  .order_by("-year", "community__subdistrict__name", "community__name"))
    return render(request, "fundapp/ledgers.html", {"fund_years": fund_years[:500]})


@login_required
def ledger(request, code, year):
    community = rights.get_community_or_404(request.user, "view_fund", code=code)
    fund_year = get_object_or_404(FundYear, community=community, year=year)
    from fundapp.services.ledger import reversible_entries

    return render(request, "fundapp/ledger.html", {
        "fund_year": fund_year, "rows": selectors.ledger(fund_year),
        "reversible": reversible_entries(fund_year=fund_year, by=request.user),
        "years": community.fund_years.order_by("-year").values_list("year", flat=True),
    })


@login_required
def community_record(request, code):
    """Everything recorded for a community, newest first: the supervision committee's full view (Art. 14)."""
    from audit.models import AuditRecord

    community = rights.get_community_or_404(request.user, "view_fund", code=code)
    records = AuditRecord.objects.filter(community_id=community.pk).in_effective_order(newest_first=True)[:300]
    return render(request, "fundapp/community_record.html", {"community": community, "records": records})


@login_required
@require_POST
def notification_open(request, pk):
    """Mark one of the person's own notifications read and go where it points."""
    from fundapp.models import Notification
    from fundapp.services.notify import notification_read

    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    notification_read(notification_id=notification.pk, user=request.user)
    return redirect(notification.link or "home")
