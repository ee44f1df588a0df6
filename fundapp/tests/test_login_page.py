import pytest
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize("language, words", [("zh-hans", "居民请访问公开页面"), ("en", "Residents: go to the public pages")])
def test_the_login_page_links_residents_to_the_public_pages(client, language, words):
    client.cookies["django_language"] = language
    page = client.get(reverse("login")).content.decode()
    assert f'<a href="{reverse("public:index")}">{words}</a>' in page
