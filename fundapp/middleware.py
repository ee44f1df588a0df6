from django.conf import settings
from django.utils import translation


class ChineseFirstLocaleMiddleware:
    """The language is Simplified Chinese unless the person chose another with the language switch.

    Django's LocaleMiddleware follows the browser's Accept-Language, so an intranet PC with an English
    browser would get English pages nobody asked for; here only the explicit choice (the language
    cookie set by the switch) counts.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
