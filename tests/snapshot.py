"""Rows built once per test process and written back, row for row, into every test that asks for them.

Building the shared organisation through the services (`conftest.Org`: subdistricts, communities, 21 users
with their posts, guardian grants and audit records) costs about 600 queries. A `Snapshot` runs such a
builder once per process (per xdist worker) inside a transaction that it rolls back, and keeps what the
builder changed: the new rows, with the values the database held, and the rows it updated (an audit chain's
head). `restore()` writes them back with one multi-row INSERT per table (a dozen statements) and hands back a
deep copy of the builder's Python result, so each test gets a fresh organisation, equal to one built through
the services, inside its own transaction (rolled back with it) or its own committed data (a transactional
test flushes it like any other).

Primary keys: each snapshot's rows are built with ids from a multiple of OFFSET up, so they never meet the ids
of rows a test made before it asked for the snapshot (a user made by another fixture keeps a smaller id, as it
would have). After a restore the sequences continue after the snapshot's rows; `forget()` puts PostgreSQL's
(which no rollback resets) back where they were. SQLite's AUTOINCREMENT counters live in a table and roll
back.

Rows that point at rows the builder did not write (guardian's grants point at content types and permissions)
are re-pointed by natural key at each restore: a transactional test's flush re-creates those with new ids.

Nothing else is captured: a builder must not leave effects outside the database (cache, on_commit callbacks)
beyond files in the worker's media directory, which stay there for the restored rows that name them (the
papers `seed_demo` and the chain walks archive). The organisation's builder leaves none.

Shared between processes: a snapshot made with `shared_as="name"` is built once per run and database engine
when TEST_SNAPSHOT_DIR names a directory (bin/test makes one for the run): the first worker to need it builds
it under a file lock and stores its rows, its result and the media files the builder wrote; every other
worker of that engine waits for the lock and loads them (the demo city: one build per engine instead of one
per worker). Its ids come from a range of its own (slot 100 and up), the same in every process.
"""
import copy
import fcntl
import os
import pickle  # nosec B403: our own files, written by this run's workers into the run's own directory
import re
import shutil
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import AutoField

from fundapp import clock

OFFSET = 10_000_000

# PBKDF2's deliberate slowness is for attackers, not for the hundreds of test users.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# INSERT, INSERT OR IGNORE (SQLite's bulk_create(ignore_conflicts=True), many-to-many add), UPDATE, DELETE.
_WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?',
                    re.IGNORECASE)


class _Rollback(Exception):
    pass


def _models_by_table():
    return {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)
            if not m._meta.proxy and m._meta.managed}


def _auto_pk_models():
    return [m for m in _models_by_table().values() if isinstance(m._meta.pk, AutoField)]


def _rows(model):
    """{pk: tuple of database values of the table's own columns} for every row of `model`'s table."""
    fields = model._meta.local_concrete_fields
    return {obj.pk: tuple(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)
            for obj in model._base_manager.order_by("pk")}


def _comparable(values):
    # JSON values come back wrapped in an adapter object; compare what they wrap.
    return tuple(getattr(v, "adapted", getattr(v, "obj", v)) for v in values)


def _same(rows, other):
    return rows.keys() == other.keys() and all(_comparable(rows[pk]) == _comparable(other[pk]) for pk in rows)


