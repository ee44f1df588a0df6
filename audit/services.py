"""Appending to and verifying the hash-chained audit trail."""
import datetime
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_save
from django.utils import timezone, translation
from django.utils.functional import Promise

from fundapp import clock

from .models import GENESIS_HASH, AuditChainHead, AuditRecord

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
    payload = {name: _hashable(getattr(record, name)) for name in HASHED_FIELDS}
    for name in OPTIONAL_HASHED_FIELDS:
        value = getattr(record, name)
        if value is not None:
            payload[name] = _hashable(value)
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


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
    expected_seq, prev_hash, seen = 1, GENESIS_HASH, 0
    records = AuditRecord.objects.filter(chain=chain).order_by("seq")
    for record in records.iterator(chunk_size=2000):
        seen += 1
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
        if compute_hash(record) != record.hash:
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
