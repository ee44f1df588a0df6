from django.urls import path

from . import finance_views as views

app_name = "finance"
urlpatterns = [
    path("ledger/<slug:code>/<int:year>.xlsx", views.ledger_xlsx, name="ledger-xlsx"),
    path("ledger/<slug:code>/<int:year>.csv", views.ledger_csv, name="ledger-csv"),
    path("ledger/<slug:code>/<int:year>/entries/<int:pk>/reverse/", views.ledger_reverse, name="ledger-reverse"),
    path("reconcile/", views.reconcile, name="reconcile"),
    path("summary/", views.summary, name="summary"),
    path("summary/<int:year>.pdf", views.summary_pdf, name="summary-pdf"),
    path("summary/<int:year>.xlsx", views.summary_xlsx, name="summary-xlsx"),
]
