from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import rights
from .models import Post


# What a city administrator in office may do in the back office, as Django model permissions. They are
# derived from the post (fundapp.auth.CityAdminBackend), never stored, and are all they get: view every
# model shown here except the account apps below, and write only through the service-backed pages.
CITY_ADMIN_WRITES = {
    "fundapp.subdistrict": ("add", "change"),  # fundapp.services.org.subdistrict_create / _update
    "fundapp.community": ("add", "change"),  # fundapp.services.org.community_create / _update
    "fundapp.post": ("add", "change"),  # fundapp.services.org.post_save
    "fundapp.ledgerentry": ("add",),  # an allocation: fundapp.services.ledger.fund_year_allocate
}
# Accounts, groups, second-factor devices and login lockouts: not the city administrator's to edit. They
# see people (to choose a post's holder) and act on accounts only through the audited actions of
# fundapp.admin.AccountAdmin; the rest is the operator's.
ACCOUNT_APPS = frozenset({"auth", "otp_totp", "axes"})
CITY_ADMIN_ACCOUNT_VIEW = "auth.view_user"


def city_admin_permissions():
    """The exact set of model permissions ("app_label.codename") of a city administrator in office."""
    perms = {f"{model._meta.app_label}.view_{model._meta.model_name}" for model in admin.site._registry
             if model._meta.app_label not in ACCOUNT_APPS}
    for label, verbs in CITY_ADMIN_WRITES.items():
        app_label, model_name = label.split(".")
        perms.update(f"{app_label}.{verb}_{model_name}" for verb in verbs)
    perms.add(CITY_ADMIN_ACCOUNT_VIEW)
    return frozenset(perms)


class FundAdminSite(admin.AdminSite):
    site_header = _("专项经费后台管理")
    site_title = _("专项经费后台管理")
    index_title = _("市委组织部管理后台")

    def has_permission(self, request):
        # The back office belongs to city administrators in office. A superuser who never held a post
        # (the server operator's own account) keeps access for setting up the first administrator.
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if settings.TWO_FACTOR_REQUIRED and not user.is_verified():
            return False
        if Post.objects.filter(user=user).exists():
            return rights.is_city_admin(user)
        return user.is_superuser


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written here: what the services own (the audit trail, fund years, the calendar)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
