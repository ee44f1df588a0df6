"""Who may do what, on which community — the one module that answers it.

Rights come from posts in force (fundapp.models.Post). django-guardian stores them as object
permissions on Community, derived from posts by `sync_user_permissions` (called whenever a post changes,
and hourly by a beat task so that posts starting or ending on a date take effect). A check needs both to
agree: the guardian grant *and* a post in force today covering the community — so an ended post denies
from its end date even before the next sync, and a grant left behind by a bug is not enough on its own.
"""
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from guardian.models import UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from . import clock
from .models import Community, Post, Role

ROLE_PERMISSIONS = {
    Role.CITY_ADMIN: {"view_fund", "manage_fund"},
    Role.SUBDISTRICT_SECRETARY: {"view_fund", "consent_proposal", "review_proposal", "sign_invoice"},
    Role.CONSTRUCTION_DIRECTOR: {"view_fund", "review_proposal", "sign_invoice"},
    Role.SUBDISTRICT_STAFF: {"view_fund", "manage_project"},
    Role.FINANCE_OFFICER: {"view_fund", "settle_invoice"},
    Role.COMMUNITY_SECRETARY: {"view_fund", "draft_proposal", "file_proposal", "sign_invoice"},
    Role.COMMUNITY_STAFF: {"view_fund", "draft_proposal"},
    Role.SUPERVISOR: {"view_fund", "supervise"},
}
ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    post: Post | None = None

    def __bool__(self):
        return self.allowed


today = clock.today


def current_posts(user, on=None):
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Post.objects.none()
    return Post.objects.filter(user=user).current(on or today()).select_related("community", "subdistrict")


def post_for(user, community, *, codename=None, roles=None, on=None):
    """The user's post in force that covers `community` and grants `codename` (or is one of `roles`)."""
    for post in current_posts(user, on).covering(community).order_by("start_date", "pk"):
        if roles is not None and post.role not in roles:
            continue
        if codename is not None and codename not in ROLE_PERMISSIONS[post.role]:
            continue
        return post
    return None


def check(user, codename, community, *, roles=None):
    """May `user` do `codename` on `community` today? Returns a Decision carrying the post acted in.

    Always today: the guardian grants reflect today's posts. Past acts are judged with `post_for(on=…)`.
    """
    if codename not in ALL_PERMISSIONS:
        return Decision(False, _("未知的操作，已拒绝。"))
    if not getattr(user, "is_authenticated", False):
        return Decision(False, _("请先登录。"))
    if not user.is_active:
        return Decision(False, _("该账号已停用。"))
    post = post_for(user, community, codename=codename, roles=roles)
    if post is None:
        return Decision(False, _("您在“%(community)s”没有可执行此操作的在任职务。") % {"community": community})
    perm = f"fundapp.{codename}"
    if not user.has_perm(perm, community):
        # A post that began since the last sync: derive the grants now, then ask guardian again.
        sync_user_permissions(user)
        user = type(user).objects.get(pk=user.pk)
        if not user.has_perm(perm, community):
            return Decision(False, _("权限尚未授予，请联系管理员。"))
    return Decision(True, post=post)


