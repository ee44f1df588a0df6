from django.urls import path

from . import views

app_name = "approvals"
urlpatterns = [
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/new/", views.proposal_create, name="proposal-new"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/edit/", views.proposal_edit, name="proposal-edit"),
    path("proposals/<int:pk>/do/<slug:action>/", views.proposal_action, name="proposal-action"),
    path("proposals/<int:pk>/application-form.pdf", views.proposal_pdf, name="proposal-pdf"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("needs/", views.needs, name="needs"),
    path("invoices/", views.invoices, name="invoices"),
    path("reports/", views.annual_reports, name="reports"),
    path("reports/<int:pk>/", views.annual_report, name="report"),
]
