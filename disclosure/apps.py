from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = _("公开公示")

    def ready(self):
        # The year-end disclosure's last day moves when the working-day calendar changes (SPEC §9).
        from workdays import derived

        from .derived_dates import DisclosureDates

        derived.register(DisclosureDates())

        # The year-end disclosures as a batch job, and their progress on the batches page.
        from batches import registry

        from .selectors import disclosure_status
        from .services import disclosure_generate, disclosure_missing

        # with_requester: each poster records who started the run that made it (Art. 17).
        registry.register("disclosures", _("年终公示（第十五条）"), disclosure_generate, status=disclosure_status,
                          with_requester=True, verify=disclosure_missing)
