"""The access log: who read which client's health data, when and from where.

Every staff read of a client's health data calls `access_log_record` (one
object) or `access_log_record_many` (a list page). Entries are tamper-evident:
each carries the hash of the one before it, so a changed or removed entry
breaks the chain (`manage.py verify_access_log`).

Readers never queue for the chain. A request only inserts its entries
("unsealed": no position, no hashes), in its own transaction, with no lock
and no read of the entry before. One sealer, `access_log_seal` (beat runs it
every few seconds; `manage.py seal_access_log` by hand), gives them their
place (`seq`) and hashes, in the order of their ids. An entry that commits
late (a lower id than entries already sealed) is simply sealed by the next
run: the chain's order is `seq`, not the id. With the worker or Redis down,
entries wait unsealed, never lost; verify_access_log reports any that waited
longer than ACCESS_LOG_SEAL_GRACE_SECONDS."""

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import AccessLogArchive, AccessLogEntry, ClientProfile, User
from .net import client_ip

# A fixed key for PostgreSQL's advisory lock held by the one sealer at work.
CHAIN_LOCK_KEY = 7_240_001
# Entries sealed per statement (and per transaction).
SEAL_BATCH = 2000


def _hash(parts: list[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _fields(entry: AccessLogEntry) -> list[str]:
    return [
        str(entry.actor_id),
        entry.action,
        entry.object_type,
        entry.object_id,
        str(entry.client_id),
        entry.path,
        entry.ip_address or "",
        entry.at.isoformat(),
    ]


def entry_hash(entry: AccessLogEntry) -> str:
    """SHA-256 over the entry's place in the chain, the previous hash and
    every field a reader relies on."""
    return _hash([f"seq:{entry.seq}", entry.previous_hash, *_fields(entry)])


def legacy_entry_hash(entry: AccessLogEntry) -> str:
    """The hash entries had before sealing existed (written under a lock in
    the request, without their place): those entries keep it, so the chain
    and the checkpoints written then still verify (migration 0019)."""
    return _hash([entry.previous_hash, *_fields(entry)])


# --- The chain's order -------------------------------------------------------------
#
# One place says which field gives an entry its position in the chain, so the
# sealer, verify_access_log, the checkpoints and the archive agree on it.


def chain_position_field() -> str:
    """The field that orders the chain (and numbers its positions, from 1)."""
    return "seq"


def chain_ordered(queryset):
    """The entries of `queryset` that are in the chain (sealed), in its order."""
    return queryset.filter(seq__isnull=False).order_by("seq", "pk")


def chain_position(entry: AccessLogEntry) -> int:
    return getattr(entry, chain_position_field())


def chain_entries():
    """The sealed entries in chain order, as verify() walks them."""
    return chain_ordered(AccessLogEntry.objects.all())


def archived_head() -> AccessLogArchive | None:
    """The newest archived month: the chain in the database continues from its
    last hash."""
    return AccessLogArchive.objects.order_by("-month").first()


def archived_through() -> int | None:
    """The last chain position written to an archive file: the chain in the
    database is proved from the position after it."""
    return (
        AccessLogArchive.objects.exclude(last_position=None)
        .order_by("-last_position")
        .values_list("last_position", flat=True)
        .first()
    )


def unarchived(queryset):
    """The entries of `queryset` after the last archived position (an entry
    of a month still here, chained before the end of an archived month, is in
    that month's file and proved there)."""
    through = archived_through()
    if through is None:
        return queryset
    return queryset.filter(**{f"{chain_position_field()}__gt": through})


def verify(entries, *, start_hash: str = "", start_position: int = 0) -> tuple[int, int | None]:
    """Walk the chain in order (`chain_entries()`): (entries checked, id of
    the first broken one or None). Broken: a position out of 1..N (a gap, a
    repeat), a previous hash that is not the hash of the entry before, or a
    hash that does not match the entry. The hash without the position is
    accepted only for the entries sealed before sealing existed, which come
    first. A log whose oldest months were archived is walked from the last
    archived position and hash (`start_position`, `start_hash`)."""
    previous = start_hash
    checked = 0
    legacy = True
    for entry in entries:
        if entry.seq != start_position + checked + 1 or entry.previous_hash != previous:
            return checked, entry.pk
        if entry.entry_hash == entry_hash(entry):
            legacy = False
        elif not (legacy and entry.entry_hash == legacy_entry_hash(entry)):
            return checked, entry.pk
        previous = entry.entry_hash
        checked += 1
    return checked, None


def unsealed_overdue(*, now: datetime | None = None) -> tuple[int, datetime | None]:
    """(how many entries have waited unsealed longer than the grace, when
    the oldest of them was written)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ACCESS_LOG_SEAL_GRACE_SECONDS)
    overdue = AccessLogEntry.objects.filter(seq__isnull=True, at__lt=cutoff)
    oldest = overdue.order_by("at").values_list("at", flat=True).first()
    if oldest is None:
        return 0, None
    return overdue.count(), oldest


def access_log_record(
    *,
    actor: User,
    client: ClientProfile,
    obj,
    action: str = AccessLogEntry.Action.VIEW,
    request: HttpRequest | None = None,
) -> AccessLogEntry:
    """Record that a staff member read (or exported, downloaded, changed) a
    client's health data. Every staff view of health data calls this."""
    return access_log_record_many(
        actor=actor, items=[(client, obj)], action=action, request=request
    )[0]


def access_log_record_many(
    *,
    actor: User,
    items,
    action: str = AccessLogEntry.Action.VIEW,
    request: HttpRequest | None = None,
) -> list[AccessLogEntry]:
    """One entry per (client, object) shown at once, as a list page shows them.

    One INSERT, in the caller's transaction if there is one: no lock, no read
    of the chain, so staff reading at once never wait for each other. The
    sealer chains the entries after they commit (access_log_seal)."""
    if not items:
        return []
    path = request.get_full_path()[:300] if request is not None else ""
    ip = client_ip(request) if request is not None else None
    now = timezone.now()
    entries = [
        AccessLogEntry(
            actor=actor,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(getattr(obj, "uuid", None) or obj.pk),
            client=client,
            path=path,
            ip_address=ip,
            at=now,
        )
        for client, obj in items
    ]
    if connection.vendor != "postgresql":
        return AccessLogEntry.objects.bulk_create(entries)
    _insert(entries, actor_id=actor.pk, action=action, path=path, ip=ip, at=now)
    return entries


def _insert(entries: list[AccessLogEntry], *, actor_id, action, path, ip, at) -> None:
    """The entries of one request as one statement, their ids given back.

    What bulk_create writes, without its transaction around a single
    statement (BEGIN and COMMIT: two more round trips on every staff page)
    or its per-value preparation: a quarter of a list page's time in Python
    went there (issue 15). The shared values once, the rest as arrays."""
    table = AccessLogEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (actor_id, action, object_type, object_id, client_id, "  # noqa: S608  # nosec B608: constant table name, values as parameters
            "path, ip_address, at, previous_hash, entry_hash) "
            "SELECT %s, %s, e.object_type, e.object_id, e.client_id, %s, %s::inet, %s, '', '' "
            "FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[]) "
            "WITH ORDINALITY AS e(object_type, object_id, client_id, n) ORDER BY e.n "
            "RETURNING id",
            [
                actor_id,
                action,
                path,
                ip,
                at,
                [entry.object_type for entry in entries],
                [entry.object_id for entry in entries],
                [entry.client_id for entry in entries],
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != len(entries):
        raise RuntimeError("access log: not every entry was written")
    # Ids come from the table's sequence in the order the rows were inserted.
    for entry, pk in zip(entries, sorted(ids), strict=True):
        entry.pk = pk
        entry._state.adding = False
        entry._state.db = connection.alias


# --- Sealing ---------------------------------------------------------------------------


def _chain_try_lock() -> bool:
    """Inside a transaction: take the sealer's lock if nobody holds it, never
    wait for it (a sealer at work will seal whatever is there). SQLite runs
    one writer at a time: nothing to take."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _chain_head() -> tuple[int, str]:
    """(position, hash) of the last sealed entry; (0, "") for an empty chain."""
    head = chain_entries().reverse().values_list("seq", "entry_hash").first()
    return head or (0, "")


def _seal_write(entries: list[AccessLogEntry]) -> None:
    """One statement for the batch. The append-only trigger lets exactly this
    through: an unsealed row given its position and hashes, nothing else."""
    if connection.vendor == "postgresql":
        table = AccessLogEntry._meta.db_table
        rows = ", ".join(["(%s::bigint, %s::bigint, %s, %s)"] * len(entries))
        params: list = []
        for entry in entries:
            params += [entry.pk, entry.seq, entry.previous_hash, entry.entry_hash]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS e SET seq = v.seq, previous_hash = v.previous_hash, "  # noqa: S608  # nosec B608: constant table name, values as parameters
                f"entry_hash = v.entry_hash FROM (VALUES {rows}) AS v(id, seq, previous_hash, entry_hash) "
                "WHERE e.id = v.id AND e.seq IS NULL",
                params,
            )
            if cursor.rowcount != len(entries):
                raise RuntimeError("access log: an entry to seal was sealed meanwhile")
    else:
        AccessLogEntry.objects.bulk_update(entries, ["seq", "previous_hash", "entry_hash"])


def access_log_seal(*, batch: int = SEAL_BATCH) -> int:
    """Seal every committed unsealed entry into the chain, in id order, in
    batches (one transaction each); return how many were sealed.

    One sealer at a time (a try-lock: a second one returns at once, as the
    first seals what it would have): two sealers reading the same head would
    give two entries the same position."""
    sealed = 0
    while True:
        with transaction.atomic():
            if not _chain_try_lock():
                return sealed
            seq, previous = _chain_head()
            entries = list(AccessLogEntry.objects.filter(seq__isnull=True).order_by("pk")[:batch])
            if not entries:
                return sealed
            for entry in entries:
                seq += 1
                entry.seq = seq
                entry.previous_hash = previous
                entry.entry_hash = entry_hash(entry)
                previous = entry.entry_hash
            _seal_write(entries)
        sealed += len(entries)
        if len(entries) < batch:
            return sealed


# --- Anchoring the head of the chain ---------------------------------------------------
#
# The chain shows a changed or removed entry, but not the newest entries
# removed: the shorter chain is still a valid chain. So the head (the last
# sealed entry's position, id and hash) is written at intervals where the
# database role that writes the log cannot rewrite it: an append-only file
# (ACCESS_LOG_ANCHOR_FILE; on its own volume, or `chattr +a`, in production).
# A truncated tail then no longer matches the last checkpoint.
#
# Lines written before sealing existed have no `seq`: they name the head by
# its id and count the entries up to it by id, and are checked that way
# (those entries keep their ids and hashes).


@dataclass(frozen=True)
class Checkpoint:
    at: str
    last_id: int
    count: int
    head_hash: str
    seq: int | None = None


def _anchor_path() -> Path:
    return Path(settings.ACCESS_LOG_ANCHOR_FILE)


def checkpoint_write() -> Checkpoint | None:
    """Append the current head of the chain to the anchor file (beat runs
    this hourly); nothing when the chain is empty or its head is unchanged."""
    head = chain_entries().reverse().values_list("seq", "pk", "entry_hash").first()
    if head is None:
        return None
    seq, pk, head_hash = head
    checkpoints = checkpoints_read()
    if checkpoints and checkpoints[-1].last_id == pk:
        return None
    checkpoint = Checkpoint(
        at=timezone.now().isoformat(), last_id=pk, count=seq, head_hash=head_hash, seq=seq
    )
    path = _anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: each line lands at the end whatever else writes the file.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as anchor:
        anchor.write(json.dumps(asdict(checkpoint)) + "\n")
        anchor.flush()
        os.fsync(anchor.fileno())
    return checkpoint


def checkpoints_read() -> list[Checkpoint]:
    path = _anchor_path()
    if not path.exists():
        return []
    return [
        Checkpoint(**json.loads(line))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _checkpoint_position(checkpoint: Checkpoint) -> int:
    """A checkpoint's place in the chain. Those written before sealing existed
    name no position: migration 0019 numbered those entries by id, so the
    head's position is the number of entries counted up to it."""
    return checkpoint.seq if checkpoint.seq is not None else checkpoint.count


def verify_anchors() -> Checkpoint | None:
    """The first checkpoint the log no longer matches (its head entry gone,
    changed or moved, or not as many entries up to it as then), or None.

    A checkpoint whose head is in an archived month is not checked here: its
    entries are in the archive's file (checksummed, its last hash recorded),
    no longer in the database. Positions count from the first entry ever, so
    a later checkpoint needs the archived entries' positions only."""
    through = archived_through() or 0
    checkpoints = [c for c in checkpoints_read() if _checkpoint_position(c) > through]
    if not checkpoints:
        return None
    heads = {
        pk: (seq, head_hash)
        for pk, seq, head_hash in AccessLogEntry.objects.filter(
            pk__in=[c.last_id for c in checkpoints]
        )
        .values_list("pk", "seq", "entry_hash")
        .iterator()
    }
    for checkpoint in checkpoints:
        seq, head_hash = heads.get(checkpoint.last_id, (None, None))
        if head_hash != checkpoint.head_hash or seq != _checkpoint_position(checkpoint):
            return checkpoint
    # Entries removed below the last head (the chain shows those too, but the
    # count needs nothing else to be intact).
    last = checkpoints[-1]
    position = _checkpoint_position(last)
    below = AccessLogEntry.objects.filter(seq__gt=through, seq__lte=position)
    if below.count() != position - through:
        return last
    return None
