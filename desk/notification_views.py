"""A person's notifications: the inbox (every hand-off and reminder, newest first, mark read) and how they
want to be told (email, the city's messaging gateway, at once or in a daily digest)."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fundapp.models import Notification
from fundapp.services import channels
from fundapp.services import notify as notify_services


@login_required
def inbox(request):
    page = Paginator(request.user.notifications.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(request, "fundapp/notifications.html", {"page": page})


@login_required
@require_POST
def read(request, pk):
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    notify_services.notification_read(notification_id=notification.pk, user=request.user)
    return redirect("notifications")


@login_required
@require_POST
def read_all(request):
    notify_services.notifications_read_all(user=request.user)
    return redirect("notifications")


class PreferencesForm(forms.Form):
    email = forms.BooleanField(label=gettext_lazy("电子邮件"), required=False)
    webhook = forms.BooleanField(label=gettext_lazy("政务消息平台（政务微信、钉钉或短信）"), required=False)
    digest = forms.TypedChoiceField(
        label=gettext_lazy("何时发送"), coerce=lambda v: v == "1", widget=forms.RadioSelect,
        choices=[("0", gettext_lazy("即时发送")), ("1", gettext_lazy("每天早上汇总发送一次"))])


@login_required
def preferences(request):
    current = notify_services.preferences_of(request.user)
    registry = channels.registry()
    offered = {name: registry[name].configured() and registry[name].reaches(request.user)
               for name in ("email", "webhook") if name in registry}
    form = PreferencesForm(request.POST or None, initial={
        "email": current.email, "webhook": current.webhook, "digest": "1" if current.digest else "0"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        notify_services.notification_preferences_save(
            user=request.user, email=data["email"] and offered.get("email", False),
            webhook=data["webhook"] and offered.get("webhook", False), digest=data["digest"])
        messages.success(request, _("提醒方式已保存。"))
        return redirect("notification-preferences")
    return render(request, "fundapp/notification_preferences.html", {"form": form, "offered": offered})
