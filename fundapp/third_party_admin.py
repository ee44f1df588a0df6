"""The back-office pages of the third-party account apps (django-otp's TOTP devices, axes' login lockouts) in
the site's language.

Their labels are the packages' own English. The strings a package marks for translation (axes' field names,
filters, fieldset titles, its action) are translated into Chinese by locale/zh_Hans/LC_MESSAGES/django.po,
whose msgids are the packages' English. The ones a package writes without gettext (a TOTP device's field
names and help texts, its admin's fieldset titles and QR-code column) are passed through gettext here, at
run time, so that the same catalogue translates them; an English page shows the packages' English.

What the packages build by string formatting (an object's title, the tries remaining, a column with no
title) cannot be caught by a catalogue: those few texts are ours, Chinese with their English in the en
catalogue like every other string of the project.

Only the running labels change: a field's verbose_name (its declared one, which migrations read, is kept
apart by Django) and the admin's forms; never a help_text or Meta as declared, so no migration of those apps
follows.
"""
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

# Models whose field names and help texts the package leaves unmarked.
UNMARKED_FIELDS = ("otp_totp.totpdevice",)


def _through_gettext(text):
    """The package's English text, looked up in the catalogue when shown (a lazy text stays as it is)."""
    return gettext_lazy(text) if isinstance(text, str) and text else text


def _when(moment):
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else "-"


class PackageLabelsAdmin:
    """Mixed into the admin of a third-party account model: its unmarked fieldset titles and help texts go
    through gettext."""

    def get_fieldsets(self, request, obj=None):
        return [(_through_gettext(name), options) for name, options in super().get_fieldsets(request, obj)]

    def get_form(self, request, obj=None, **kwargs):
        # Meta.help_texts reach the editable fields and, in the admin, the read-only ones too.
        help_texts = {field.name: _through_gettext(field.help_text) for field in self.model._meta.fields
                      if isinstance(field.help_text, str) and field.help_text}
        help_texts.update(kwargs.pop("help_texts", None) or {})
        return super().get_form(request, obj, help_texts=help_texts, **kwargs)


class AccessAttemptLabels(PackageLabelsAdmin):
    @admin.display(description=_("状态"))
    def status(self, obj):
        from axes.conf import settings as axes_settings

        limit = axes_settings.AXES_FAILURE_LIMIT
        if obj.failures_since_start < limit:
            return gettext("还可尝试 %(count)d 次") % {"count": limit - obj.failures_since_start}
        return gettext("已锁定")


class TOTPDeviceLabels(PackageLabelsAdmin):
    search_help_text = _("可按用户的用户名或电子邮件地址搜索")

    @admin.display(description=_("二维码"))
    def qrcode_link(self, device):
        try:
            href = reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk})
        except NoReverseMatch:
            return ""
        return format_html('<a href="{}">{}</a>', href, gettext("查看二维码"))


LABELLED_ADMINS = {
    "axes.accessattempt": AccessAttemptLabels,
    "axes.accesslog": PackageLabelsAdmin,
    "axes.accessfailurelog": PackageLabelsAdmin,
    "otp_totp.totpdevice": TOTPDeviceLabels,
}


def _attempt_str(self):
    return gettext("%(username)s 的登录失败记录（%(time)s）") % {
        "username": self.username or "-", "time": _when(self.attempt_time)}


def _log_str(self):
    return gettext("%(username)s 的登录记录（%(time)s）") % {
        "username": self.username or "-", "time": _when(self.attempt_time)}


def _failure_str(self):
    values = {"username": self.username or "-", "time": _when(self.attempt_time), "ip": self.ip_address or "-"}
    if self.locked_out:
        return gettext("%(username)s 登录失败并被锁定（%(time)s，来自 %(ip)s）") % values
    return gettext("%(username)s 登录失败（%(time)s，来自 %(ip)s）") % values


OBJECT_TITLES = {
    "axes.accessattempt": _attempt_str,
    "axes.accesslog": _log_str,
    "axes.accessfailurelog": _failure_str,
}


def translate_third_party_admins(site=None):
    """Give the registered admins of the third-party account models their labels in the site's language.
    Called once the admin has discovered its modules (fundapp.apps.FundAdminConfig.ready), before
    fundapp.admin.audit_account_admins."""
    from django.apps import apps

    site = site or admin.site
    for label in UNMARKED_FIELDS:
        for field in apps.get_model(label)._meta.fields:
            field.verbose_name = _through_gettext(field.verbose_name)
    for label, title in OBJECT_TITLES.items():
        apps.get_model(label).__str__ = title
    for model, model_admin in list(site._registry.items()):
        mixin = LABELLED_ADMINS.get(model._meta.label_lower)
        cls = type(model_admin)
        if mixin and not issubclass(cls, mixin):
            site.unregister(model)
            site.register(model, type(f"Labelled{cls.__name__}", (mixin, cls), {}))
