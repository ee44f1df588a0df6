from django.urls import path

from . import notification_views as views

urlpatterns = [
    path("", views.inbox, name="notifications"),
    path("read-all/", views.read_all, name="notifications-read-all"),
    path("<int:pk>/read/", views.read, name="notification-read"),
    path("settings/", views.preferences, name="notification-preferences"),
]
