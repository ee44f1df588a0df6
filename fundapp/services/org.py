"""Writes to the organisation: subdistricts, communities and posts (and a post handed over at an election)."""
import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_records

from .. import clock, rights
from ..db import retry_on_conflict
from ..errors import DomainError, NotAllowed
from ..models import Community, Post, Role, Subdistrict
from ..publicurls import segments
from .notify import notifications_hand_over
from .search import communities_indexed, community_indexed, subdistrict_indexed


def _require_city_admin(by):
    # by=None is the system itself (management commands such as seed_demo).
    if by is not None and not rights.is_city_admin(by):
        raise NotAllowed(_("只有在任的市委组织部管理员可以管理组织与任职。"))


def _full_clean(obj):
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise DomainError("; ".join(m for msgs in exc.message_dict.values() for m in msgs)) from exc


def _snapshot_post(post):
    return {
        "user": post.user.get_username(),
        "role": post.role,
        "community": post.community_id,
        "subdistrict": post.subdistrict_id,
        "start_date": post.start_date,
        "end_date": post.end_date,
        "acting": post.acting,
    }


@transaction.atomic
def subdistrict_create(*, name, code, by=None, party_committee_name="", construction_committee_name=""):
    _require_city_admin(by)
    subdistrict = Subdistrict(
        name=name, code=code, party_committee_name=party_committee_name or f"{name}党工委",
        construction_committee_name=construction_committee_name or f"{name}建管委",
    )
    _full_clean(subdistrict)
    subdistrict.save()
    subdistrict_indexed(subdistrict)
    audit_record(actor=by, action="subdistrict.create", target=subdistrict, after={"name": name, "code": code})
    return subdistrict


def _snapshot_subdistrict(subdistrict):
    return {"name": subdistrict.name, "code": subdistrict.code,
            "party_committee_name": subdistrict.party_committee_name,
            "construction_committee_name": subdistrict.construction_committee_name}


def _snapshot_community(community):
    return {"name": community.name, "code": community.code, "subdistrict": community.subdistrict_id,
            "phone": community.phone, "address": community.address}


@transaction.atomic
def subdistrict_update(*, subdistrict, by=None, **changes):
    """Rename a subdistrict or its committees (`name`, `party_committee_name`, `construction_committee_name`).
    Its code is fixed at creation, like a community's. Records before → after; a change to nothing is not
    recorded."""
    _require_city_admin(by)
    _refuse_unknown(changes, {"name", "party_committee_name", "construction_committee_name", "code"})
    locked = Subdistrict.objects.select_for_update().get(pk=subdistrict.pk)
    _refuse_code_change(locked, changes, _("街道代码一经设立不能修改。"))
    before = _snapshot_subdistrict(locked)
    for field, value in changes.items():
        setattr(locked, field, value)
    _full_clean(locked)
    after = _snapshot_subdistrict(locked)
    if after != before:
        locked.save()
        subdistrict_indexed(locked)
        audit_record(actor=by, action="subdistrict.change", target=locked,
                     before={k: v for k, v in before.items() if after[k] != v},
                     after={k: v for k, v in after.items() if before[k] != v})
    return locked


@transaction.atomic
def community_update(*, community, by=None, **changes):
    """Rename a community (`name`) or change the service hall's `phone` and `address` printed on its notices
    (a notice already posted keeps its archived copy). Its code is in every public URL and in the QR codes on posters already
    printed, so it is fixed at creation; its subdistrict is fixed too (moving it would silently move
    everyone's rights). Records before → after; a change to nothing is not recorded."""
    _require_city_admin(by)
    _refuse_unknown(changes, {"name", "code", "subdistrict", "phone", "address"})
    locked = Community.objects.select_for_update().get(pk=community.pk)
    _refuse_code_change(locked, changes, _("社区代码一经设立不能修改：公开网址和已张贴的二维码都用它。"))
    new_subdistrict = changes.pop("subdistrict", locked.subdistrict_id)
    if getattr(new_subdistrict, "pk", new_subdistrict) != locked.subdistrict_id:
        raise DomainError(_("社区不能改属其他街道：各岗位的权限随街道而定。"))
    before = _snapshot_community(locked)
    for field, value in changes.items():
        setattr(locked, field, value)
    _full_clean(locked)
    after = _snapshot_community(locked)
    if after != before:
        locked.save()
        community_indexed(locked)
        audit_record(actor=by, action="community.change", target=locked, community_id=locked.pk,
                     before={k: v for k, v in before.items() if after[k] != v},
                     after={k: v for k, v in after.items() if before[k] != v})
    return locked


