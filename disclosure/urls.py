from django.urls import path

from . import views

app_name = "disclosure"
urlpatterns = [
    path("public/<slug:code>/<int:year>/summary/", views.summary, name="summary"),
    path("public/<slug:code>/<int:year>/summary.pdf", views.summary_pdf, name="summary-pdf"),
]
