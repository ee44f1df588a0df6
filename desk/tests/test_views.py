import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from fundapp.demo import DEMO_PASSWORD
from fundapp.models import Role


def _login(client, username, password=DEMO_PASSWORD, language=None):
    if language:
        client.cookies["django_language"] = language
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username,password,message_zh,message_en",
    [
        ("nobody", DEMO_PASSWORD, "用户名或密码不正确", "username or password is incorrect"),
        ("a1-community_secretary", "wrong-password", "用户名或密码不正确", "username or password is incorrect"),
    ],
)
def test_bad_logins_get_a_clear_message_and_write_nothing(org, client, username, password, message_zh, message_en):
    user = get_user_model().objects.get(username="a1-community_secretary")
    response = _login(client, username, password)
    assert response.status_code == 200
    assert message_zh in response.content.decode()
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.last_login is None
    response = _login(client, username, password, language="en")
    assert message_en in response.content.decode()


@pytest.mark.django_db
def test_inactive_user_is_told_the_account_is_disabled(org, client):
    user = get_user_model().objects.get(username="a1-supervisor")
    user.is_active = False
    user.save()
    response = _login(client, "a1-supervisor")
    assert "该账号已停用" in response.content.decode()
    assert "_auth_user_id" not in client.session
    response = _login(client, "a1-supervisor", language="en")
    assert "This account has been disabled" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_role_reaches_its_home_page(org, client, role):
    user = org.person(role, "a1")
    response = _login(client, user.username)
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert f'data-role="{role.value}"' in home.content.decode()
    assert str(role.label) in home.content.decode()


@pytest.mark.django_db
def test_home_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_logout_needs_post_and_ends_the_session(org, client):
    client.force_login(org.person(Role.COMMUNITY_STAFF, "a1"))
    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_workday_calculator_answers_and_warns(org, client):
    client.force_login(org.person(Role.COMMUNITY_SECRETARY, "a1"))
    page = client.get(reverse("workday-calculator"), {"start": "2026-09-30", "days": "3"}).content.decode()
    assert "2026年10月9日" in page and "2026年10月10日" in page
    assert "尚未确认" not in page
    page = client.get(reverse("workday-calculator"), {"start": "2027-03-01", "days": "3"}).content.decode()
    assert "尚未确认" in page


@pytest.mark.django_db
@pytest.mark.parametrize("start", ["1800-01-01", "2026-02-30", "not-a-date"])
def test_workday_calculator_refuses_dates_outside_any_calendar(org, client, start):
    client.force_login(org.person(Role.COMMUNITY_SECRETARY, "a1"))
    page = client.get(reverse("workday-calculator"), {"start": start, "days": "3"}).content.decode()
    assert 'class="field-error"' in page
    assert "公示最后一天" not in page


@pytest.mark.django_db
def test_language_switch_changes_the_page(org, client):
    client.force_login(org.person(Role.COMMUNITY_SECRETARY, "a1"))
    assert "我的工作台" in client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("home")).content.decode()
    assert "My desk" in page and "我的工作台" not in page
