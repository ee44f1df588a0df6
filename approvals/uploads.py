"""Files chosen on a form that was then refused are kept for their uploader (approvals.models.PendingUpload):
the page says "已上传：name (size)" and the next submit uses the kept file without choosing it again.

Bounded: a file is checked like any document before it is kept (approvals.documents.inspect_upload: PDF,
JPEG or PNG, 10 MB at most), a person keeps at most MAX_PER_OWNER files, and a kept file is purged after
KEEP_FOR (`pending_purge`, daily from Celery beat) or as soon as the step it was chosen for is saved."""
import datetime
import hashlib
import secrets

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from fundapp import clock

from .documents import ALLOWED
from .models import PendingUpload

MAX_PER_OWNER = 10
KEEP_FOR = datetime.timedelta(days=1)


def pending_keep(*, owner, name, data, mime):
    """Keep an inspected upload for `owner`; returns the PendingUpload (its token goes into the page)."""
    pending = PendingUpload(owner=owner, token=secrets.token_urlsafe(32), original_name=(name or "")[:200],
                            content_type=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    pending.file.save(f"{pending.token}.{ALLOWED[mime]}", ContentFile(data), save=False)
    pending.save()
    # The oldest beyond the bound go: a person works on one or two forms at a time.
    for old in PendingUpload.objects.filter(owner=owner).order_by("-created_at", "-pk")[MAX_PER_OWNER:]:
        _delete(old)
    return pending


def pending_find(*, owner, token):
    """The kept upload of this token if it is `owner`'s and still fresh, else None."""
    if not token or len(token) > 64:
        return None
    return PendingUpload.objects.filter(owner=owner, token=token, created_at__gte=clock.now() - KEEP_FOR).first()


def as_upload(pending):
    """The kept file as a fresh upload, so the services check and store it as if just chosen."""
    with pending.file.open("rb") as handle:
        data = handle.read()
    return SimpleUploadedFile(pending.original_name, data, content_type=pending.content_type)


def pending_release(pendings):
    """The step was saved: its kept files are no longer needed."""
    for pending in pendings:
        _delete(pending)


def pending_purge(*, now=None):
    """Delete kept files older than KEEP_FOR; returns how many."""
    stale = PendingUpload.objects.filter(created_at__lt=(now or clock.now()) - KEEP_FOR)
    count = 0
    for pending in stale:
        _delete(pending)
        count += 1
    return count


def _delete(pending):
    pending.file.delete(save=False)
    if pending.pk:
        PendingUpload.objects.filter(pk=pending.pk).delete()
