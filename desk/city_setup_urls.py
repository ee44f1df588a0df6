from django.urls import path

from . import city_setup_views as views

app_name = "city-setup"
urlpatterns = [
    path("", views.setup, name="index"),
    path("template.xlsx", views.template_xlsx, name="template"),
    path("apply/", views.apply, name="apply"),
]