class RightsSnapshot:
    """`check` for one page that asks about many communities (a work queue of hundreds of proposals).

    The user's posts in force and guardian grants are loaded once (two queries) and the questions are
    answered from memory with the same rule as `check`: a post in force covering the community that grants
    the permission (or is one of `roles`) *and* the guardian grant. Where the posts say yes but the grant
    is missing (a post begun since the last sync), it asks `check` itself, which syncs.
    """

    def __init__(self, user):
        self.user = user
        self.posts = []
        self.grants = frozenset()
        if getattr(user, "is_authenticated", False) and user.is_active:
            self.posts = list(current_posts(user).order_by("start_date", "pk"))
            if self.posts and not user.is_superuser:
                ct = ContentType.objects.get_for_model(Community)
                self.grants = frozenset(UserObjectPermission.objects.filter(user=user, content_type=ct)
                                        .values_list("permission__codename", "object_pk"))

    def allowed(self, codename, community, roles=None):
        return bool(self.decide(codename, community, roles=roles))

    def decide(self, codename, community, roles=None):
        """`check`'s Decision (with the post to act in), answered from the snapshot."""
        if codename not in ALL_PERMISSIONS:
            return Decision(False, _("未知的操作，已拒绝。"))
        if not getattr(self.user, "is_authenticated", False):
            return Decision(False, _("请先登录。"))
        if not self.user.is_active:
            return Decision(False, _("该账号已停用。"))
        post = next((p for p in self.posts if p.covers(community)
                     and (roles is None or p.role in roles) and codename in ROLE_PERMISSIONS[p.role]), None)
        if post is None:
            return Decision(False, _("您在“%(community)s”没有可执行此操作的在任职务。") % {"community": community})
        if self.user.is_superuser or (codename, str(community.pk)) in self.grants:
            return Decision(True, post=post)
        return check(self.user, codename, community, roles=roles)


def communities_for(user, codename, on=None):
    """Communities on which `user` may do `codename` today (for list pages)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Community.objects.none()
    posts = [p for p in current_posts(user, on) if codename in ROLE_PERMISSIONS[p.role]]
    if not posts:
        return Community.objects.none()
    granted = get_objects_for_user(
        user, f"fundapp.{codename}", klass=Community, accept_global_perms=False
    )
    if any(p.role == Role.CITY_ADMIN for p in posts):
        return granted
    scope = Community.objects.none()
    for post in posts:
        scope |= Community.objects.filter(
            **({"subdistrict_id": post.subdistrict_id} if post.subdistrict_id else {"pk": post.community_id})
        )
    return granted.filter(pk__in=scope.values("pk"))


def get_community_or_404(user, codename, **lookup):
    """Fetch a community the user may act on; "missing" and "not yours" both answer 404."""
    community = Community.objects.filter(**lookup).select_related("subdistrict").first()
    if community is None or not check(user, codename, community):
        raise Http404
    return community


def desired_grants(user, on=None):
    """{(codename, community_id)} that the user's posts in force call for."""
    grants = set()
    for post in current_posts(user, on):
        codenames = ROLE_PERMISSIONS[post.role]
        if post.role == Role.CITY_ADMIN:
            ids = Community.objects.values_list("pk", flat=True)
        elif post.subdistrict_id:
            ids = Community.objects.filter(subdistrict_id=post.subdistrict_id).values_list("pk", flat=True)
        else:
            ids = [post.community_id]
        grants.update((codename, cid) for cid in ids for codename in codenames)
    return grants


@transaction.atomic
def sync_user_permissions(user, on=None):
    """Make the user's guardian grants (and admin access) match their posts in force."""
    from django.contrib.auth.models import Permission

    on = on or today()
    ct = ContentType.objects.get_for_model(Community)
    perms = {p.codename: p for p in Permission.objects.filter(content_type=ct)}
    existing = {
        (row.permission.codename, int(row.object_pk)): row.pk
        for row in UserObjectPermission.objects.filter(user=user, content_type=ct).select_related("permission")
    }
    wanted = desired_grants(user, on) if user.is_active else set()
    stale = [pk for key, pk in existing.items() if key not in wanted]
    UserObjectPermission.objects.filter(pk__in=stale).delete()
    UserObjectPermission.objects.bulk_create(
        [
            UserObjectPermission(user=user, permission=perms[codename], content_type=ct, object_pk=str(cid))
            for codename, cid in wanted - existing.keys()
        ]
    )
    _sync_admin_access(user, on)


