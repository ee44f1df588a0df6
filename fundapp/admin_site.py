from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import rights
from .models import Post


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
