"""System checks of the audit trail's key (audit.keys)."""
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from . import keys


@checks.register(checks.Tags.security, deploy=False)
def audit_key_check(app_configs=None, **kwargs):
    """audit.E001: production refuses to run with the development key (or none); audit.E002: the key or
    the algorithm configured cannot be used."""
    try:
        keys.current_algorithm()
        dev = keys.uses_dev_key()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="audit.E002")]
    if dev and getattr(settings, "PRODUCTION", False):
        return [checks.Error(
            "审计记录的密钥未设置：生产环境不能使用开发密钥。 / The audit trail's HMAC key is not set: production "
            "refuses the development key.",
            hint="Set AUDIT_HMAC_KEY_FILE to a file of '<key id> <secret>' lines readable only by the app's "
                 "user (or AUDIT_HMAC_KEY and AUDIT_HMAC_KEY_ID); see docs/security.md.",
            id="audit.E001",
        )]
    return []
