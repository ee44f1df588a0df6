from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("审批流程")

    def ready(self):
        # The chain's stored calendar dates move when the working-day calendar changes (SPEC §9).
        from workdays import derived

        from .derived_dates import NoticeDates, ReviewDeadlines

        derived.register(NoticeDates())
        derived.register(ReviewDeadlines())

        # What waits for a post's holder moves to the successor when the post is handed over.
        from fundapp.services.org import handover_pending_register

        from .handover import pending_for_post

        handover_pending_register(pending_for_post)

        # The chain's batch jobs: the batches app names no client, each registers its kinds.
        from batches import registry

        from .tasks import annual_report_batch_item, year_close_batch_item
        from .year_close import fund_year_close_preview

        registry.register("annual_reports", _("年度报告草稿（第十六条）"), annual_report_batch_item)
        registry.register("year_close", _("年度结转（第十三条）"), year_close_batch_item, with_requester=True,
                          start_page="batches:year-close", preview=fund_year_close_preview)
