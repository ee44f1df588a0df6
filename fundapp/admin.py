"""The city administrator's back office. Writes go through the services, like every other path."""
from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .admin_site import ReadOnlyAdmin
from .errors import DomainError
from .money import parse_amount
from .models import Community, FundYear, LedgerEntry, Post, Subdistrict
from .services import money as money_services
from .services import org as org_services


class ServiceAdmin(admin.ModelAdmin):
    """Saves through a service; turns a refused rule into a form message instead of a 500."""

    def delete_model(self, request, obj):
        raise PermissionError("history is kept")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Subdistrict)
class SubdistrictAdmin(ServiceAdmin):
    list_display = ["name", "code", "party_committee_name", "construction_committee_name"]
    search_fields = ["name", "code"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
        else:
            created = org_services.subdistrict_create(
                name=obj.name, code=obj.code, by=request.user,
                party_committee_name=obj.party_committee_name,
                construction_committee_name=obj.construction_committee_name,
            )
            obj.pk = created.pk


@admin.register(Community)
class CommunityAdmin(ServiceAdmin):
    list_display = ["name", "code", "subdistrict"]
    list_filter = ["subdistrict"]
    search_fields = ["name", "code"]
    list_select_related = ["subdistrict"]

    def get_readonly_fields(self, request, obj=None):
        # Moving a community between subdistricts would silently move everyone's rights.
        return ["subdistrict"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
        else:
            obj.pk = org_services.community_create(
                subdistrict=obj.subdistrict, name=obj.name, code=obj.code, by=request.user
            ).pk


@admin.register(Post)
class PostAdmin(ServiceAdmin):
    list_display = ["user", "role", "community", "subdistrict", "start_date", "end_date"]
    list_filter = ["role", "subdistrict"]
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
    # Parsed by fundapp.money.parse_amount, so the admin gives the same messages as every other path.
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
            problem = money_services.fund_year_closed_error(data["community"], data["year"])
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
        entry = money_services.fund_year_allocate(
            community=data["community"], year=data["year"], amount=data["amount"],
            entry_date=data["entry_date"], by=request.user,
        )
        obj.pk = entry.pk

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