@transaction.atomic
def sync_users_permissions(users, on=None):
    """`sync_user_permissions` for many people at once (an import of a city's roster), in a fixed number of
    queries whatever their number (plus one or two per city administrator): the same rule, the same result."""
    from django.contrib.auth.models import Permission

    users = list(users)
    if not users:
        return
    on = on or today()
    ct = ContentType.objects.get_for_model(Community)
    perms = {p.codename: p for p in Permission.objects.filter(content_type=ct)}
    ids = [u.pk for u in users]
    existing = {}
    for pk, user_id, codename, object_pk in (UserObjectPermission.objects
                                              .filter(user_id__in=ids, content_type=ct)
                                              .values_list("pk", "user_id", "permission__codename", "object_pk")):
        existing[(user_id, codename, int(object_pk))] = pk
    posts = list(Post.objects.filter(user_id__in=ids).current(on))
    by_subdistrict, everyone = {}, []
    if any(p.community_id is None for p in posts):
        for pk, sd_id in Community.objects.values_list("pk", "subdistrict_id"):
            everyone.append(pk)
            by_subdistrict.setdefault(sd_id, []).append(pk)
    active = {u.pk for u in users if u.is_active}
    wanted = set()
    for post in posts:
        if post.user_id not in active:
            continue
        if post.role == Role.CITY_ADMIN:
            cids = everyone
        elif post.subdistrict_id:
            cids = by_subdistrict.get(post.subdistrict_id, [])
        else:
            cids = [post.community_id]
        wanted.update((post.user_id, codename, cid) for cid in cids for codename in ROLE_PERMISSIONS[post.role])
    stale = [pk for key, pk in existing.items() if key not in wanted]
    for start in range(0, len(stale), 500):
        UserObjectPermission.objects.filter(pk__in=stale[start:start + 500]).delete()
    UserObjectPermission.objects.bulk_create(
        [UserObjectPermission(user_id=user_id, permission=perms[codename], content_type=ct, object_pk=str(cid))
         for user_id, codename, cid in wanted - existing.keys()],
        batch_size=1000,
    )
    admins = set(Post.objects.filter(user_id__in=ids, role=Role.CITY_ADMIN).values_list("user_id", flat=True))
    for user in users:
        if user.pk in admins:
            _sync_admin_access(user, on)


def _sync_admin_access(user, on):
    # The Django admin is the city administrator's back office: a post in force makes them staff (never a
    # superuser — fundapp.auth.CityAdminBackend gives them their duties' permissions, from the same post).
    # Only users who hold or held a city administrator post are touched, so an operator's own superuser
    # account is left alone.
    city_posts = Post.objects.filter(user=user, role=Role.CITY_ADMIN)
    if not city_posts.exists():
        return
    in_office = user.is_active and city_posts.current(on).exists()
    if user.is_staff != in_office or user.is_superuser:
        user.is_staff, user.is_superuser = in_office, False
        user.save(update_fields=["is_staff", "is_superuser"])


def is_city_admin(user, on=None):
    return current_posts(user, on).filter(role=Role.CITY_ADMIN).exists()


# Who sees a subdistrict's dashboard (desk.dashboard_views), besides the city administrator, who sees the city's
# and every subdistrict's: the subdistrict committee's secretary and its staff, for their own subdistrict.
DASHBOARD_ROLES = frozenset({Role.SUBDISTRICT_SECRETARY, Role.SUBDISTRICT_STAFF})


def dashboard_access(user, subdistrict=None, on=None):
    """May `user` see the city's dashboard (`subdistrict` None) or this subdistrict's? A Decision, in one query."""
    if not getattr(user, "is_authenticated", False):
        return Decision(False, _("请先登录。"))
    posts = list(current_posts(user, on))
    city = next((p for p in posts if p.role == Role.CITY_ADMIN), None)
    if city is not None:
        return Decision(True, post=city)
    if subdistrict is None:
        return Decision(False, _("全市概览仅供市委组织部管理员查看。"))
    post = next((p for p in posts if p.role in DASHBOARD_ROLES and p.subdistrict_id == subdistrict.pk), None)
    if post is None:
        return Decision(False, _("您在“%(subdistrict)s”没有可查看概览的在任职务。") % {"subdistrict": subdistrict.name})
    return Decision(True, post=post)
