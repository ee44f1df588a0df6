from django.urls import path

from . import city_allocation_views as views

app_name = "city-allocations"
urlpatterns = [
    path("", views.allocate, name="allocate"),
    path("template.xlsx", views.template_xlsx, name="template"),
]
