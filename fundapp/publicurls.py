"""The language is part of every public address: /public/zh/… and /public/en/….

A shared cache in front of the site (a proxy, a CDN) keys on the URL, so the URL alone must say which
language a page is in. The segment after /public/ is the language's primary subtag (zh-hans → zh, en → en,
from settings.LANGUAGES). Like Django's i18n_patterns, the prefix pattern matches only the active language's
segment (the middleware activates the language the address names first), and reverse() gives the address in
the active language; `bare(path)` takes the language out again for addresses printed on paper or stored,
which go through the bare address's redirect to the reader's language.

Public identifiers: records named on public addresses (proposals, notices, documents) carry a random
`public_id` (`new_public_id`), never their sequential primary key.
"""
import re
import secrets

from django.conf import settings
from django.utils.translation import get_language

PREFIX = "public/"
PUBLIC_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: read aloud or typed from paper
PUBLIC_ID_LENGTH = 12  # 32**12 = 2**60 possibilities


def new_public_id():
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


class PublicIdConverter:
    regex = f"[{PUBLIC_ID_ALPHABET}]{{{PUBLIC_ID_LENGTH}}}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


def segments():
    """{language code: its segment in public addresses}, e.g. {"zh-hans": "zh", "en": "en"}."""
    found = {code: code.split("-")[0].lower() for code, _name in settings.LANGUAGES}
    assert len(set(found.values())) == len(found), "two languages share a public address segment"
    return found


def segment(language=None):
    language = language or get_language() or settings.LANGUAGE_CODE
    table = segments()
    return table.get(language) or table[settings.LANGUAGE_CODE]


def language_of_path(path):
    """The language a public address names (`/public/en/…` → "en"), or None."""
    match = re.match(r"^/public/([a-z]+)/", path)
    if match:
        for code, seg in segments().items():
            if seg == match.group(1):
                return code
    return None


def bare(path):
    """`/public/zh/c1/2026/` → `/public/c1/2026/`: the address that redirects to the reader's language."""
    language = language_of_path(path)
    if language is None:
        return path
    return "/" + PREFIX + path[len(f"/{PREFIX}{segments()[language]}/"):]


def in_language(path, language):
    """The same public address in another language (a bare address gets the language added)."""
    rest = bare(path)
    if not rest.startswith("/" + PREFIX):
        return path
    return f"/{PREFIX}{segments()[language]}/" + rest[len("/" + PREFIX):]


class PublicLanguagePrefix:
    """Matches `public/<segment of the active language>/`; reverse() gives the active language's prefix."""

    def __init__(self):
        self.converters = {}

    @property
    def regex(self):
        # Only used by reverse() and cached per language in the resolver's _reverse_dict.
        return re.compile(re.escape(self.language_prefix))

    @property
    def language_prefix(self):
        return f"{PREFIX}{segment()}/"

    def match(self, path):
        prefix = self.language_prefix
        if path.startswith(prefix):
            return path.removeprefix(prefix), (), {}
        return None

    def check(self):
        return []

    def describe(self):
        return f"'{self}'"

    def __str__(self):
        return self.language_prefix


def public_patterns(*urls):
    from django.urls import URLResolver

    return [URLResolver(PublicLanguagePrefix(), list(urls))]
