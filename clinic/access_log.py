"""The access log's tamper evidence: a hash chain, and one writer at a time."""

import hashlib

from django.db import connection

# A fixed key for PostgreSQL's advisory lock that serialises access-log writers.
CHAIN_LOCK_KEY = 7_240_001


def lock_chain() -> None:
    """Inside a transaction: wait for any other access-log writer to commit.
    (SQLite already runs one writer at a time.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def entry_hash(entry) -> str:
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
