from django.urls import path

from . import views

app_name = "workdays"

urlpatterns = [
    path("calendar/", views.year_calendar, name="calendar"),
    path("calendar/notice/", views.paste_notice, name="notice"),
    path("calendar/day/", views.day_override, name="day"),
]
