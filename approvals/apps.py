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
