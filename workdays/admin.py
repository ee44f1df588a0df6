from django.contrib import admin
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from .models import ConfirmedYear, WorkdayOverride


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    list_display = ["day", "weekday", "is_workday", "reason", "created_at"]
    list_filter = ["is_workday"]
    search_fields = ["reason"]
    date_hierarchy = "day"

    # Make-up working days fall on weekends; the weekday beside the date catches a mistyped day.
    @admin.display(description=_("星期"))
    def weekday(self, obj):
        return date_format(obj.day, "l")


@admin.register(ConfirmedYear)
class ConfirmedYearAdmin(admin.ModelAdmin):
    list_display = ["year", "note", "confirmed_at"]
    search_fields = ["=year", "note"]
