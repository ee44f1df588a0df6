"""Context for every page (settings.TEMPLATES): the signed-in person's unread notifications, counted with
one cheap query (an index on (user, read_at)), and only when a template shows the count. Lazy through and
through: a page that does not show it (the residents' pages) never reads the session, so it is not sent
`Vary: Cookie` and a shared cache keeps one copy per address."""
from django.utils.functional import SimpleLazyObject


def unread_notifications(request):
    def count():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return 0
        return user.notifications.filter(read_at__isnull=True).count()

    return {"unread_count": SimpleLazyObject(count)}
