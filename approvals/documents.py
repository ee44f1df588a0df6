"""Uploaded documents: PDF, JPEG or PNG only — judged by their content, and a name whose extension says
otherwise is refused — size-limited, stored under a name of our choosing with a SHA-256 checksum."""
import hashlib
import uuid
from pathlib import PurePath

import filetype
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from fundapp.errors import DomainError

from .models import Document

MAX_BYTES = 10 * 1024 * 1024
ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
# The extensions a name may carry for each content type (a name without one is judged by content alone).
SUFFIXES = {"application/pdf": {"pdf"}, "image/jpeg": {"jpg", "jpeg", "jpe", "jfif"}, "image/png": {"png"}}


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
    suffix = PurePath(uploaded.name or "").suffix.lower().lstrip(".")
    if suffix and not suffix.isdigit() and suffix not in SUFFIXES[mime]:  # "scan 2026.10.05" has none
        # A PNG called .pdf is not what its sender thinks it is (nor what a reader would expect to open).
        raise DomainError(_("文件“%(name)s”的扩展名与内容不符（内容是 %(kind)s 文件），请检查后重新上传。")
                          % {"name": uploaded.name, "kind": ALLOWED[mime].upper()})
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
