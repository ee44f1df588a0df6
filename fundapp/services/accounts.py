"""People's accounts: activation and the second-factor reset — the city administrator's separate duty, each
act audited. Creating accounts and editing their details, groups, devices and lockouts stay with the operator's
own superuser, each act recorded in the audit trail too (`back_office_act_record`)."""
import json

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user

from audit.services import audit_record

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
