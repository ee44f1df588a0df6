"""Every act is audited; an audit record for a community makes its cached public pages stale."""
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from audit.models import AuditRecord
from fundapp.models import Community, Subdistrict

from .city_selectors import city_bump
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


# The city index and the subdistrict pages add up every community's figures and name every subdistrict and
# community: any recorded act of a community, and any change to a community or subdistrict, makes them stale.
@receiver(post_save, sender=AuditRecord, dispatch_uid="public-city-stale")
def _city_changed(sender, instance, created, **kwargs):
    if created and instance.community_id:
        _city_bump_now_and_after_commit()


@receiver(post_save, sender=Community, dispatch_uid="public-city-stale-community")
@receiver(post_delete, sender=Community, dispatch_uid="public-city-stale-community-deleted")
@receiver(post_save, sender=Subdistrict, dispatch_uid="public-city-stale-subdistrict")
@receiver(post_delete, sender=Subdistrict, dispatch_uid="public-city-stale-subdistrict-deleted")
def _city_organisation_changed(sender, instance, **kwargs):
    _city_bump_now_and_after_commit()


def _city_bump_now_and_after_commit():
    city_bump()
    transaction.on_commit(city_bump)
