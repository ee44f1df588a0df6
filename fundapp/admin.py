"""The city administrator's back office. Writes go through the services, like every other path."""
from pathlib import Path

from django import forms
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import rights
from .admin_site import ReadOnlyAdmin
from .errors import DomainError
from .amounts import parse_amount
from .models import Community, Delivery, FundYear, LedgerEntry, Notification, NotificationPreference, Post, Subdistrict
from .services import accounts as account_services
from .services import ledger as ledger_services
from .services import org as org_services


class ServiceAdmin(admin.ModelAdmin):
    """Saves through a service; turns a refused rule into a form message instead of a 500."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        raise PermissionError("history is kept")

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAccountAdmin:
    """Mixed into every back-office page of accounts, groups, second-factor devices and lockouts
    (fundapp.admin_site.ACCOUNT_APPS; applied by `audit_account_admins`): each addition, change and deletion
    is recorded in the audit trail (fundapp.services.accounts.back_office_act_record), beside Django's own
    log of the back office."""

    # Bulk actions: Django's own deletion, which passes through log_deletions (below), and ours, which go
    # through the services (audited). A third-party package's own action would act without a record; axes'
    # "clean up expired attempts" also fails outside a login request (it reads request.axes_attempt_time).
    # Lockouts expire by themselves (AXES_COOLOFF_TIME).
    def get_actions(self, request):
        return {name: entry for name, entry in super().get_actions(request).items()
                if name == "delete_selected" or _ours(entry[0])}

    def log_addition(self, request, obj, message):
        account_services.back_office_act_record(by=request.user, obj=obj, act="add", message=message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        account_services.back_office_act_record(by=request.user, obj=obj, act="change", message=message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            account_services.back_office_act_record(by=request.user, obj=obj, act="delete")
        return super().log_deletions(request, queryset)


def _ours(func):
    """Is an admin action one of this project's apps' (under BASE_DIR), not a third-party package's?"""
    config = django_apps.get_containing_app_config(getattr(func, "__module__", "") or "")
    if config is None:
        return False
    path = Path(config.path).resolve()  # the virtual environment may sit inside BASE_DIR too
    return path.is_relative_to(Path(settings.BASE_DIR).resolve()) and "site-packages" not in path.parts


def audit_account_admins(site=None):
    """Give every registered admin of an account model (ours and the third-party apps' — django-otp, axes)
    the AuditedAccountAdmin mixin. Called once the admin has discovered its modules
    (fundapp.apps.FundAdminConfig.ready)."""
    from .admin_site import ACCOUNT_APPS

    site = site or admin.site
    for model, model_admin in list(site._registry.items()):
        cls = type(model_admin)
        if model._meta.app_label in ACCOUNT_APPS and not issubclass(cls, AuditedAccountAdmin):
            site.unregister(model)
            site.register(model, type(f"Audited{cls.__name__}", (AuditedAccountAdmin, cls), {}))


