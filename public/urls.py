"""The residents' pages, under /public/<language>/ (fundapp.publicurls; included by fundapp.urls through
public_patterns). Records are named by their public_id, never their sequential pk."""
from django.urls import path, register_converter

from fundapp.publicurls import PublicIdConverter

from . import city_views, views

register_converter(PublicIdConverter, "pubid")

app_name = "public"
urlpatterns = [
    path("", city_views.city_index, name="index"),
    path("language/", views.switch_language, name="language"),
    path("open-data/", views.open_data_doc, name="open-data"),
    path("<slug:code>/<int:year>/", views.community_year, name="community-year"),
    path("<slug:code>/<int:year>.json", views.community_year_json, name="community-year-json"),
    path("<slug:code>/<int:year>.csv", views.community_year_csv, name="community-year-csv"),
    path("<slug:code>/notices/<pubid:notice_id>/object/", views.object_to_notice, name="object"),
    path("<slug:code>/notices/<pubid:notice_id>.pdf", views.notice_pdf, name="notice-pdf"),
    path("<slug:code>/needs/new/", views.submit_need, name="need"),
    path("<slug:code>/documents/<pubid:pk>/", views.public_document, name="document"),
    path("<slug:code>/projects/<pubid:pk>/feedback/", views.project_feedback, name="feedback"),
    # The city at scale, its search and its open data (public/city_views.py).
    path("subdistricts/<slug:code>/", city_views.subdistrict, name="subdistrict"),
    path("open-data/city.csv", city_views.city_csv, name="city-csv"),
    path("open-data/city.json", city_views.city_json, name="city-json"),
    path("open-data/schemas/<slug:name>.json", city_views.schema, name="schema"),
    path("notices.atom", city_views.city_notices_feed, name="city-feed"),
    path("<slug:code>/notices.atom", city_views.community_notices_feed, name="community-feed"),
]
