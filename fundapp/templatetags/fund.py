from django import template

from ..money import format_yuan

register = template.Library()


@register.filter
def yuan(amount):
    """¥1,234.56"""
    if amount in (None, ""):
        return ""
    return format_yuan(amount)
