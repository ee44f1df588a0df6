"""The city administrator sees the whole chain in the back office; changes go through the staff pages
and the services, so every model here is read-only."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from fundapp import admin_site

from .models import (
    Acceptance, Change, ConsentDecision, FiledPaper, FollowUp, Invoice, Meeting, Need, Notice, NoticePaper,
    Objection, Payment, Proposal, ReviewDecision, Signature, SupervisionOpinion,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MeetingInline(ReadOnlyInline):
    model = Meeting
    fields = ["held_on", "place", "attendance", "votes_for", "votes_against", "votes_abstain", "passed"]


class NoticeInline(ReadOnlyInline):
    model = Notice
    fields = ["kind", "status", "posted_on", "working_days", "last_day", "calendar_confirmed"]


class ReviewInline(ReadOnlyInline):
    model = ReviewDecision
    fields = ["round", "role", "by", "decision", "reason", "late", "at"]


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ["title", "community", "state", "category", "budget", "approved_budget", "settled_amount",
                    "review_deadline"]
    list_filter = ["state", "category", "beneficiaries", "fund_year__year", "community__subdistrict"]
    search_fields = ["title", "community__name"]
    list_select_related = ["community"]
    inlines = [MeetingInline, NoticeInline, ReviewInline]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "contractor", "proposal", "amount", "status", "issued_on"]
    list_filter = ["status"]
    search_fields = ["number", "contractor", "proposal__title"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["proposal", "invoice", "amount", "paid_on", "method", "reference"]
    search_fields = ["reference", "proposal__title"]


for model, fields in [
    (Need, ["description", "community", "channel", "year", "quarter"]),
    (ConsentDecision, ["proposal", "consented", "by", "at"]),
    (Meeting, ["proposal", "held_on", "passed"]),
    (Notice, ["proposal", "kind", "status", "posted_on", "last_day"]),
    (Objection, ["notice", "channel", "received_at", "answered_at"]),
    (ReviewDecision, ["proposal", "round", "role", "decision", "late", "at"]),
    (Change, ["proposal", "status", "new_budget", "at"]),
    (FollowUp, ["proposal", "visited_on", "by"]),
    (Acceptance, ["proposal", "inspected_on", "passed"]),
    (Signature, ["invoice", "order", "role", "by", "at"]),
    (SupervisionOpinion, ["proposal", "by", "at"]),
]:
    admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), {"list_display": fields}))


# The archived papers (approvals.paper_archive): listed, never written here (they are made by the acts that
# post or file them). The file is named, not linked: papers are served by the paper views, checksum checked.
class PaperAdmin(admin_site.ReadOnlyAdmin):
    list_select_related = ["generated_by", "generated_post"]
    date_hierarchy = "generated_at"
    exclude = ["file"]

    @admin.display(description=_("文件"))
    def file_name(self, obj):
        return obj.file.name


@admin.register(NoticePaper)
class NoticePaperAdmin(PaperAdmin):
    list_display = ["notice", "reason", "generated_at", "generated_by", "generated_post", "size", "sha256"]
    list_filter = ["reason", "notice__kind"]
    readonly_fields = ["file_name"]
    list_select_related = PaperAdmin.list_select_related + ["notice__proposal"]


@admin.register(FiledPaper)
class FiledPaperAdmin(PaperAdmin):
    list_display = ["kind", "community", "proposal", "report", "record_id", "reason", "generated_at", "generated_by",
                    "generated_post", "size", "sha256"]
    list_filter = ["kind", "reason"]
    search_fields = ["proposal__title", "community__name", "sha256"]
    readonly_fields = ["file_name"]
    list_select_related = PaperAdmin.list_select_related + ["community", "proposal", "report__community"]
