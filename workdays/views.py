"""The city administrator's calendar pages: a year's working days month by month, the State Council's
notice pasted in, a single day's override — each change previewed (which days, which open deadlines and
notices move) and then recorded through `workdays.services.calendar_change`. City administrators only.

The confirmation carries only what the administrator typed (the pasted text, the day and its status, the
reason) and the preview's fingerprint: everything is parsed and computed again on confirmation, and a
fingerprint that no longer matches (the calendar or the open dates changed meanwhile) shows the new preview
instead of recording what nobody saw.
"""
from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods

from audit.models import AuditRecord
from fundapp import clock
from fundapp.errors import DomainError
from fundapp.i18n import record_language

from . import services
from .calendar import CalendarError, WorkCalendar
from .forms import DayForm, NoticeForm
from .models import ConfirmedYear, WorkdayOverride
from .notice_parser import parse_notice


# Where a day's answer comes from, and a year's status, in words (workdays.calendar.Source / YearStatus).
SOURCES = {
    "override": gettext_lazy("单独调整"),
    "package": gettext_lazy("国务院通知（日历数据包）"),
    "admin_confirmed": gettext_lazy("已确认"),
    "fallback": gettext_lazy("未确认，按法定节假日推算"),
}
YEAR_STATUSES = {
    "package": gettext_lazy("已确认：日历数据包已收录国务院办公厅的通知"),
    "admin_confirmed": gettext_lazy("已确认：市委组织部已录入国务院办公厅的通知"),
    "unconfirmed": gettext_lazy("未确认：按法定节假日和周一至周五推算，调休上班日尚未录入"),
}
WEEKDAYS = [pgettext_lazy("weekday", "一"), pgettext_lazy("weekday", "二"), pgettext_lazy("weekday", "三"),
            pgettext_lazy("weekday", "四"), pgettext_lazy("weekday", "五"), pgettext_lazy("weekday", "六"),
            pgettext_lazy("weekday", "日")]
LABELS = {"sources": SOURCES, "year_statuses": YEAR_STATUSES}


def city_admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if services.city_admin_post(request.user) is None:
            raise PermissionDenied(_("只有在任的市委组织部管理员可以调整工作日日历。"))
        return view(request, *args, **kwargs)

    return wrapped


def _month(cal, year, month, today):
    days = cal.month_days(year, month)
    lead = days[0].day.weekday()  # Monday first, as Chinese calendars print
    cells = [None] * lead + days
    cells += [None] * (-len(cells) % 7)
    notes = [d for d in days if d.source == "override" or (d.holiday_name and not d.is_workday)
             or (d.is_workday and d.day.weekday() >= 5)]
    return {"number": month, "first": days[0].day, "weeks": [cells[i:i + 7] for i in range(0, len(cells), 7)], "notes": notes,
            "today": today}


@city_admin_required
def year_calendar(request):
    today = clock.today()
    year = clock.plausible_year(request.GET.get("year"), today.year)
    cal = WorkCalendar()
    cal.preload(date(year, 1, 1), date(year, 12, 31))
    return render(request, "workdays/calendar.html", {
        "year": year, "today": today, "status": cal.year_status(year),
        "confirmed": ConfirmedYear.objects.filter(year=year).first(),
        "months": [_month(cal, year, month, today) for month in range(1, 13)],
        "overrides": WorkdayOverride.objects.filter(day__year=year).order_by("day"),
        "history": AuditRecord.objects.filter(action="calendar.change").order_by("-recorded_at", "-pk")[:10],
        "weekdays": WEEKDAYS, **LABELS,
    })


def _spans(days):
    """Consecutive dates as (first, last, count): a festival's holidays read as one range."""
    spans = []
    for day in days:
        if spans and (day - spans[-1][1]).days == 1:
            spans[-1] = (spans[-1][0], day, spans[-1][2] + 1)
        else:
            spans.append((day, day, 1))
    return spans


def _preview_or_error(form, changes):
    try:
        return services.calendar_preview(changes)
    except DomainError as exc:
        form.add_error(None, str(exc))
        return None


def _record(request, form, *, changes, reason, source_text=""):
    """Record a confirmed change; on success the redirect, else None (the error is on the form)."""
    try:
        result = services.calendar_change(by=request.user, changes=changes, reason=reason, source_text=source_text,
                                          expected=request.POST.get("fingerprint", ""))
    except DomainError as exc:
        form.add_error(None, str(exc))
        return None
    moved = len(result.preview.moves)
    messages.success(request, _("已记录日历调整：%(days)s 天，确认 %(years)s 个年份；%(moved)s 项待办日期已重新计算。") % {
        "days": len(result.preview.days), "years": len(result.preview.years), "moved": moved})
    years = sorted({d.day.year for d in result.preview.days} | {y.year for y in result.preview.years})
    return redirect(f"{reverse('workdays:calendar')}?year={years[0] if years else clock.today().year}")


@city_admin_required
@require_http_methods(["GET", "POST"])
def paste_notice(request):
    form = NoticeForm(request.POST or None)
    parsed = preview = None
    if request.method == "POST" and form.is_valid():
        parsed = parse_notice(form.cleaned_data["text"])
        if parsed.year is None or not parsed.items:
            form.add_error("text", _("没有读出通知的年份或放假安排条目（“一、元旦：……”）。请粘贴通知全文，包括标题。"))
            parsed = None
        else:
            with record_language():  # stored as the overrides' reason: in the site's language
                reason = form.cleaned_data["reason"] or _("国务院办公厅关于%(year)s年部分节假日安排的通知") % {
                    "year": parsed.year}
            try:
                changes = services.make_changes(parsed.overrides, {parsed.year})
            except DomainError as exc:
                form.add_error("text", str(exc))
                changes = None
            if changes is not None:
                preview = _preview_or_error(form, changes)
            if preview is not None and parsed.ok and "confirm" in request.POST:
                done = _record(request, form, changes=changes, reason=reason,
                               source_text=form.cleaned_data["text"])
                if done:
                    return done
                preview = _preview_or_error(form, changes)  # as it is now, for another look
            form.reason_used = reason
    items = [{"item": item, "holidays": _spans(item.holidays)} for item in parsed.items] if parsed else []
    return render(request, "workdays/notice.html", {"form": form, "parsed": parsed, "items": items,
                                                    "preview": preview, **LABELS})


@city_admin_required
@require_http_methods(["GET", "POST"])
def day_override(request):
    form = DayForm(request.POST or None, initial={k: request.GET[k] for k in ("day", "status") if k in request.GET})
    preview = None
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.make_changes(form.override())
        except (DomainError, CalendarError) as exc:
            form.add_error("day", str(exc))
        else:
            preview = _preview_or_error(form, changes)
            if preview is not None and "confirm" in request.POST:
                done = _record(request, form, changes=changes, reason=form.cleaned_data["reason"])
                if done:
                    return done
                preview = _preview_or_error(form, changes)
    return render(request, "workdays/day.html", {"form": form, "preview": preview, **LABELS})
