"""Two-factor login (TOTP) for the people who sign and pay, and for administrators.

After the password, such a person proves a code from an authenticator app; the first time, they set one
up by scanning a QR code. Required when settings.TWO_FACTOR_REQUIRED (on in production).
"""
import segno
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import rights, security_log
from .models import Role

SIGNING_AND_PAYING = {Role.CITY_ADMIN, Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR,
                      Role.FINANCE_OFFICER, Role.COMMUNITY_SECRETARY}


def requires_two_factor(user):
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return rights.current_posts(user).filter(role__in=SIGNING_AND_PAYING).exists()


def exempt(path):
    prefixes = [reverse("login"), reverse("logout"), reverse("two-factor-verify"), reverse("two-factor-setup"),
                settings.STATIC_URL, "/public/", "/i18n/"]
    return any(path.startswith(p) for p in prefixes)


class TwoFactorMiddleware:
    """Sends a person who must use two factors, and has not yet done so in this session, to do it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (settings.TWO_FACTOR_REQUIRED and user.is_authenticated and not user.is_verified()
                and not exempt(request.path) and requires_two_factor(user)):
            target = "two-factor-verify" if user_has_device(user) else "two-factor-setup"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.RegexField(label=_("动态验证码"), regex=r"^\d{6}$", max_length=6,
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
                             error_messages={"invalid": _("请输入认证器上显示的 6 位数字。")})


def _next(request):
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or reverse("home")
    # A path on this site only: redirect() would take anything else for a view name (and fail on it).
    ok = target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if ok else reverse("home")


@login_required
def verify(request):
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in TOTPDevice.objects.devices_for_user(request.user, confirmed=True):
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return redirect(_next(request))
        security_log.two_factor_failed(request)
        form.add_error("token", _("验证码不正确或已过期，请输入认证器上最新的 6 位数字。"))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)})


@login_required
def setup(request):
    if user_has_device(request.user):
        return redirect(f"{reverse('two-factor-verify')}?next={_next(request)}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first() or TOTPDevice.objects.create(
        user=request.user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next(request))
        security_log.two_factor_failed(request)
        form.add_error("token", _("验证码不正确，请确认认证器已添加本账号，并输入最新的 6 位数字。"))
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#1f1f1f")
    return render(request, "registration/two_factor_setup.html", {
        "form": form, "qr": mark_safe(qr), "next": _next(request),
        "secret": __import__("base64").b32encode(device.bin_key).decode(),
    })
