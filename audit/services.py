"""Appending to and verifying the hash-chained audit trail, and publishing each chain's head.

Each record's hash covers its fields and the previous record's hash, computed with the record's own
algorithm (audit.keys): a keyed HMAC since the key existed, plain SHA-256 before. The heads are published
daily outside the database (`publish_heads`: the security log and the heads file, and the public pages), so
a chain rewritten even with the key differs from what was published (docs/security.md).
"""
import datetime
import decimal
import json
import os
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_save
from django.utils import timezone, translation
from django.utils.functional import Promise

from fundapp import clock

from . import keys
from .models import GENESIS_HASH, AuditChainHead, AuditRecord, PublishedHead

# A fixed list rather than "all fields": adding a column later must not change the hashes of
# records already written.
HASHED_FIELDS = (
    "chain",
    "seq",
    "recorded_at",
    "actor_id",
    "actor_name",
    "post_id",
    "post_label",
    "community_id",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
    "note",
    "prev_hash",
)
# Columns added after records were written: hashed only when set, so that older records, which lack
# them, keep their hashes.
OPTIONAL_HASHED_FIELDS = ("effective_on",)
# Hashed in keyed records only (legacy "sha256" records predate them): a record cannot be relabelled.
KEYED_HASHED_FIELDS = ("algorithm", "key_id")


class _CanonicalEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.date | datetime.time):
            return o.isoformat()
        if isinstance(o, decimal.Decimal | uuid.UUID | Promise):
            return str(o)
        return super().default(o)


def canonical_json(value) -> str:
    return json.dumps(
        value,
        cls=_CanonicalEncoder,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,  # PostgreSQL's jsonb rejects NaN; fail here with a clear error instead.
    )


def _parse_float(text):
    number = float(text)
    # PostgreSQL's jsonb prints 1e+16 as 10000000000000000, which reads back as an int.
    return int(number) if number.is_integer() else number


def _canonical(value):
    # Stored in the form the hash saw, so that recomputing it from the row gives the same digest.
    return None if value is None else json.loads(canonical_json(value), parse_float=_parse_float)


def _hashable(value):
    if isinstance(value, datetime.datetime):
        # The database hands datetimes back in UTC whatever zone they were written in.
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return value


def compute_hash(record: AuditRecord) -> str:
    """The record's hash under its own algorithm and key (raises keys.KeyUnknown for a key not held here)."""
    return keys.digest(record.algorithm, record.key_id, hash_payload(record))


def hash_payload(record: AuditRecord) -> bytes:
    """What the hash covers, as bytes: the hashed fields in canonical JSON."""
    payload = {name: _hashable(getattr(record, name)) for name in HASHED_FIELDS}
    for name in OPTIONAL_HASHED_FIELDS:
        value = getattr(record, name)
        if value is not None:
            payload[name] = _hashable(value)
    if record.algorithm != keys.LEGACY:
        for name in KEYED_HASHED_FIELDS:
            payload[name] = getattr(record, name)
    return canonical_json(payload).encode("utf-8")


def _target_key(target) -> tuple[str, str]:
    if isinstance(target, models.Model):
        if target.pk is None:
            raise ValueError("audit target must be saved before it is recorded")
        return target._meta.label_lower, str(target.pk)
    target_type, target_id = target
    return str(target_type), str(target_id)


def _actor_name(actor) -> str:
    if actor is None:
        return ""
    username = actor.get_username()
    full_name = actor.get_full_name().strip()
    return f"{full_name} ({username})" if full_name else username


def _locked_head(chain: str) -> AuditChainHead:
    heads = AuditChainHead.objects.select_for_update()
    head = heads.filter(chain=chain).first()
    if head is None:
        # ON CONFLICT DO NOTHING: two first appends to a new chain both get past this line (the
        # second waits for the first to commit) instead of one failing on the unique key.
        AuditChainHead.objects.bulk_create([AuditChainHead(chain=chain)], ignore_conflicts=True)
        head = heads.get(chain=chain)
    return head


def _record_text(value):
    # Stored text is in the site's language, whatever language the acting user reads the site in.
    if value is None:
        return ""
    with translation.override(settings.LANGUAGE_CODE):
        return str(value)


def audit_record(
    *,
    actor,
    action: str,
    target,
    before=None,
    after=None,
    post=None,
    community_id: int | None = None,
    note: str = "",
    chain: str | None = None,
    effective_on: datetime.date | None = None,
) -> AuditRecord:
    """Append one record; call it inside the transaction that makes the change it records.

    `effective_on` is the date the act took effect (the date a person entered for it: a meeting held, a
    payment made); by default the domain clock's today. `recorded_at` is always the real time of writing.
    """
    if chain is None:
        chain = f"community:{community_id}" if community_id is not None else "city"
    with transaction.atomic():
        head = _locked_head(chain)
        record = _next_record(head, actor=actor, action=action, target=target, before=before, after=after,
                              post=post, community_id=community_id, note=note, effective_on=effective_on)
        record.save(force_insert=True)
        head.save(update_fields=["seq", "last_hash"])
    return record


