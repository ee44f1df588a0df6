"""Who is reminded of what, and when. Each reminder has a key, so a task re-run reminds nobody twice."""
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from .. import clock
from ..i18n import record_language
from ..models import Post, Role
from .notify import notify


def needs_collection_remind(today=None):
    """Art. 6: at the start of each year and quarter the community collects residents' needs."""
    today = today or clock.today()
    quarter = (today.month - 1) // 3 + 1
    users = get_user_model().objects.filter(
        posts__in=Post.objects.current(today).filter(role__in=[Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF])
    ).distinct()
    with record_language():
        text = _("请组织收集%(year)s年第%(q)s季度居民需求（第六条）。") % {"year": today.year, "q": quarter}
    return len(notify(users=users, kind="needs", key=f"needs:{today.year}Q{quarter}", text=text, link="/needs/"))


def leaders_of(community, today=None):
    """The 党工委 secretary and the 建管委 director in office for the community's subdistrict."""
    today = today or clock.today()
    return get_user_model().objects.filter(posts__in=Post.objects.current(today).filter(
        subdistrict_id=community.subdistrict_id,
        role__in=[Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR])).distinct()


def subdistrict_secretaries_of(community, today=None):
    today = today or clock.today()
    return get_user_model().objects.filter(posts__in=Post.objects.current(today).filter(
        subdistrict_id=community.subdistrict_id, role=Role.SUBDISTRICT_SECRETARY)).distinct()


def post_holders(community, roles, today=None):
    """The people in office in any of `roles` for `community`: a community post on it, or a subdistrict post
    on its subdistrict (the one answer to "who holds this post here" for hand-offs)."""
    from django.db.models import Q

    from ..models.org import COMMUNITY_ROLES, SUBDISTRICT_ROLES

    today = today or clock.today()
    roles = set(roles)
    scope = Q(pk__in=[])
    if roles & COMMUNITY_ROLES:
        scope |= Q(community_id=community.pk, role__in=sorted(roles & COMMUNITY_ROLES))
    if roles & SUBDISTRICT_ROLES:
        scope |= Q(subdistrict_id=community.subdistrict_id, role__in=sorted(roles & SUBDISTRICT_ROLES))
    return get_user_model().objects.filter(posts__in=Post.objects.current(today).filter(scope)).distinct()
