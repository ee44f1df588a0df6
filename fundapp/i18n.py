from django.conf import settings
from django.utils import translation


def record_language():
    """Text stored in records (ledger descriptions, notices) is written in the site's language, not in the
    language the acting user happens to read the site in."""
    return translation.override(settings.LANGUAGE_CODE)