@admin.register(Subdistrict)
class SubdistrictAdmin(ServiceAdmin):
    list_display = ["name", "code", "party_committee_name", "construction_committee_name"]
    search_fields = ["name", "code"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            org_services.subdistrict_update(subdistrict=obj, by=request.user,
                                            **{f: form.cleaned_data[f] for f in form.changed_data})
        else:
            created = org_services.subdistrict_create(
                name=obj.name, code=obj.code, by=request.user,
                party_committee_name=obj.party_committee_name,
                construction_committee_name=obj.construction_committee_name,
            )
            obj.pk = created.pk


@admin.register(Community)
class CommunityAdmin(ServiceAdmin):
    list_display = ["name", "code", "subdistrict", "phone"]
    list_filter = ["subdistrict"]
    search_fields = ["name", "code"]
    list_select_related = ["subdistrict"]

    def get_readonly_fields(self, request, obj=None):
        # Moving a community between subdistricts would silently move everyone's rights; its code is in
        # every public URL and on the QR codes of posters already printed.
        return ["subdistrict", "code"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            org_services.community_update(community=obj, by=request.user,
                                          **{f: form.cleaned_data[f] for f in form.changed_data})
        else:
            obj.pk = org_services.community_create(
                subdistrict=obj.subdistrict, name=obj.name, code=obj.code, by=request.user,
                phone=obj.phone, address=obj.address,
            ).pk


@admin.register(Post)
class PostAdmin(ServiceAdmin):
    list_display = ["user", "role", "acting", "community", "subdistrict", "start_date", "end_date"]
    list_filter = ["role", "acting", "subdistrict"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "community__name"]
    list_select_related = ["user", "community", "subdistrict"]
    autocomplete_fields = ["user"]
    date_hierarchy = "start_date"

    def save_model(self, request, obj, form, change):
        org_services.post_save(post=obj, by=request.user)


@admin.register(FundYear)
class FundYearAdmin(ReadOnlyAdmin):
    list_display = ["community", "year", "status", "allocated", "carried_in", "settled", "reserved",
                    "available_display"]
    list_filter = ["year", "status", "community__subdistrict"]
    search_fields = ["community__name"]
    list_select_related = ["community"]

    @admin.display(description=_("可用"))
    def available_display(self, obj):
        return obj.available


class AllocationForm(forms.ModelForm):
    community = forms.ModelChoiceField(Community.objects.all(), label=_("社区"))
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2200)
    # Parsed by fundapp.amounts.parse_amount, so the admin gives the same messages as every other path.
    amount = forms.CharField(label=_("金额"), max_length=30)

    class Meta:
        model = LedgerEntry
        fields = ["community", "year", "amount", "entry_date"]

    def clean(self):
        data = super().clean()
        try:
            if "amount" in data:
                data["amount"] = parse_amount(data["amount"])
        except DomainError as exc:
            self.add_error("amount", str(exc))
        if data.get("community") and data.get("year"):
            problem = ledger_services.fund_year_closed_error(data["community"], data["year"])
            if problem:
                self.add_error("year", problem)
        return data


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Entries are read-only; "add" records an allocation through the money service."""

    list_display = ["entry_date", "fund_year", "kind", "amount", "description", "created_by"]
    list_filter = ["kind", "fund_year__year"]
    search_fields = ["fund_year__community__name", "description"]
    list_select_related = ["fund_year__community", "created_by"]
    form = AllocationForm

    def get_changeform_initial_data(self, request):
        today = timezone.localdate()
        return {"year": today.year, "entry_date": today}

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        entry = ledger_services.fund_year_allocate(
            community=data["community"], year=data["year"], amount=data["amount"],
            entry_date=data["entry_date"], by=request.user,
        )
        obj.pk = entry.pk

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AccountAdmin(UserAdmin):
    """People's accounts. The city administrator sees who is who (to choose the holder of a post) and acts
    on an account only through the audited actions below (fundapp.services.accounts); editing accounts,
    groups and permissions, and second-factor devices, is left to the operator's own superuser."""

    list_display = ["username", "last_name", "first_name", "email", "is_active", "last_login"]
    list_filter = ["is_active"]
    actions = ["deactivate", "activate", "reset_second_factor"]
    _person_fieldsets = [
        (None, {"fields": ["username"]}),
        (_("个人信息"), {"fields": ["last_name", "first_name", "email"]}),
        (_("状态"), {"fields": ["is_active", "last_login", "date_joined"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser or obj is None:
            return super().get_fieldsets(request, obj)
        return self._person_fieldsets

    def has_account_permission(self, request):
        return rights.is_city_admin(request.user)

    def _each(self, request, queryset, act, done_message):
        done = 0
        for user in queryset:
            try:
                act(user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{user.get_username()}: {exc}", messages.ERROR)
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("停用所选账号"), permissions=["account"])
    def deactivate(self, request, queryset):
        self._each(request, queryset,
                   lambda user: account_services.user_set_active(user=user, active=False, by=request.user),
                   _("已停用 %(count)d 个账号。"))

    @admin.action(description=_("启用所选账号"), permissions=["account"])
    def activate(self, request, queryset):
        self._each(request, queryset,
                   lambda user: account_services.user_set_active(user=user, active=True, by=request.user),
                   _("已启用 %(count)d 个账号。"))

    @admin.action(description=_("重置所选账号的动态验证码"), permissions=["account"])
    def reset_second_factor(self, request, queryset):
        self._each(request, queryset,
                   lambda user: account_services.user_reset_second_factor(user=user, by=request.user),
                   _("已重置 %(count)d 个账号的动态验证码，下次登录时需重新绑定认证器。"))


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Every person's inbox rows (hand-offs, reminders): shown, never written here."""

    list_display = ["created_at", "user", "kind", "text", "read_at", "emailed_at", "digested_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "user__first_name", "text"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """What was sent on which channel, and what failed (after its retries) with the last error."""

    list_display = ["created_at", "user", "channel_label", "subject", "status", "attempts", "sent_at",
                    "last_error_short"]
    list_filter = ["status", "channel"]
    search_fields = ["user__username", "user__first_name", "subject"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    exclude = ["claim", "claimed_at"]

    @admin.display(description=_("渠道"), ordering="channel")
    def channel_label(self, obj):
        from .services import channels

        return channels.label(obj.channel)

    @admin.display(description=_("最近错误"))
    def last_error_short(self, obj):
        return obj.last_error[:80]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "email", "webhook", "digest", "updated_at"]
    list_select_related = ["user"]
