"""The access log: who read which client's health data, when and from where.

Every staff read of a client's health data calls `access_log_record` (one
object) or `access_log_record_many` (a list page). Entries are tamper-evident:
each carries the hash of the one before it, so a changed or removed entry
breaks the chain (`manage.py verify_access_log`)."""

import hashlib

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import AccessLogEntry, ClientProfile, User
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


def verify(entries) -> tuple[int, int | None]:
    """Walk the log in order: (entries checked, id of the first broken one or None)."""
    previous = ""
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
