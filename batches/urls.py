from django.urls import path

from . import views

app_name = "batches"
urlpatterns = [
    path("", views.runs, name="runs"),
    path("start/", views.run_start, name="start"),
    path("<int:pk>/", views.run_detail, name="run"),
    path("<int:pk>/rerun/", views.run_rerun, name="rerun"),
    path("year-close/", views.year_close, name="year-close"),
    path("year-close/start/", views.year_close_start, name="year-close-start"),
]
