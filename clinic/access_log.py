"""The access log: who read which client's health data, when and from where.

Every staff read of a client's health data calls `access_log_record` (one
object) or `access_log_record_many` (a list page). Entries are tamper-evident:
each carries the hash of the one before it, so a changed or removed entry
breaks the chain (`manage.py verify_access_log`)."""

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import AccessLogArchive, AccessLogEntry, ClientProfile, User
from .net import client_ip

# A fixed key for PostgreSQL's advisory lock that serialises access-log writers.
CHAIN_LOCK_KEY = 7_240_001


def lock_chain() -> None:
    """Inside a transaction: wait for any other access-log writer to commit.
    (SQLite already runs one writer at a time.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def entry_hash(entry: AccessLogEntry) -> str:
    """SHA-256 over the previous hash and every field a reader relies on."""
    parts = [
        entry.previous_hash,
        str(entry.actor_id),
        entry.action,
        entry.object_type,
        entry.object_id,
        str(entry.client_id),
        entry.path,
        entry.ip_address or "",
        entry.at.isoformat(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# --- The chain's order -------------------------------------------------------------
#
# One place says which field gives an entry its position in the chain, so the
# writer, verify_access_log, the checkpoints and the archive agree on it.


def chain_position_field() -> str:
    """The field that orders the chain (and numbers its positions)."""
    return "pk"


def chain_ordered(queryset):
    """The entries of `queryset` that are in the chain, in the chain's order."""
    return queryset.order_by(chain_position_field())


def chain_position(entry: AccessLogEntry) -> int:
    return getattr(entry, chain_position_field())


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


def verify(entries, *, start_hash: str = "") -> tuple[int, int | None]:
    """Walk the log in order from `start_hash` (the last archived entry's hash,
    or "" for a log that starts in the database): (entries checked, id of the
    first broken one or None)."""
    previous = start_hash
    checked = 0
    for entry in entries:
        if entry.previous_hash != previous or entry.entry_hash != entry_hash(entry):
            return checked, entry.pk
        previous = entry.entry_hash
        checked += 1
    return checked, None


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

    Writers take one lock in turn, or two of them would chain onto the same
    entry."""
    if not items:
        return []  # an empty page read nobody's data: no lock taken for it
    path = request.get_full_path()[:300] if request is not None else ""
    ip = client_ip(request) if request is not None else None
    entries = []
    with transaction.atomic():
        lock_chain()
        # The newest entry is always in the database (archive_access_log
        # never archives the head of the chain).
        previous = (
            AccessLogEntry.objects.order_by("-pk").values_list("entry_hash", flat=True).first()
            or ""
        )
        now = timezone.now()
        for client, obj in items:
            entry = AccessLogEntry(
                actor=actor,
                action=action,
                object_type=obj._meta.label_lower,
                object_id=str(getattr(obj, "uuid", None) or obj.pk),
                client=client,
                path=path,
                ip_address=ip,
                at=now,
                previous_hash=previous,
            )
            entry.entry_hash = entry_hash(entry)
            previous = entry.entry_hash
            entries.append(entry)
        AccessLogEntry.objects.bulk_create(entries)
    return entries


# --- Anchoring the head of the chain ---------------------------------------------------
#
# The chain shows a changed or removed entry, but not the newest entries
# removed: the shorter chain is still a valid chain. So the head (the last
# entry's id, its hash and how many entries there are up to it) is written at
# intervals where the database role that writes the log cannot rewrite it: an
# append-only file (ACCESS_LOG_ANCHOR_FILE; on its own volume, or `chattr +a`,
# in production). A truncated tail then no longer matches the last checkpoint.


@dataclass(frozen=True)
class Checkpoint:
    at: str
    last_id: int
    count: int
    head_hash: str


def _anchor_path() -> Path:
    return Path(settings.ACCESS_LOG_ANCHOR_FILE)


def checkpoint_write() -> Checkpoint | None:
    """Append the current head of the chain to the anchor file (beat runs
    this hourly); nothing when the log is empty or the head is unchanged."""
    head = AccessLogEntry.objects.order_by("-pk").values_list("pk", "entry_hash").first()
    if head is None:
        return None
    checkpoints = checkpoints_read()
    if checkpoints and checkpoints[-1].last_id == head[0]:
        return None
    checkpoint = Checkpoint(
        at=timezone.now().isoformat(),
        last_id=head[0],
        # Counted from the first entry ever: the archived months' entries too.
        count=unarchived(AccessLogEntry.objects.filter(pk__lte=head[0])).count() + archived_rows(),
        head_hash=head[1],
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


def archived_rows() -> int:
    return sum(AccessLogArchive.objects.values_list("rows", flat=True))


def verify_anchors() -> Checkpoint | None:
    """The first checkpoint the log no longer matches (its last entry gone or
    changed, or fewer entries up to it than were counted then), or None.

    A checkpoint whose last entry is in an archived month is not checked here:
    its entries are in the archive's file (checksummed, its last hash recorded),
    no longer in the database. The count of a later one includes the archived
    entries."""
    archived_through = (
        AccessLogArchive.objects.exclude(last_position=None)
        .order_by("-last_position")
        .values_list("last_position", flat=True)
        .first()
    )
    checkpoints = [
        c for c in checkpoints_read() if archived_through is None or c.last_id > archived_through
    ]
    if not checkpoints:
        return None
    ids = [c.last_id for c in checkpoints]
    heads = dict(
        AccessLogEntry.objects.filter(pk__in=ids).values_list("pk", "entry_hash").iterator()
    )
    for checkpoint in checkpoints:
        if heads.get(checkpoint.last_id) != checkpoint.head_hash:
            return checkpoint
    # Entries removed below the last head (the chain shows those too, but the
    # count needs nothing else to be intact).
    last = checkpoints[-1]
    remaining = unarchived(AccessLogEntry.objects.filter(pk__lte=last.last_id)).count()
    if remaining + archived_rows() != last.count:
        return last
    return None
