"""What may be shown to the public about private persons: masked names, no phone or ID numbers."""
import re

# 11-digit mobile numbers (optionally +86 / spaced / hyphenated), landlines like 0431-8888 8888,
# and 15/18-character resident ID numbers.
_PHONE_OR_ID = re.compile(
    r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"
    r"|(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)"
    r"|(?<![\dXx])\d{17}[\dXx](?![\dXx])|(?<!\d)\d{15}(?!\d)"
)


def mask_name(name):
    """张三丰 → 张**; a private person's name is never shown whole to the public."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def redact(text):
    """Free text a resident typed, with any phone or ID number replaced."""
    return _PHONE_OR_ID.sub("***", text or "")
