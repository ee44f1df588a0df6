"""Every act is audited; an audit record for a community makes its cached public pages stale."""
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from audit.models import AuditRecord

from .selectors import bump


@receiver(post_save, sender=AuditRecord, dispatch_uid="public-pages-stale")
def _community_changed(sender, instance, created, **kwargs):
    if created and instance.community_id:
        # Now, so that nothing cached from here on is trusted, and again after commit, because a reader
        # between the two may have cached the not-yet-committed state under the new version.
        bump(instance.community_id)
        transaction.on_commit(lambda: bump(instance.community_id))
