from django.conf import settings
from django.utils import translation

from .publicurls import language_of_path


class ChineseFirstLocaleMiddleware:
    """The language is Simplified Chinese unless the person chose another with the language switch.

    Django's LocaleMiddleware follows the browser's Accept-Language, so an intranet PC with an English
    browser would get English pages nobody asked for; here only the explicit choice (the language
    cookie set by the switch) counts. A residents' page names its language in its address
    (/public/zh/…, /public/en/…: fundapp.publicurls), and that address alone decides, so that a shared cache
    keyed on the URL serves every reader the language they asked for.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = language_of_path(request.path_info)
        if language is None:
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
