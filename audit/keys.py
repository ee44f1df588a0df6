"""The audit trail's keys and hash algorithms: a keyed hash (HMAC) whose key is kept outside the database.

Whoever owns the tables can disable the triggers, edit a record and recompute the chain; with a keyed hash
they cannot recompute it without the key, which lives on the application servers only (docs/security.md).

Where the key comes from (the first that is set; each a Django setting or, failing that, an environment
variable of the same name):

- AUDIT_HMAC_KEY_FILE: a file readable only by the app's user, one key a line, "<key id> <secret>" ('#'
  starts a comment). The LAST line is the key new records are written with; the lines above it are retired
  keys, kept so that the records written with them still verify (rotation: append a line, restart; never
  delete a line while records name its id).
- AUDIT_HMAC_KEY (the secret) with AUDIT_HMAC_KEY_ID (its id, default "1"): one key, no rotation history.
- Neither: the development key (id "dev"), which the system check audit.E001 refuses in production.

Each record stores the algorithm and the key id it was hashed with. Algorithms:

- "sha256": plain SHA-256 without a key — records written before keys existed (verified as they were).
- "hmac-sha256": HMAC-SHA-256, the default for new records.
- "hmac-sm3": HMAC with the national hash SM3 (GB/T 32905), when the Python's OpenSSL provides it (OpenSSL
  1.1.1+ built with SM3; check with `python -c "import hashlib; print('sm3' in hashlib.algorithms_available)"`).
  Choose it with AUDIT_HASH_ALGORITHM=hmac-sm3. Records already written keep their algorithm.
"""
import hashlib
import hmac
import os
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

LEGACY = "sha256"
HMAC_SHA256 = "hmac-sha256"
HMAC_SM3 = "hmac-sm3"
DEFAULT_ALGORITHM = HMAC_SHA256

DEV_KEY_ID = "dev"
DEV_KEY = b"dev-only-audit-hmac-key: never use in production"

_DIGESTS = {HMAC_SHA256: "sha256", HMAC_SM3: "sm3"}


class KeyUnknown(LookupError):
    """A record names a key id this server does not hold (a retired key removed from the key file)."""


def _setting(name, default=""):
    value = getattr(settings, name, None)
    if value in (None, ""):
        value = os.environ.get(name, default)
    return value


def algorithms_available():
    """The keyed algorithms this server can compute."""
    return [name for name, digest in _DIGESTS.items() if digest in hashlib.algorithms_available]


def current_algorithm():
    name = _setting("AUDIT_HASH_ALGORITHM", DEFAULT_ALGORITHM)
    if name not in _DIGESTS:
        raise ImproperlyConfigured(f"AUDIT_HASH_ALGORITHM must be one of {', '.join(_DIGESTS)}, not {name!r} "
                                   "(审计哈希算法设置无效)")
    if name not in algorithms_available():
        raise ImproperlyConfigured(f"AUDIT_HASH_ALGORITHM={name}: this Python's OpenSSL does not provide "
                                   f"{_DIGESTS[name]} (本机不支持该算法)")
    return name


@lru_cache(maxsize=8)
def _parse_key_file(path, _mtime):
    keys, current = {}, None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 1)
            if len(parts) != 2:
                raise ImproperlyConfigured(f"{path}:{number}: expected '<key id> <secret>' (审计密钥文件格式错误)")
            key_id, secret = parts
            keys[key_id] = secret.encode("utf-8")
            current = key_id
    if current is None:
        raise ImproperlyConfigured(f"{path}: no key in the file (审计密钥文件为空)")
    return current, tuple(keys.items())


def keyring():
    """(current key id, {key id: secret bytes})."""
    path = _setting("AUDIT_HMAC_KEY_FILE")
    if path:
        try:
            mtime = os.stat(path).st_mtime_ns  # a rotated file (new mtime) is read again
        except OSError as exc:
            raise ImproperlyConfigured(f"AUDIT_HMAC_KEY_FILE {path}: {exc.strerror} (审计密钥文件无法读取)") from None
        current, items = _parse_key_file(str(path), mtime)
        return current, dict(items)
    secret = _setting("AUDIT_HMAC_KEY")
    if secret:
        key_id = str(_setting("AUDIT_HMAC_KEY_ID", "1"))
        return key_id, {key_id: secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)}
    return DEV_KEY_ID, {DEV_KEY_ID: DEV_KEY}


def current_key_id():
    return keyring()[0]


def uses_dev_key():
    return current_key_id() == DEV_KEY_ID


def digest(algorithm, key_id, message: bytes) -> str:
    """The hex digest of `message` under `algorithm` (and the key `key_id`, for the keyed ones)."""
    if algorithm == LEGACY:
        return hashlib.sha256(message).hexdigest()
    name = _DIGESTS.get(algorithm)
    if name is None:
        raise KeyUnknown(f"unknown audit hash algorithm {algorithm!r}")
    secret = keyring()[1].get(key_id)
    if secret is None:
        raise KeyUnknown(f"audit key {key_id!r} is not in this server's keyring")
    return hmac.new(secret, message, name).hexdigest()
