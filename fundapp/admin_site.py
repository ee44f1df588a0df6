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


# The back office speaks Chinese: the third-party apps shown there carry no Chinese names of their own
# ("Axes", "Otp_Totp", "TOTP devices"). Named here and applied from FundappConfig.ready(); only the running
# names change (never a model's Meta as declared), so no migration of those apps follows.
THIRD_PARTY_APP_NAMES = {
    "axes": _("登录保护"),
    "otp_totp": _("动态口令（第二重验证）"),
    "guardian": _("对象权限"),
    "django_otp": _("第二重验证"),
}
THIRD_PARTY_MODEL_NAMES = {
    "axes.accessattempt": (_("登录失败记录"), _("登录失败记录")),
    "axes.accesslog": (_("登录记录"), _("登录记录")),
    "axes.accessfailurelog": (_("登录失败日志"), _("登录失败日志")),
    "axes.accessattemptexpiration": (_("登录失败记录有效期"), _("登录失败记录有效期")),
    "otp_totp.totpdevice": (_("动态口令设备"), _("动态口令设备")),
    "guardian.userobjectpermission": (_("用户对象权限"), _("用户对象权限")),
    "guardian.groupobjectpermission": (_("用户组对象权限"), _("用户组对象权限")),
}


def name_third_party_apps():
    from django.apps import apps

    for label, name in THIRD_PARTY_APP_NAMES.items():
        if label in apps.app_configs:
            apps.get_app_config(label).verbose_name = name
    for label, (single, plural) in THIRD_PARTY_MODEL_NAMES.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        model._meta.verbose_name, model._meta.verbose_name_plural = single, plural


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