def _next_record(head, *, actor, action, target, before=None, after=None, post=None, community_id=None, note="",
                 effective_on=None):
    """The record that follows `head` on its chain (hashed, not saved); moves the head on to it."""
    target_type, target_id = _target_key(target)
    before, after = _canonical(before), _canonical(after)
    record = AuditRecord(
        chain=head.chain,
        seq=head.seq + 1,
        # The real clock, not fundapp.clock: the trail's own evidence of when it was written.
        recorded_at=timezone.now(),
        effective_on=effective_on if effective_on is not None else clock.today(),
        actor=actor,
        actor_name=_actor_name(actor),
        post_id=post.pk if post is not None else None,
        post_label=_record_text(post),
        community_id=community_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        note=note,
        prev_hash=head.last_hash,
        algorithm=keys.current_algorithm(),
        key_id=keys.current_key_id(),
    )
    record.hash = compute_hash(record)
    head.seq, head.last_hash = record.seq, record.hash
    return record


def audit_records(entries) -> list[AuditRecord]:
    """Append many records at once (an import of a city's roster): each entry is the keyword arguments of
    `audit_record`, and each gets the same record, in the given order on its chain, as that many calls would
    give — in a fixed number of queries: every chain head locked once (in chain order), one insert for all
    the records, one update of the heads. Receivers of AuditRecord's post_save hear of each record, as after
    `audit_record`."""
    entries = list(entries)
    if not entries:
        return []
    chains = [e.get("chain") or (f"community:{e['community_id']}" if e.get("community_id") is not None else "city")
              for e in entries]
    records = []
    with transaction.atomic():
        names = sorted(set(chains))
        AuditChainHead.objects.bulk_create([AuditChainHead(chain=name) for name in names], ignore_conflicts=True)
        heads = {h.chain: h for h in AuditChainHead.objects.select_for_update().filter(chain__in=names)
                 .order_by("chain")}
        for entry, chain in zip(entries, chains):
            fields = {k: v for k, v in entry.items() if k != "chain"}
            records.append(_next_record(heads[chain], **fields))
        AuditRecord.objects.bulk_create(records, batch_size=500)
        _heads_update(list(heads.values()))
        using = transaction.get_connection().alias
        for record in records:
            record._state.adding, record._state.db = False, using
            post_save.send(sender=AuditRecord, instance=record, created=True, update_fields=None, raw=False,
                           using=using)
    return records


def _heads_update(heads, chunk=500):
    """Write the heads' new positions, a few hundred per statement (Django's bulk_update builds a CASE per row,
    which takes seconds for thousands): one UPDATE from a list of values, in PostgreSQL and SQLite alike."""
    from django.db import connection

    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    for start in range(0, len(heads), chunk):
        part = heads[start:start + chunk]
        values = ", ".join(["(%s, %s, %s)"] * len(part))
        params = [x for h in part for x in (h.pk, h.seq, h.last_hash)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH v(id, seq, last_hash) AS (VALUES {values}) "
                f"UPDATE {table} SET seq = (SELECT v.seq FROM v WHERE v.id = {table}.id), "
                f"last_hash = (SELECT v.last_hash FROM v WHERE v.id = {table}.id) "
                f"WHERE id IN (SELECT v.id FROM v)", params)


@dataclass(frozen=True)
class Problem:
    record_id: int | None
    chain: str
    seq: int | None
    message: str

    def __str__(self):
        record = f"id={self.record_id}" if self.record_id is not None else "id=-"
        return f"[{self.chain} seq={self.seq}] {record}: {self.message}"


def verify_chain(chain: str | None = None) -> list[Problem]:
    """Recompute and cross-check every record; an empty list means the trail is intact."""
    if chain is not None:
        chains = [chain]
    else:
        names = set(AuditRecord.objects.order_by().values_list("chain", flat=True).distinct())
        names.update(AuditChainHead.objects.values_list("chain", flat=True))
        chains = sorted(names)
    problems = []
    for name in chains:
        problems.extend(_verify_one_chain(name))
    return problems


