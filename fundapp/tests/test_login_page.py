import pytest
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize("language, words, address", [("zh-hans", "居民请访问公开页面", "/public/zh/"),
                                                       ("en", "Residents: go to the public pages", "/public/en/")])
def test_the_login_page_links_residents_to_the_public_pages(client, language, words, address):
    client.cookies["django_language"] = language
    page = client.get(reverse("login")).content.decode()
    # The public pages in the language the login page is read in, and the link leads there.
    assert f'<a href="{address}">{words}</a>' in page
    response = client.get(address)
    assert response.status_code == 200 and f'<html lang="{language}">' in response.content.decode()
