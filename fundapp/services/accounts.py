"""People's accounts: activation and the second-factor reset — the city administrator's separate duty, each
act audited — and the accounts the city's roster brings (`users_create`, `users_update`: name and email only,
from fundapp.services.onboarding). Passwords, groups, devices and lockouts stay with the operator's own
superuser, each act recorded in the audit trail too (`back_office_act_record`)."""
import json

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user

from audit.services import audit_record, audit_records

from .. import rights
from ..errors import DomainError, NotAllowed


def _require_account_duty(user, by):
    if by is None or not rights.is_city_admin(by):
        raise NotAllowed(_("只有在任的市委组织部管理员可以管理账号。"))
    if user.pk == by.pk:
        raise DomainError(_("不能对自己的账号办理此项，请另一位管理员办理。"))
    if user.is_superuser:
        raise DomainError(_("运维人员的账号不在此管理。"))


@transaction.atomic
def user_set_active(*, user, active, by):
    """Activate or deactivate an account. A deactivated person cannot log in, their sessions end at their
    next request (fundapp.auth.LoginBackend) and their grants are withdrawn; their posts and history stay."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    _require_account_duty(user, by)
    if user.is_active == bool(active):
        return user
    user.is_active = bool(active)
    user.save(update_fields=["is_active"])
    audit_record(actor=by, action="user.activate" if active else "user.deactivate", target=user,
                 before={"username": user.get_username(), "is_active": not active},
                 after={"username": user.get_username(), "is_active": bool(active)})
    rights.sync_user_permissions(user)
    return user


@transaction.atomic
def user_reset_second_factor(*, user, by):
    """Remove the person's second-factor devices (a lost or replaced phone): at the next login they set up
    their authenticator again (fundapp.twofactor.setup). Returns how many devices were removed."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    _require_account_duty(user, by)
    devices = list(devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    audit_record(actor=by, action="user.second_factor_reset", target=user,
                 before={"username": user.get_username(), "devices": len(devices)},
                 after={"username": user.get_username(), "devices": 0})
    return len(devices)


def _require_city_admin(by):
    if by is None or not rights.is_city_admin(by):
        raise NotAllowed(_("只有在任的市委组织部管理员可以管理账号。"))


def _person(user):
    return {"username": user.get_username(), "full_name": user.get_full_name().strip(), "email": user.email}


@transaction.atomic
def users_create(*, people, by):
    """New accounts for the people on the city's roster (fundapp.services.onboarding), each with one audit
    record, in a fixed number of queries. `people` are dicts of username, full_name and email; returns the
    users, in that order. An account gets no usable password: nobody can log in to it until the operator sets
    a first password in the back office (docs/guide/city_admin.*.md)."""
    _require_city_admin(by)
    users = get_user_model()
    made = []
    for person in people:
        user = users(username=person["username"], first_name=person["full_name"], email=person.get("email") or "",
                     is_active=True)
        user.set_unusable_password()
        made.append(user)
    taken = set(users.objects.filter(username__in=[u.username for u in made]).values_list("username", flat=True))
    if taken:
        raise DomainError(_("用户名“%(name)s”已被使用。") % {"name": sorted(taken)[0]})
    users.objects.bulk_create(made, batch_size=500)
    audit_records({"actor": by, "action": "user.create", "target": u, "after": _person(u)} for u in made)
    return made


@transaction.atomic
def users_update(*, changes, by):
    """Correct people's names or emails from a changed roster, in a fixed number of queries: before → after
    recorded, a change to nothing not recorded. `changes` is [(user, {"full_name": …, "email": …})]."""
    _require_city_admin(by)
    wanted = {u.pk: fields for u, fields in changes}
    locked = list(get_user_model().objects.select_for_update().filter(pk__in=list(wanted)).order_by("pk"))
    changed, records = [], []
    for user in locked:
        if user.is_superuser:
            raise DomainError(_("运维人员的账号不在此管理。"))
        before = _person(user)
        fields = wanted[user.pk]
        if fields.get("full_name") is not None:
            user.first_name, user.last_name = fields["full_name"], ""
        if fields.get("email") is not None:
            user.email = fields["email"]
        after = _person(user)
        if after != before:
            changed.append(user)
            records.append({"actor": by, "action": "user.change", "target": user,
                            "before": {k: v for k, v in before.items() if after[k] != v} | {"username": user.get_username()},
                            "after": {k: v for k, v in after.items() if before[k] != v} | {"username": user.get_username()}})
    get_user_model().objects.bulk_update(changed, ["first_name", "last_name", "email"], batch_size=500)
    audit_records(records)
    return changed


def back_office_act_record(*, by, obj, act, message=""):
    """An act on accounts, groups, second-factor devices or login lockouts in the back office — the
    operator's duty, apart from the fund's work — goes into the audit trail like every other act: who, what,
    on which object, and which fields changed (Django's change message: field names, never a password, a
    hash or a device's secret). Called by fundapp.admin.AuditedAccountAdmin in the same request."""
    if isinstance(message, str) and message.startswith("["):
        try:
            message = json.loads(message)
        except ValueError:
            pass
    audit_record(actor=by, action=f"account.{obj._meta.model_name}.{act}", target=obj,
                 after={"object": str(obj)[:200], "changes": message or []})