def _verify_one_chain(chain: str) -> list[Problem]:
    # The head is read before the records: appends committed while we iterate only add records
    # beyond head.seq, so a live system is verified without locking it.
    head = AuditChainHead.objects.filter(chain=chain).first()
    problems = []
    expected_seq, prev_hash, seen, keyed = 1, GENESIS_HASH, 0, False
    records = AuditRecord.objects.filter(chain=chain).order_by("seq")
    for record in records.iterator(chunk_size=2000):
        seen += 1
        if record.algorithm == keys.LEGACY and keyed:
            # Unkeyed records are those written before the key existed: none may follow a keyed one.
            problems.append(Problem(
                record.pk, chain, record.seq,
                "无密钥哈希出现在有密钥的记录之后 / an unkeyed (sha256) record after keyed ones: rewritten",
            ))
        keyed = keyed or record.algorithm != keys.LEGACY
        if record.seq != expected_seq:
            problems.append(Problem(
                record.pk, chain, record.seq,
                f"缺少记录 / missing records: seq {expected_seq}–{record.seq - 1} before this one",
            ))
        elif record.prev_hash != prev_hash:
            problems.append(Problem(
                record.pk, chain, record.seq,
                "与上一条记录的哈希不衔接 / prev_hash does not match the previous record",
            ))
        try:
            altered = compute_hash(record) != record.hash
        except keys.KeyUnknown as exc:
            problems.append(Problem(record.pk, chain, record.seq, f"无法校验 / cannot verify: {exc}"))
            altered = False
        if altered:
            problems.append(Problem(
                record.pk, chain, record.seq,
                "内容与哈希不符，记录被改动 / hash mismatch: the record was altered",
            ))
        if head is not None and record.seq == head.seq and record.hash != head.last_hash:
            problems.append(Problem(
                record.pk, chain, record.seq,
                "与链头哈希不符 / hash differs from the chain head",
            ))
        expected_seq, prev_hash = record.seq + 1, record.hash
    if head is None:
        if seen:
            problems.append(Problem(None, chain, None, "缺少链头 / chain head is missing"))
    elif head.seq >= expected_seq:
        problems.append(Problem(
            None, chain, head.seq,
            f"链尾缺少记录 / missing records at the end: seq {expected_seq}–{head.seq}",
        ))
    return problems


# The append-only triggers (migrations 0002–0004), by database: each must exist and be enabled.
TRIGGERS = {
    "postgresql": ("audit_record_append_only",),
    "sqlite": ("audit_record_no_update", "audit_record_no_delete"),
}


def missing_triggers(using="default") -> list[str]:
    """The append-only triggers that are not in place on the audit table (dropped, or disabled on
    PostgreSQL). SQLite drops a table's triggers silently whenever a migration rebuilds the table."""
    from django.db import connections

    connection = connections[using]
    expected = TRIGGERS.get(connection.vendor, ())
    table = AuditRecord._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
                           "AND tgenabled <> 'D'", [connection.ops.quote_name(table)])
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        else:
            return []
        present = {name for (name,) in cursor.fetchall()}
    return [name for name in expected if name not in present]


def heads_file():
    """Where the published heads are appended, one JSON line each (AUDIT_HEADS_FILE; default
    var/audit-heads.jsonl). Keep a copy off the machine (docs/security.md)."""
    path = getattr(settings, "AUDIT_HEADS_FILE", "") or os.environ.get("AUDIT_HEADS_FILE", "")
    return path or os.path.join(settings.BASE_DIR, "var", "audit-heads.jsonl")


def publish_heads(path=None) -> list[PublishedHead]:
    """Publish every chain's head (sequence number and hash), as it is now: one line per chain to the
    security log and the heads file, and a PublishedHead row for the public pages. Daily (Celery beat)."""
    from fundapp import security_log

    now = timezone.now()
    heads = list(AuditChainHead.objects.filter(seq__gt=0).order_by("chain"))
    published = PublishedHead.objects.bulk_create(
        [PublishedHead(chain=h.chain, seq=h.seq, hash=h.last_hash, published_at=now) for h in heads])
    path = path or heads_file()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        for h in heads:
            f.write(canonical_json({"at": timezone.localtime(now).isoformat(timespec="seconds"), "chain": h.chain,
                                    "seq": h.seq, "hash": h.last_hash}) + "\n")
        f.flush()
        os.fsync(f.fileno())
    for h in heads:
        security_log.event("audit.head", chain=h.chain, seq=h.seq, hash=h.last_hash)
    return published


def published_head(chain):
    """The latest published head of `chain` (a PublishedHead), or None."""
    return PublishedHead.objects.filter(chain=chain).order_by("-published_at", "-pk").first()


def community_chain(community_id):
    return f"community:{community_id}"


def read_heads(path):
    """The heads published in a heads file (or a copy of it, or of the security log's audit.head lines):
    a list of (chain, seq, hash)."""
    import re

    found = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                entry = json.loads(line)
                found.append((entry["chain"], int(entry["seq"]), entry["hash"]))
            elif " audit.head " in line:
                fields = dict(re.findall(r"(\w+)=(\S+)", line))
                if {"chain", "seq", "hash"} <= fields.keys():
                    found.append((fields["chain"], int(fields["seq"]), fields["hash"]))
    return found


def verify_published(path, chain=None) -> list[Problem]:
    """Each head published in `path` must still be in the trail: the record at that sequence number of that
    chain, with that hash. A chain rewritten (even with the key) or cut short before it fails here."""
    problems = []
    for name, seq, digest in read_heads(path):
        if chain is not None and name != chain:
            continue
        record = AuditRecord.objects.filter(chain=name, seq=seq).only("pk", "hash").first()
        if record is None:
            problems.append(Problem(None, name, seq, "已发布的链头记录不存在 / a published head's record is gone"))
        elif record.hash != digest:
            problems.append(Problem(record.pk, name, seq,
                                    "与已发布的链头哈希不符 / hash differs from the published head"))
    return problems
