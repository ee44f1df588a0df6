"""Every act is audited; an audit record for a community makes its cached public pages stale."""
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from audit.models import AuditRecord
from fundapp.models import Community

from .selectors import bump


@receiver(post_save, sender=AuditRecord, dispatch_uid="public-pages-stale")
def _community_changed(sender, instance, created, **kwargs):
    if created and instance.community_id:
        # Now, so that nothing cached from here on is trusted, and again after commit, because a reader
        # between the two may have cached the not-yet-committed state under the new version.
        bump(instance.community_id)
        transaction.on_commit(lambda: bump(instance.community_id))


@receiver(post_save, sender=Community, dispatch_uid="public-pages-stale-community")
@receiver(post_delete, sender=Community, dispatch_uid="public-pages-stale-community-deleted")
def _community_itself_changed(sender, instance, **kwargs):
    # Cached pages are found by the community's code: a renamed (or removed) community's old address must
    # stop answering from the cache at once.
    community_id = instance.pk  # a deleted instance's pk is cleared before the commit
    bump(community_id)
    transaction.on_commit(lambda: bump(community_id))
