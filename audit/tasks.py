"""Publishing the audit chains' heads, daily (Celery beat: "publish-audit-heads")."""
from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def publish_audit_heads():
    """Every chain's head to the security log, the heads file and the public pages. Returns how many."""
    return len(services.publish_heads())
