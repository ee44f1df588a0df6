"""Logins, sessions and headers."""
import pytest
from django.urls import reverse

from fundapp.demo import DEMO_PASSWORD
from fundapp.models import Role


def login(client, username, password=DEMO_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_out(org, client):
    for _ in range(4):
        assert "用户名或密码不正确" in login(client, "a1-community_secretary", "wrong").content.decode()
    assert login(client, "a1-community_secretary", "wrong").status_code == 429  # the fifth failure locks
    response = login(client, "a1-community_secretary")  # even the right password now
    assert response.status_code == 429 and "账号暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # other accounts are unaffected
    assert login(client, "a2-community_secretary").status_code == 302


@pytest.mark.django_db
def test_deactivating_a_user_ends_their_sessions(org, client):
    user = org.person(Role.FINANCE_OFFICER)
    assert login(client, user.username).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    user.is_active = False
    user.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_login_rotates_the_session_key(org, client):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    login(client, org.person(Role.SUPERVISOR).username)
    assert client.session.session_key != before


@pytest.mark.django_db
def test_every_page_sends_a_csp_without_inline_scripts(org, client):
    client.force_login(org.person(Role.COMMUNITY_SECRETARY))
    for url in [reverse("home"), reverse("approvals:proposals"), reverse("public:index"), reverse("login")]:
        policy = client.get(url)["Content-Security-Policy"]
        script = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script and "'self'" in script, url
        assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_state_changing_requests_without_csrf_token_are_refused(org):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.person(Role.COMMUNITY_STAFF))
    response = client.post(reverse("approvals:needs") + "?community=a1",
                           {"channel": "door", "description": "x", "community": "a1"})
    assert response.status_code == 403
    from approvals.models import Need

    assert not Need.objects.exists()


def test_no_template_has_inline_script():
    """Everything runs under script-src 'self': no <script> body and no on* handler in any template."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def _code(device):
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.mark.django_db
def test_signers_and_payers_must_set_up_and_use_two_factor_login(org, client, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.TWO_FACTOR_REQUIRED = True
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    assert login(client, secretary.username).status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("two-factor-setup") in response["Location"]
    setup = client.get(reverse("two-factor-setup")).content.decode()
    assert "<svg" in setup  # the QR code, drawn on the server
    device = TOTPDevice.objects.get(user=secretary, confirmed=False)
    page = client.post(reverse("two-factor-setup"), {"token": "000000"}).content.decode()
    assert "验证码不正确" in page
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1  # wrong codes slow the next try
    device.throttle_reset()
    assert client.post(reverse("two-factor-setup"), {"token": _code(device)}).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    # next time: password, then the code
    client.logout()
    login(client, secretary.username)
    assert reverse("two-factor-verify") in client.get(reverse("approvals:proposals"))["Location"]
    device.refresh_from_db()
    device.last_t = -1  # allow this test to reuse the current time step
    device.save()
    response = client.post(reverse("two-factor-verify"), {"token": _code(device), "next": "/proposals/"})
    assert response.status_code == 302 and response["Location"] == "/proposals/"


@pytest.mark.django_db
def test_roles_that_neither_sign_nor_pay_need_no_second_factor(org, client, settings):
    settings.TWO_FACTOR_REQUIRED = True
    for role in (Role.COMMUNITY_STAFF, Role.SUPERVISOR, Role.SUBDISTRICT_STAFF):
        client.logout()
        login(client, org.person(role).username)
        assert client.get(reverse("home")).status_code == 200, role
    for role in (Role.FINANCE_OFFICER, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_SECRETARY, Role.CITY_ADMIN):
        client.logout()
        login(client, org.person(role).username)
        assert client.get(reverse("home")).status_code == 302, role


@pytest.mark.django_db
def test_admin_needs_the_second_factor_too(org, client, settings):
    settings.TWO_FACTOR_REQUIRED = True
    client.force_login(org.city_admin)
    assert client.get("/admin/").status_code == 302