class _Sequences:
    """Where each auto-increment counter stands, and moving it: PostgreSQL sequences or SQLite's table."""

    def __init__(self, models):
        self.tables = [m._meta.db_table for m in models]
        self.pk_columns = {m._meta.db_table: m._meta.pk.column for m in models}

    def _pg_sequences(self, cursor):
        cursor.execute(
            " UNION ALL ".join("SELECT %s, pg_get_serial_sequence(%s, %s)" for _ in self.tables),
            [x for t in self.tables for x in (t, connection.ops.quote_name(t), self.pk_columns[t])],
        )
        return [(table, seq) for table, seq in cursor.fetchall() if seq]

    def read(self):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                sequences = self._pg_sequences(cursor)
                cursor.execute(
                    " UNION ALL ".join(f"SELECT %s, %s, last_value, is_called FROM {seq}" for _, seq in sequences),
                    [x for table, seq in sequences for x in (table, seq)],
                )
                return {table: (seq, last, called) for table, seq, last, called in cursor.fetchall()}
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
            return dict(cursor.fetchall())

    def put(self, positions):
        """positions: as read() returned them (PostgreSQL), or {table: value} to move every counter to."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if positions:
                    cursor.execute("SELECT " + ", ".join("setval(%s, %s, %s)" for _ in positions),
                                   [x for seq, last, called in positions.values() for x in (seq, last, called)])
            else:
                for table, value in positions.items():
                    cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [value, table])
                    if cursor.rowcount == 0:
                        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, value])

    def start_all_at(self, value):
        if connection.vendor == "postgresql":
            now = self.read()
            self.put({t: (seq, value, True) for t, (seq, _last, _called) in now.items()})
        else:
            self.put({t: value for t in self.tables})


class Snapshot:
    """What `build()` wrote, taken once; `restore()` writes it again and returns a copy of build()'s result."""

    _count = 0

    def __init__(self, build, shared_as=None):
        Snapshot._count += 1
        # Each snapshot its own range of ids; a shared one the same range in every process.
        slot = 100 + zlib.crc32(shared_as.encode()) % 100 if shared_as else Snapshot._count
        self._offset = OFFSET * slot
        self._build = build
        self._shared_as = shared_as
        self._taken = False
        self._saved_positions = None
        self._all_sequences = None

    def take(self):
        share = os.environ.get("TEST_SNAPSHOT_DIR")
        if not (self._shared_as and share):
            return self._take()
        # Per engine (the rows hold each engine's own values) and per day (the demo is seeded as of today).
        stem = Path(share) / f"{self._shared_as}-{connection.vendor}-{clock.today().isoformat()}"
        with _locked(stem.with_suffix(".lock")):
            stored, media = stem.with_suffix(".pickle"), stem.with_suffix(".media")
            if stored.exists():
                self._load(stored, media)
                return
            before = _media_files()
            self._take()
            for relative in sorted(_media_files() - before):
                (media / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(_media_root() / relative, media / relative)
            partial = stored.with_suffix(".partial")
            # Models by table name: auto-created many-to-many models cannot be pickled by reference.
            inserts = [(model._meta.db_table, head, width, rows,
                        [(index, target._meta.db_table, keys) for index, target, keys in outside])
                       for model, head, width, rows, outside in self.inserts]
            partial.write_bytes(pickle.dumps((self._offset, inserts, self.updates, self.result)))
            partial.rename(stored)

    def _load(self, stored, media):
        offset, inserts, self.updates, self.result = pickle.loads(stored.read_bytes())  # nosec B301
        assert offset == self._offset, (offset, self._offset)
        by_table = _models_by_table()
        self.inserts = [(by_table[table], head, width, rows,
                         [(index, by_table[target], keys) for index, target, keys in outside])
                        for table, head, width, rows, outside in inserts]
        if media.exists():
            shutil.copytree(media, _media_root(), dirs_exist_ok=True)
        self._taken = True

    def _take(self):
        by_table = _models_by_table()
        written = []

        def spy(execute, sql, params, many, context):
            match = _WRITE.match(sql)
            if match and match.group(1) in by_table and match.group(1) not in written:
                written.append(match.group(1))
            return execute(sql, params, many, context)

        sequences = _Sequences(_auto_pk_models())
        positions = sequences.read() if connection.vendor == "postgresql" else None
        after = {}
        try:
            with transaction.atomic():
                sequences.start_all_at(self._offset)
                with connection.execute_wrapper(spy):
                    result = self._build()
                after = {table: _rows(model) for table, model in by_table.items()}
                raise _Rollback
        except _Rollback:
            pass
        finally:
            if positions is not None:
                sequences.put(positions)  # sequences ignore the rollback
        self.result = result
        self.inserts, self.updates = [], []
        # Whatever the statements that wrote them looked like, every table that changed is taken.
        changed = [table for table, model in by_table.items()
                   if table not in written and not _same(_rows(model), after[table])]
        written += changed
        for table in written:
            model = by_table[table]
            before = _rows(model)
            if set(before) - set(after[table]):
                raise NotImplementedError(f"the snapshot's builder deleted rows of {table}")
            qn = connection.ops.quote_name
            columns = [f.column for f in model._meta.local_concrete_fields]
            new = [values for pk, values in after[table].items() if pk not in before]
            if new:
                outside = self._outside_references(model, new, written)
                self.inserts.append((model, f"INSERT INTO {qn(table)} ({', '.join(map(qn, columns))}) VALUES ",
                                     len(columns), new, outside))
            pk_index = [f.attname for f in model._meta.local_concrete_fields].index(model._meta.pk.attname)
            for pk, values in after[table].items():
                if pk in before and _comparable(before[pk]) != _comparable(values):
                    assignments = ", ".join(f"{qn(c)} = %s" for c in columns)
                    where = f"{qn(columns[pk_index])} = %s"
                    self.updates.append((f"UPDATE {qn(table)} SET {assignments} WHERE {where}",
                                         [*values, values[pk_index]]))
        self._taken = True

    @staticmethod
    def _outside_references(model, rows, written):
        """Columns of `rows` that point at rows the builder did not write (content types, permissions: a
        transactional test's flush re-creates those with new ids): [(column index, model, {id: natural key})]."""
        outside = []
        for index, field in enumerate(model._meta.local_concrete_fields):
            target = field.related_model if field.is_relation else None
            if target is None or target._meta.db_table in written:
                continue
            ids = {row[index] for row in rows if row[index] is not None}
            if not ids:
                continue  # a column the builder left empty (e.g. a paper's report, for a proposal's paper)
            if not hasattr(target, "natural_key"):
                raise NotImplementedError(f"{model._meta.label}.{field.name} points at {target._meta.label} rows "
                                          "that the snapshot's builder did not write and that have no natural key")
            keys = {obj.pk: obj.natural_key() for obj in target._base_manager.select_related().filter(pk__in=ids)}
            outside.append((index, target, keys))
        return outside

    @staticmethod
    def _current_ids(inserts):
        """{model: {natural key: id today}} for the rows outside the snapshot that its rows point at."""
        current = {}
        for *_, outside in inserts:
            for _index, target, keys in outside:
                if target not in current:
                    current[target] = {obj.natural_key(): obj.pk for obj in target._base_manager.select_related()}
        return current

    def restore(self):
        if not self._taken:
            self.take()
        if connection.vendor == "postgresql":
            # Every table's counter, not only the snapshot's: forget() puts them all back, so each test starts
            # from the same ids, as on SQLite (whose counters roll back with the test). The same ids make the
            # same papers, which fundapp.pdf then renders once per process.
            if self._all_sequences is None:
                self._all_sequences = _Sequences(_auto_pk_models())
            self._saved_positions = self._all_sequences.read()
        with transaction.atomic(), connection.cursor() as cursor:
            current = self._current_ids(self.inserts)
            for _model, head, width, rows, outside in self.inserts:
                if outside:
                    rows = [list(row) for row in rows]
                    for index, target, keys in outside:
                        for row in rows:
                            if row[index] is not None:
                                row[index] = current[target][keys[row[index]]]
                # One statement per table (SQLite allows 999 parameters in one: chunks stay below).
                per_chunk = max(1, 900 // width)
                for start in range(0, len(rows), per_chunk):
                    chunk = rows[start:start + per_chunk]
                    placeholders = ", ".join("(" + ", ".join(["%s"] * width) + ")" for _ in chunk)
                    cursor.execute(head + placeholders, [v for row in chunk for v in row])
            for sql, params in self.updates:
                cursor.execute(sql, params)
            models = [model for model, *_ in self.inserts]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
        return copy.deepcopy(self.result)

    def forget(self):
        """After the test: PostgreSQL's sequences back to where they stood before restore()."""
        if self._saved_positions is not None:
            self._all_sequences.put(self._saved_positions)
            self._saved_positions = None


def _media_root():
    from django.conf import settings

    return Path(settings.MEDIA_ROOT)


def _media_files():
    root = _media_root()
    return {path.relative_to(root) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@contextmanager
def _locked(path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def org_snapshot_fixtures(build):
    """Two fixtures for a module's shared data: `build(org)` run once per test process on a fresh organisation
    (a module's books or city: a dozen acts through the services, each filing its papers), and the fixture a
    test asks for, which writes those rows back and gives a copy of what build returned (usually the org):

        city_snapshot, city = org_snapshot_fixtures(build_city)

    The session fixture must be named after the test's, with `_snapshot` added. The module's tests stay on one
    worker, which builds it once."""

    def snapshot(django_db_setup, django_db_blocker, org_snapshot):
        from django.test import override_settings

        def run():
            org = org_snapshot.restore()
            try:
                with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
                    return build(org)
            finally:
                org_snapshot.forget()

        taken = Snapshot(run)
        with django_db_blocker.unblock():
            taken.take()
        return taken

    def restored(db, request):
        taken = request.getfixturevalue(f"{request.fixturename}_snapshot")
        data = taken.restore()
        yield data
        taken.forget()

    # read by conftest._uses_a_module_fixture: the module's tests go to one worker
    snapshot.shared_by_module = restored.shared_by_module = True
    restored.__doc__ = f"What {build.__name__} built, written back for this test (tests/snapshot.py)."
    return pytest.fixture(scope="session")(snapshot), pytest.fixture(restored)
