"""The back-office pages of the third-party account apps (axes' login lockouts, django-otp's TOTP devices)
speak the site's language: Chinese column headers, filters, field labels, help texts, fieldset titles and
object titles in zh-hans (locale/zh_Hans for the packages' English; fundapp.third_party_admin), the packages'
English in en. Seen by the operator's superuser, the only one who may open them (fundapp.admin_site)."""
import re
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.test_translations import HAN, read_po

ZH_CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# (Chinese that must be shown, English that must not) on the list page and on the change page, and the
# English an English page shows instead.
PAGES = {
    AccessAttempt: {
        "list": (["尝试时间", "IP 地址", "浏览器标识", "用户名", "访问路径", "失败次数", "状态", "还可尝试 2 次",
                  "以 尝试时间", "以 已锁定", "登录失败记录"],
                 ["Attempt Time", "IP Address", "User Agent", "Username", "Path", "Failed Logins", "Status",
                  "Attempt Remaining", "Locked Out", "Clean up expired attempts", "access attempt"]),
        "change": (["lisi 的登录失败记录", "用户名", "访问路径", "失败次数", "登录失败记录有效期", "表单数据", "查询参数",
                    "提交的表单数据", "请求信息", "浏览器标识", "IP 地址", "可接受的内容类型"],
                   ["Attempted Access", "Username", "Path", "Failed Logins", "Expiration", "Form Data",
                    "GET Data", "POST Data", "Meta Data", "User Agent", "IP Address", "HTTP Accept"]),
        "en": ["Attempt Time", "IP Address", "User Agent", "Failed Logins", "Attempts remaining: 2",
               "By Locked Out", "Form Data", "Meta Data", "HTTP Accept"],
    },
    AccessLog: {
        "list": (["尝试时间", "退出时间", "IP 地址", "用户名", "浏览器标识", "访问路径", "以 退出时间", "登录记录"],
                 ["Attempt Time", "Logout Time", "IP Address", "Username", "User Agent", "Path",
                  "access log"]),
        "change": (["lisi 的登录记录", "用户名", "访问路径", "请求信息", "浏览器标识", "IP 地址", "可接受的内容类型"],
                   ["Access Log for", "Username", "Path", "Meta Data", "User Agent", "IP Address",
                    "HTTP Accept"]),
        "en": ["Attempt Time", "Logout Time", "User Agent", "Meta Data", "Login of lisi"],
    },
    AccessFailureLog: {
        "list": (["尝试时间", "IP 地址", "用户名", "浏览器标识", "访问路径", "是否锁定", "以 是否锁定", "登录失败日志"],
                 ["Attempt Time", "IP Address", "Username", "User Agent", "Path", "Access lock out",
                  "access failure"]),
        "change": (["lisi 登录失败并被锁定", "来自 10.0.0.1", "用户名", "访问路径", "请求信息", "浏览器标识"],
                   ["Failed access", "locked out", "Username", "Path", "Meta Data", "User Agent"]),
        "en": ["Access lock out", "User Agent", "Failed login of lisi, locked out"],
    },
    TOTPDevice: {
        "list": (["用户", "名称", "创建时间", "最近使用时间", "已确认", "二维码", "查看二维码", "以 创建时间", "以 已确认",
                  "可按用户的用户名或电子邮件地址搜索", "动态口令设备"],
                 ["User", "Name", "Created at", "created at", "Last used at", "Confirmed", "confirmed",
                  "QR Code", "qrcode", "Search by", "TOTP device"]),
        "change": (["设备", "此设备所属的用户。", "便于识别此设备的名称。", "此设备是否已可使用。", "时间", "创建时间",
                    "此设备在系统中创建的日期和时间。", "最近使用时间", "配置", "密钥", "十六进制编码的密钥", "时间步长",
                    "起始时间", "位数", "验证码的位数。", "容差", "状态", "时钟偏差", "失败限制", "最近验证失败时间",
                    "连续验证失败次数", "连续验证失败的次数。", "二维码"],
                   ["Identity", "The user that this device belongs to", "The human-readable name",
                    "Is this device ready", "Timestamps", "Created at", "initially created", "Last used at",
                    "Configuration", "Key", "hex-encoded", "Step", "T0", "Digits", "Tolerance", "State",
                    "Drift", "Throttling", "throttling", "successive failed attempts", "QR Code", "qrcode"]),
        "en": ["Identity", "The user that this device belongs to.", "Timestamps", "Configuration",
               "Throttling", "Created at", "Throttling failure count", "QR code"],
    },
}


