from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from workdays import calendar

from . import selectors
from .forms import LoginForm, WorkdayForm


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@login_required
def home(request):
    from approvals.actions import ACTIONS
    from approvals.selectors import recent_acts, work_queue

    return render(request, "fundapp/home.html", {
        "rows": selectors.home_overview(request.user),
        "queue": work_queue(request.user),
        "actions": ACTIONS,
        "recent": recent_acts(request.user),
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
    return render(request, "fundapp/workdays.html", {"form": form, "answer": answer})
