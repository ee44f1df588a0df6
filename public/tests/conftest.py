import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test of the residents' pages starts and ends with an empty cache: pages, versions, rate limits."""
    cache.clear()
    yield
    cache.clear()