def visible(html):
    """The page's text: no scripts, styles, tags or attributes."""
    html = re.sub(r"<(script|style|template)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def operator_client(make_user, client, settings):
    settings.TWO_FACTOR_REQUIRED = False
    operator = make_user("operator", is_superuser=True, is_staff=True)
    client.force_login(operator)
    seen = {"user_agent": "Mozilla/5.0 (X11)", "ip_address": "10.0.0.1", "username": "lisi",
            "http_accept": "text/html", "path_info": "/accounts/login/"}
    objects = {
        AccessAttempt: AccessAttempt.objects.create(get_data="", post_data="", failures_since_start=3, **seen),
        AccessLog: AccessLog.objects.create(**seen),
        AccessFailureLog: AccessFailureLog.objects.create(locked_out=True, **seen),
        TOTPDevice: TOTPDevice.objects.create(user=operator, name="phone", confirmed=True),
    }
    return client, objects


def _pages(client, model, obj):
    opts = model._meta
    pages = {}
    for kind, url in (("list", reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")),
                      ("change", reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))):
        response = client.get(url)
        assert response.status_code == 200, url
        pages[kind] = visible(response.content.decode())
    return pages


@pytest.mark.django_db
@pytest.mark.parametrize("model", list(PAGES), ids=lambda m: m._meta.label)
def test_the_pages_speak_chinese_and_english(operator_client, model):
    client, objects = operator_client
    pages = _pages(client, model, objects[model])
    for kind in ("list", "change"):
        chinese, english = PAGES[model][kind]
        for text in chinese:
            assert text in pages[kind], f"{kind}: {text!r} missing"
        for text in english:
            assert text not in pages[kind], f"{kind}: {text!r} still shown"

    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    pages = _pages(client, model, objects[model])
    both = pages["list"] + pages["change"]
    for text in PAGES[model]["en"]:
        assert text in both, f"en: {text!r} missing"
    assert not HAN.search(both.replace("phone", "")), "Chinese on an English page"


@pytest.mark.django_db
def test_the_qr_code_page_of_a_device_speaks_chinese(operator_client):
    client, objects = operator_client
    url = reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": objects[TOTPDevice].pk})
    page = visible(client.get(url).content.decode())
    assert "动态口令设备的二维码" in page and "二维码无法显示" in page
    assert "Install" not in page and "use the URL below" not in page
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "QR code of the one-time code device" in visible(client.get(url).content.decode())


def test_the_catalogue_translates_only_the_packages_english_and_never_djangos():
    """Every entry is an English msgid with Chinese, and none repeats a msgid Django or another installed app
    already translates into Chinese (this file would override it everywhere)."""
    import gettext

    import django
    from django.apps import apps

    entries = [e for e in read_po(ZH_CATALOGUE) if e["msgid"]]
    assert entries and all(not HAN.search(e["msgid"]) and e["msgstr"] and HAN.search(e["msgstr"][0])
                           for e in entries)
    # Django's own catalogue and every installed app's (the project's apps have none: their Chinese is the
    # source).
    roots = [Path(django.__file__).parent / "conf"] + [Path(a.path) for a in apps.get_app_configs()]
    theirs = {}
    for root in roots:
        mo = root / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
        if mo.is_file():
            with mo.open("rb") as handle:
                theirs.update({k: v for k, v in gettext.GNUTranslations(handle)._catalog.items() if k and v})
    assert "user" in theirs and "Yes" in theirs  # Django's catalogues were read
    repeated = [e["msgid"] for e in entries if e["msgid"] in theirs]
    assert not repeated, repeated
    result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(ZH_CATALOGUE)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_the_run_time_labels_need_no_migration_of_those_apps():
    out = StringIO()
    call_command("makemigrations", "otp_totp", "axes", check=True, dry_run=True, stdout=out)
    assert "No changes detected" in out.getvalue()
