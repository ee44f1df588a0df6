from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class FundappConfig(AppConfig):
    default = True
    name = "fundapp"
    verbose_name = _("专项经费")

    def ready(self):
        from . import security_log

        security_log.connect_signals()
        security_log.install()
        from .admin_site import name_third_party_apps

        name_third_party_apps()


class FundAdminConfig(admin_apps.AdminConfig):
    default = False
    """The Django admin, served by our site class that admits only city administrators in office."""

    default_site = "fundapp.admin_site.FundAdminSite"

    def ready(self):
        super().ready()  # discovers every app's admin module
        from .admin import audit_account_admins
        from .third_party_admin import translate_third_party_admins

        translate_third_party_admins()
        audit_account_admins()
