from django.urls import path

from . import dashboard_views as views

app_name = "dashboard"
urlpatterns = [
    path("", views.city, name="city"),
    path("export.<str:fmt>", views.city_export, name="city-export"),
    path("<slug:code>/", views.subdistrict, name="subdistrict"),
    path("<slug:code>/export.<str:fmt>", views.subdistrict_export, name="subdistrict-export"),
]
