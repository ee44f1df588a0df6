"""Context for every page (settings.TEMPLATES): the signed-in person's unread notifications, counted with
one cheap query (an index on (user, read_at)), and only when a template shows the count."""
from django.utils.functional import SimpleLazyObject


def unread_notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_count": SimpleLazyObject(lambda: user.notifications.filter(read_at__isnull=True).count())}
