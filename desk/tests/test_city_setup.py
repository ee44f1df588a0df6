"""The city administrator's roster import pages (desk/city_setup_views.py): template, upload and dry run,
apply; everyone else 403."""
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditRecord
from fundapp.models import Community, Post, Role
from tests import roster

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(client, data, name="名册.xlsx"):
    return client.post(reverse("city-setup:index"),
                       {"workbook": SimpleUploadedFile(name, data, content_type="application/octet-stream")})


def _hidden(html, name):
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def test_only_city_administrators_open_the_pages(org, client):
    urls = [reverse("city-setup:index"), reverse("city-setup:template")]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login
    client.force_login(org.person(Role.SUBDISTRICT_SECRETARY, "a1"))
    for url in urls:
        assert client.get(url).status_code == 403
    assert _upload(client, roster.workbook(roster.city(1, 1))).status_code == 403
    assert client.post(reverse("city-setup:apply"), {"token": "x"}).status_code == 403
    assert not Community.objects.filter(code="c1").exists()
    client.force_login(org.city_admin)
    home = client.get(reverse("home")).content.decode()
    assert reverse("city-setup:index") in home


def test_download_upload_preview_apply_and_import_again(org, client):
    client.force_login(org.city_admin)
    template = client.get(reverse("city-setup:template"))
    assert template["Content-Disposition"].startswith('attachment; filename="city-roster-template.xlsx"')
    assert openpyxl.load_workbook(io.BytesIO(template.content)).sheetnames == ["街道", "社区", "人员与任职", "说明"]

    data = roster.workbook(roster.city(1, 2))
    audit_before = AuditRecord.objects.count()
    preview = _upload(client, data).content.decode()
    assert 'data-sheet="people"><td>人员与任职</td><td class="n-new">10</td>' in preview
    assert AuditRecord.objects.count() == audit_before and not Community.objects.filter(code="c1").exists()
    token, fingerprint = _hidden(preview, "token"), _hidden(preview, "fingerprint")

    # A token from someone else's upload, or tampered with, applies nothing.
    refused = client.post(reverse("city-setup:apply"), {"token": token[:-2] + "xx", "fingerprint": fingerprint})
    assert "上传的文件已过期或无效" in refused.content.decode() and AuditRecord.objects.count() == audit_before

    done = client.post(reverse("city-setup:apply"), {"token": token, "fingerprint": fingerprint}, follow=True)
    assert "名册已导入：新增 13 行，修改 0 行，0 行不变。" in done.content.decode()
    assert Post.objects.filter(community__code__in=["c1", "c2"]).count() == 6
    written = AuditRecord.objects.count()

    again = _upload(client, data).content.decode()
    assert "没有需要导入的内容" in again and 'name="token"' not in again
    assert client.post(reverse("city-setup:apply"), {"token": token, "fingerprint": fingerprint}).status_code == 200
    assert AuditRecord.objects.count() == written  # the used upload is gone: nothing applied twice


def test_the_preview_lists_errors_by_row_and_column_and_offers_no_apply(org, client):
    client.force_login(org.city_admin)
    city = roster.city(1, 1)
    city["people"][0]["role"] = "队长"
    page = _upload(client, roster.workbook(city)).content.decode()
    assert "<td>人员与任职</td><td>2</td><td>D（职务）</td><td>未知的职务“队长”" in page
    assert 'name="token"' not in page
    refused = _upload(client, b"not a workbook", name="名册.csv").content.decode()
    assert "请上传 .xlsx 格式的 Excel 工作簿" in refused
    refused = _upload(client, b"not a workbook").content.decode()
    assert "这不是 Excel 工作簿（.xlsx）" in refused


def test_the_errors_read_in_the_persons_language(org, client):
    client.force_login(org.city_admin)
    client.cookies["django_language"] = "en"
    city = roster.city(1, 1)
    city["people"][0].update(role="队长", end_date="2026-02-30")
    page = _upload(client, roster.workbook(city)).content.decode()
    assert "Unknown role “队长”; it should be one of: City Organisation Department administrator" in page
    assert "“2026-02-30” is not a date: write it as 2026-01-01, or use an Excel date format." in page
    assert "Has errors" in page and "Setting up the city from Excel" in page


def test_an_apply_that_is_not_what_was_previewed_shows_the_new_preview(org, client):
    client.force_login(org.city_admin)
    preview = _upload(client, roster.workbook(roster.city(1, 1))).content.decode()
    token = _hidden(preview, "token")
    audit_before = AuditRecord.objects.count()
    page = client.post(reverse("city-setup:apply"), {"token": token, "fingerprint": "not-what-was-shown"})
    body = page.content.decode()
    assert page.status_code == 200 and "预览之后系统中的记录已有变化" in body
    assert AuditRecord.objects.count() == audit_before
    done = client.post(reverse("city-setup:apply"), {"token": _hidden(body, "token"),
                                                     "fingerprint": _hidden(body, "fingerprint")}, follow=True)
    assert "名册已导入" in done.content.decode() and Community.objects.filter(code="c1").exists()