def _refuse_unknown(changes, allowed):
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")


def _refuse_code_change(obj, changes, message):
    if "code" in changes:
        if changes.pop("code") != obj.code:
            raise DomainError(message)


@transaction.atomic
def community_create(*, subdistrict, name, code, by=None, phone="", address=""):
    _require_city_admin(by)
    if str(code).lower() in segments().values():
        # /public/<code>/… would read as the language's address (fundapp.publicurls).
        raise DomainError(_("社区代码不能是 %(code)s：公开网址用它表示语言。") % {"code": code})
    community = Community(subdistrict=subdistrict, name=name, code=code, phone=phone, address=address)
    _full_clean(community)
    community.save()
    community_indexed(community)
    audit_record(
        actor=by, action="community.create", target=community, community_id=community.pk,
        after={"name": name, "code": code, "subdistrict": subdistrict.pk, "phone": phone, "address": address},
    )
    # People whose posts span the subdistrict or the city now reach the new community too.
    users = get_user_model().objects.filter(
        Q(posts__role=Role.CITY_ADMIN) | Q(posts__subdistrict=subdistrict)
    ).distinct()
    for user in users:
        rights.sync_user_permissions(user)
    return community


def _checked_fields(obj, *relations):
    # The fields' own rules (length, slug, choices) without a query: the caller has resolved the related rows
    # and the database's unique and check constraints guard the rest.
    try:
        obj.full_clean(exclude=list(relations), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise DomainError("; ".join(m for msgs in exc.message_dict.values() for m in msgs)) from exc


@transaction.atomic
def communities_create(*, communities, by):
    """Many new communities at once (the city's roster, fundapp.services.onboarding): each as
    `community_create` makes it — its fields checked, saved, indexed for search, one audit record — in a
    fixed number of queries. `communities` are unsaved Community objects with their subdistrict set; the
    rights of the people whose posts span them are the caller's to sync (rights.sync_users_permissions)."""
    _require_city_admin(by)
    reserved = set(segments().values())
    for community in communities:
        if str(community.code).lower() in reserved:
            raise DomainError(_("社区代码不能是 %(code)s：公开网址用它表示语言。") % {"code": community.code})
        _checked_fields(community, "subdistrict")
    # In bulk: the public pages' caches hear of each community from its audit record (public.signals).
    Community.objects.bulk_create(communities, batch_size=500)
    communities_indexed(communities)
    audit_records(
        {"actor": by, "action": "community.create", "target": c, "community_id": c.pk,
         "after": {"name": c.name, "code": c.code, "subdistrict": c.subdistrict_id, "phone": c.phone,
                   "address": c.address}}
        for c in communities)
    return communities


@transaction.atomic
def posts_create(*, posts, by):
    """Many new posts at once (the city's roster): each as `post_save` creates it — checked, saved, one audit
    record effective on its start date — in a fixed number of queries. `posts` are unsaved Post objects with
    their holder and community or subdistrict set; the holders' rights are the caller's to sync
    (rights.sync_users_permissions)."""
    _require_city_admin(by)
    for post in posts:
        _checked_fields(post, "user", "community", "subdistrict")
    Post.objects.bulk_create(posts, batch_size=500)
    audit_records(
        {"actor": by, "action": "post.create", "target": p, "community_id": p.community_id, "before": {},
         "after": _snapshot_post(p), "effective_on": p.start_date}
        for p in posts)
    return posts


@transaction.atomic
def communities_update(*, changes, by):
    """Many communities' names, phones and addresses at once (a changed roster): each as `community_update`
    changes it — before → after recorded, a change to nothing not recorded — in a fixed number of queries.
    `changes` is [(community, {field: value})]; codes and subdistricts stay fixed."""
    _require_city_admin(by)
    wanted = {c.pk: fields for c, fields in changes}
    for fields in wanted.values():
        _refuse_unknown(fields, {"name", "phone", "address"})
    locked = list(Community.objects.select_for_update().filter(pk__in=list(wanted)).order_by("pk"))
    changed, records = [], []
    for community in locked:
        before = _snapshot_community(community)
        for field, value in wanted[community.pk].items():
            setattr(community, field, value)
        _checked_fields(community, "subdistrict")
        after = _snapshot_community(community)
        if after != before:
            changed.append(community)
            records.append({"actor": by, "action": "community.change", "target": community,
                            "community_id": community.pk,
                            "before": {k: v for k, v in before.items() if after[k] != v},
                            "after": {k: v for k, v in after.items() if before[k] != v}})
            if after["name"] != before["name"]:
                community_indexed(community)
    Community.objects.bulk_update(changed, ["name", "phone", "address"], batch_size=500)
    audit_records(records)
    return changed


@transaction.atomic
def posts_change(*, changes, by):
    """Many posts' end dates or acting flags at once (a changed roster: terms ended by the end date filled
    in): each as `post_save` changes it — before → after recorded, effective on its end date — in a fixed
    number of queries. `changes` is [(post, {field: value})]; the holders' rights are the caller's to sync
    (rights.sync_users_permissions)."""
    _require_city_admin(by)
    wanted = {p.pk: fields for p, fields in changes}
    for fields in wanted.values():
        _refuse_unknown(fields, {"end_date", "acting"})
    locked = list(Post.objects.select_for_update(of=("self",)).select_related("user")
                  .filter(pk__in=list(wanted)).order_by("pk"))
    changed, records = [], []
    for post in locked:
        before = _snapshot_post(post)
        for field, value in wanted[post.pk].items():
            setattr(post, field, value)
        _checked_fields(post, "user", "community", "subdistrict")
        after = _snapshot_post(post)
        if after != before:
            changed.append(post)
            records.append({"actor": by, "action": "post.change", "target": post, "community_id": post.community_id,
                            "before": before, "after": after, "effective_on": _post_effective_on(before, post)})
    Post.objects.bulk_update(changed, ["end_date", "acting"], batch_size=500)
    audit_records(records)
    return changed


def _post_effective_on(before, post):
    """A new post takes effect on its start date, an ended one on its end date, other changes today."""
    if before is None:
        return post.start_date
    if post.end_date is not None and post.end_date != before.get("end_date"):
        return post.end_date
    return None


@transaction.atomic
def post_save(*, post, by=None):
    """Create or change a post (e.g. set its end date), then re-derive the holder's rights."""
    _require_city_admin(by)
    before = None
    if post.pk:
        before = _snapshot_post(Post.objects.select_for_update().get(pk=post.pk))
    _full_clean(post)
    post.save()
    audit_record(
        actor=by, action="post.change" if before else "post.create", target=post,
        community_id=post.community_id, before=before or {}, after=_snapshot_post(post),
        effective_on=_post_effective_on(before, post),
    )
    rights.sync_user_permissions(post.user)
    return post


def post_create(*, user, role, start_date, end_date=None, community=None, subdistrict=None, acting=False, by=None):
    return post_save(
        post=Post(user=user, role=role, start_date=start_date, end_date=end_date,
                  community=community, subdistrict=subdistrict, acting=acting),
        by=by,
    )


def post_end(*, post, end_date, by=None):
    post.end_date = end_date
    return post_save(post=post, by=by)


# ---- handing a post over (an election) ---------------------------------------------------------------------
# What was waiting for a post's holder is known to the floors above (the approval chain's steps, reports…);
# they register a provider here from their AppConfig.ready(): provider(post, today) → [PendingItem-like
# objects with `key`, `kind`, `text`, `link` and `settles` (the notification kinds that asked for it)].
HANDOVER_PENDING = []


def handover_pending_register(provider):
    if provider not in HANDOVER_PENDING:
        HANDOVER_PENDING.append(provider)


def post_pending(post, today=None):
    """Everything waiting for the holder of `post` now (in force), from every registered provider."""
    today = today or clock.today()
    return [item for provider in HANDOVER_PENDING for item in provider(post, today)]


@dataclass
class HandOver:
    old: Post
    new: Post
    pending: list
    notified: int


def post_hand_over_error(*, post, successor, on):
    """Why `post` cannot be handed to `successor` from `on`, or "" (checked again under the lock)."""
    today = clock.today()
    if not isinstance(on, datetime.date) or isinstance(on, datetime.datetime):
        return _("请填写有效的交接日期。")
    if not post.is_current(today):
        return _("只能交接在任的职务。")
    if successor is None or not successor.is_active:
        return _("接任人须为已启用的账号。")
    if successor.pk == post.user_id:
        return _("接任人不能是现任者本人。")
    if on > today:
        return _("交接日期不能晚于今天：接任人自交接日起办理待办事项。")
    if on <= post.start_date:
        return (_("交接日期须晚于现任者的任职起始日（%(start)s）。") % {"start": post.start_date.isoformat()})
    same = Post.objects.filter(user=successor, role=post.role, community_id=post.community_id,
                               subdistrict_id=post.subdistrict_id).current(on)
    if same.exists():
        return _("接任人已担任该职务。")
    return ""


@retry_on_conflict
@transaction.atomic
def post_hand_over(*, post, successor, on, acting=False, by=None):
    """Hand `post` over at an election, in one act: the holder's term ends (`end_date` = `on`, the first day
    without rights: their last day in office is the day before), the successor's post of the same role and
    community or subdistrict begins on `on` (acting or not). What was waiting for the holder (post_pending)
    is now the successor's: the queues follow the post in force; the holder's unread notifications about it
    are sent again to the successor with the same text and link (once: keyed by the new post and the
    notification), the items nobody had been told of get one notification each, and the holder's are marked
    read. What the holder did stays theirs: their acts keep the post row they held (now ended), and the
    audit trail its frozen label. One audit record `post.hand_over` beside the end and the start."""
    _require_city_admin(by)
    locked = Post.objects.select_for_update(of=("self",)).select_related("user", "community", "subdistrict").get(pk=post.pk)
    error = post_hand_over_error(post=locked, successor=successor, on=on)
    if error:
        raise DomainError(error)
    pending = post_pending(locked)
    old_user = locked.user
    old = post_end(post=locked, end_date=on, by=by)
    new = post_create(user=successor, role=locked.role, start_date=on, community=locked.community,
                      subdistrict=locked.subdistrict, acting=bool(acting), by=by)
    notified = notifications_hand_over(from_user=old_user, to_user=successor, items=pending,
                                       key=f"handover:{new.pk}")
    audit_record(
        actor=by, action="post.hand_over", target=new, community_id=new.community_id,
        before={"post": old.pk, "user": old_user.get_username()},
        after={"post": new.pk, "user": successor.get_username(), "role": new.role, "start_date": on,
               "acting": new.acting, "pending": [item.text for item in pending][:100], "notified": notified},
        effective_on=on,
    )
    return HandOver(old=old, new=new, pending=pending, notified=notified)
