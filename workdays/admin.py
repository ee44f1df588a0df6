"""Overrides and confirmed years are shown read-only here: they move statutory deadlines, so they change only
through the city administrator's calendar page (workdays.views → workdays.services.calendar_change), which
previews what moves, records who changed which days before → after, and recomputes every open date."""
from django.contrib import admin
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from fundapp.admin_site import ReadOnlyAdmin

from .models import ConfirmedYear, WorkdayOverride


class CalendarAdmin(ReadOnlyAdmin):
    change_list_template = "admin/workdays/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "calendar_url": reverse("workdays:calendar")}
        return super().changelist_view(request, extra_context)


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(CalendarAdmin):
    list_display = ["day", "weekday", "is_workday", "reason", "created_at"]
    list_filter = ["is_workday"]
    search_fields = ["reason"]
    date_hierarchy = "day"

    # Make-up working days fall on weekends; the weekday beside the date catches a mistyped day.
    @admin.display(description=_("星期"))
    def weekday(self, obj):
        return date_format(obj.day, "l")


@admin.register(ConfirmedYear)
class ConfirmedYearAdmin(CalendarAdmin):
    list_display = ["year", "note", "confirmed_at"]
    search_fields = ["=year", "note"]
