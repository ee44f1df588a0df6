from django.urls import path

from . import objection_views, paper_views, resident_text_views, views

app_name = "approvals"
urlpatterns = [
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/new/", views.proposal_create, name="proposal-new"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/edit/", views.proposal_edit, name="proposal-edit"),
    path("proposals/<int:pk>/do/<slug:action>/", views.proposal_action, name="proposal-action"),
    path("proposals/<int:pk>/application-form.pdf", views.proposal_pdf, name="proposal-pdf"),
    path("proposals/<int:pk>/papers/application-form-<int:paper_id>.pdf", paper_views.filed_application_form,
         name="paper-application-form"),
    path("proposals/<int:pk>/papers/plan-notice.pdf", paper_views.plan_notice, name="paper-plan-notice"),
    path("proposals/<int:pk>/papers/completion-notice.pdf", paper_views.completion_notice,
         name="paper-completion-notice"),
    path("proposals/<int:pk>/papers/voucher-notice-<int:notice_id>.pdf", paper_views.voucher_notice,
         name="paper-voucher-notice"),
    path("proposals/<int:pk>/papers/minutes-<int:meeting_id>.pdf", paper_views.meeting_minutes,
         name="paper-minutes"),
    path("proposals/<int:pk>/papers/acceptance-<int:acceptance_id>.pdf", paper_views.acceptance_sheet,
         name="paper-acceptance"),
    path("proposals/<int:pk>/objections/<int:objection_id>/", objection_views.objection, name="objection"),
    path("proposals/<int:pk>/objections/<int:objection_id>/contact/", objection_views.objection_contact,
         name="objection-contact"),
    path("resident-texts/<slug:kind>/<int:pk>/", resident_text_views.resident_text, name="resident-text"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("needs/", views.needs, name="needs"),
    path("invoices/", views.invoices, name="invoices"),
    path("reports/", views.annual_reports, name="reports"),
    path("reports/<int:pk>/", views.annual_report, name="report"),
    path("reports/<int:pk>/report.pdf", paper_views.annual_report, name="report-pdf"),
]
