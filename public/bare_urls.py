"""/public/… without a language: one redirect (302) to the reader's language (public.views.bare_redirect).
Printed papers (QR codes, addresses on notices and posters) carry these bare addresses."""
from django.urls import re_path

from . import views

app_name = "public-bare"
urlpatterns = [
    re_path(r"^(?P<rest>.*)\Z", views.bare_redirect, name="redirect"),
]
