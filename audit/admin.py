from django.contrib import admin

from fundapp.admin_site import ReadOnlyAdmin

from .models import AuditChainHead, AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "recorded_at", "effective_on", "chain", "seq", "action", "actor_name", "post_label",
        "target_type", "target_id",
    )
    list_filter = ("action", "chain")
    search_fields = ("actor_name", "post_label", "action", "target_id", "note", "hash")
    ordering = ("-id",)
    # Counting a large, ever-growing table on every page load is the slow part of the changelist.
    show_full_result_count = False


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ("chain", "seq", "last_hash")
    search_fields = ("chain",)
    ordering = ("chain",)
