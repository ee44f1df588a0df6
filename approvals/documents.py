"""Uploaded documents: PDF, JPEG or PNG only — judged by their content, not their name — size-limited,
stored under a name of our choosing with a SHA-256 checksum."""
import hashlib
import uuid

import filetype
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from fundapp.errors import DomainError

from .models import Document

MAX_BYTES = 10 * 1024 * 1024
ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def inspect_upload(uploaded):
    """(bytes, mime, extension) of an allowed upload, or DomainError saying what is wrong with it."""
    if uploaded.size > MAX_BYTES:
        raise DomainError(_("文件“%(name)s”超过 10 MB，请压缩后再上传。") % {"name": uploaded.name})
    data = b"".join(uploaded.chunks())
    if not data:
        raise DomainError(_("文件“%(name)s”是空的。") % {"name": uploaded.name})
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind else ""
    if mime not in ALLOWED:
        raise DomainError(_("文件“%(name)s”不是 PDF、JPEG 或 PNG 文件（按文件内容判断）。") % {"name": uploaded.name})
    return data, mime, ALLOWED[mime]


def store(*, proposal, by, uploads, action=""):
    """Store already-inspected uploads [(kind, uploaded_file, (data, mime, ext)), …] for the proposal."""
    documents = []
    for kind, uploaded, (data, mime, ext) in uploads:
        digest = hashlib.sha256(data).hexdigest()
        doc = Document(proposal=proposal, kind=kind, action=action, original_name=uploaded.name[:200],
                       content_type=mime, size=len(data), sha256=digest, uploaded_by=by)
        doc.file.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(data), save=False)
        doc.save()
        documents.append(doc)
    return documents
