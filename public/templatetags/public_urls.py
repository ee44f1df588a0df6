"""The language switch and the alternate-language links of the residents' pages (fundapp.publicurls)."""
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from fundapp import publicurls

register = template.Library()


@register.simple_tag(takes_context=True)
def page_in(context, language):
    """This page's address in `language` (/public/en/… for /public/zh/…)."""
    return publicurls.in_language(context["request"].path, language)


@register.simple_tag(takes_context=True)
def switch_to(context, language):
    """The language link: sets the reader's preference (the bare address's redirect follows it) and goes to
    this page's address in `language`."""
    return reverse("public:language") + "?" + urlencode({"to": language, "next": page_in(context, language)})


