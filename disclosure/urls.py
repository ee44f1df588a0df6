from django.urls import path

from . import views

# Under /public/<language>/ (fundapp.urls, public_patterns), beside the residents' pages.
app_name = "disclosure"
urlpatterns = [
    path("<slug:code>/<int:year>/summary/", views.summary, name="summary"),
    path("<slug:code>/<int:year>/summary.pdf", views.summary_pdf, name="summary-pdf"),
]
