"""Archiving a closed month of the access log (`manage.py archive_access_log`).

A month leaves the database only once it is safely in a file:

1. it must be closed for ACCESS_LOG_ARCHIVE_GRACE_DAYS and be the oldest
   month still in the database;
2. the stretch of the chain from the last archived position to the month's
   last entry is written, in the chain's order, as gzip'd JSON lines
   (every column) to ACCESS_LOG_ARCHIVE_DIR/access-log-YYYY-MM.jsonl.gz, 0600
   from the moment the file exists, with a `sha256sum`-style .sha256 beside
   it; the month's chain is checked on the way (an altered month is not
   archived away);
3. the file is read back: its checksum and its number of entries must match;
4. only then is the month's partition detached and dropped, and an
   AccessLogArchive row records the month, the file, its checksum, the number
   of entries, the first and last chain positions and the hashes at both ends,
   all in one transaction.

verify_access_log then proves the entries left in the database from the last
archived hash (clinic/access_log.py)."""

import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import access_log
from .access_log_partitions import (
    PARTITIONS_LOCK_KEY,
    is_partitioned,
    month_add,
    month_bounds,
    month_start,
    partition_name,
    partitions_ensure,
    partitions_list,
)
from .models import AccessLogArchive, AccessLogEntry


class ArchiveRefused(Exception):
    """The month stays in the database; the message says why."""


@dataclass(frozen=True)
class Written:
    path: Path
    sha256: str
    rows: int
    first_position: int | None
    last_position: int | None
    previous_hash: str
    last_hash: str


def archive_dir() -> Path:
    return Path(settings.ACCESS_LOG_ARCHIVE_DIR)


def archive_file_name(month: date) -> str:
    return f"access-log-{month:%Y-%m}.jsonl.gz"


def months_due(*, now: datetime | None = None) -> list[date]:
    """The months still in the database that are older than the retention
    (ACCESS_LOG_RETENTION_MONTHS whole months before this one), oldest first."""
    if not is_partitioned():
        return []
    this_month = month_start((now or timezone.now()).astimezone(UTC).date())
    limit = month_add(this_month, -settings.ACCESS_LOG_RETENTION_MONTHS)
    return [p.month for p in partitions_list() if p.month is not None and p.month < limit]


def _refuse_unless_archivable(month: date, now: datetime) -> None:
    start, end = month_bounds(month)
    this_month = month_start(now.astimezone(UTC).date())
    if month >= this_month:
        raise ArchiveRefused(
            _("%(month)s is not over yet: only a closed month can be archived.")
            % {"month": f"{month:%Y-%m}"}
        )
    grace = timedelta(days=settings.ACCESS_LOG_ARCHIVE_GRACE_DAYS)
    if now < end + grace:
        raise ArchiveRefused(
            _("%(month)s closed less than %(days)s days ago: archive it after %(date)s.")
            % {
                "month": f"{month:%Y-%m}",
                "days": settings.ACCESS_LOG_ARCHIVE_GRACE_DAYS,
                "date": f"{(end + grace):%Y-%m-%d}",
            }
        )
    if AccessLogArchive.objects.filter(month=month).exists():
        raise ArchiveRefused(_("%(month)s is already archived.") % {"month": f"{month:%Y-%m}"})


def _check_place_in_chain(month: date) -> int | None:
    """The month must be the oldest in the database (the archived months stay
    a prefix of the chain). Returns the month's last position in the chain."""
    months = [p.month for p in partitions_list() if p.month is not None]
    if partition_name(month) not in {partition_name(m) for m in months}:
        raise ArchiveRefused(
            _("%(month)s has no partition in the database.") % {"month": f"{month:%Y-%m}"}
        )
    older = [m for m in months if m < month]
    if older:
        raise ArchiveRefused(
            _("Archive %(older)s first: months are archived oldest first.")
            % {"older": f"{older[0]:%Y-%m}"}
        )
    start, end = month_bounds(month)
    position = access_log.chain_position_field()
    if AccessLogEntry.objects.filter(at__lt=start).exists():
        raise ArchiveRefused(
            _("Entries older than %(month)s are still in the database: archive them first.")
            % {"month": f"{month:%Y-%m}"}
        )
    month_entries = AccessLogEntry.objects.filter(at__gte=start, at__lt=end)
    if month_entries.filter(seq__isnull=True).exists():
        raise ArchiveRefused(
            _(
                "Some entries of %(month)s are not sealed into the chain yet: run "
                "seal_access_log (or start the worker), then archive."
            )
            % {"month": f"{month:%Y-%m}"}
        )
    return (
        access_log.chain_ordered(month_entries)
        .order_by(f"-{position}")
        .values_list(position, flat=True)
        .first()
    )


def _row(entry: AccessLogEntry) -> dict:
    row = {}
    for field in AccessLogEntry._meta.concrete_fields:
        value = getattr(entry, field.attname)
        row[field.attname] = value.isoformat() if isinstance(value, datetime) else value
    return row


def _write(month: date, *, after: int | None, through: int | None, start_hash: str) -> Written:
    """The stretch of the chain after the last archived position up to the
    month's last one. It holds every entry of the month, and any entry of the
    next month chained before the month's last entry (a request that began
    before midnight and committed after one that began later): those are
    written to this file too, and stay in the database with their month."""
    target = archive_dir() / archive_file_name(month)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp: 0600 whatever the umask, and the name only once complete
        # (as backup_database does).
        handle, partial = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
    except OSError as exc:
        raise ArchiveRefused(
            _("Cannot write the archive in %(dir)s: %(error)s.")
            % {"dir": target.parent, "error": exc.strerror or exc}
        ) from exc
    rows = 0
    first = last = None
    previous = start_hash
    position = access_log.chain_position_field()
    segment = AccessLogEntry.objects.none()
    if through is not None:
        segment = AccessLogEntry.objects.filter(**{f"{position}__lte": through})
        if after is not None:
            segment = segment.filter(**{f"{position}__gt": after})
    entries = access_log.chain_ordered(segment).iterator(chunk_size=5000)
    try:
        with (
            os.fdopen(handle, "wb") as raw,
            gzip.GzipFile(
                filename=target.name.removesuffix(".gz"), mode="wb", fileobj=raw, mtime=0
            ) as sink,
        ):
            expected = after or 0
            for entry in entries:
                expected += 1
                if (
                    access_log.chain_position(entry) != expected
                    or entry.previous_hash != previous
                    or entry.entry_hash
                    not in (access_log.entry_hash(entry), access_log.legacy_entry_hash(entry))
                ):
                    raise ArchiveRefused(
                        _(
                            "The access log's chain breaks at entry %(id)s in %(month)s: run "
                            "verify_access_log; an altered month is not archived."
                        )
                        % {"id": entry.pk, "month": f"{month:%Y-%m}"}
                    )
                previous = entry.entry_hash
                position = access_log.chain_position(entry)
                first = position if first is None else first
                last = position
                sink.write(json.dumps(_row(entry), sort_keys=True).encode() + b"\n")
                rows += 1
            sink.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    digest = _sha256(target)
    checksum = target.with_name(target.name + ".sha256")
    descriptor = os.open(checksum, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(f"{digest}  {target.name}\n")
    return Written(target, digest, rows, first, last, start_hash, previous)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_file_check(path: Path, *, sha256: str, rows: int, last_hash: str) -> None:
    """Read the file back: its checksum (and the .sha256 beside it), its number
    of entries and its last entry's hash must be those written."""
    try:
        checksum_line = path.with_name(path.name + ".sha256").read_text(encoding="utf-8")
        found = _sha256(path)
        count = 0
        last = None
        with gzip.open(path, "rb") as source:
            for line in source:
                last = line
                count += 1
    except (OSError, EOFError) as exc:
        raise ArchiveRefused(
            _("The archive file %(file)s cannot be read back: %(error)s.")
            % {"file": path, "error": exc}
        ) from exc
    last_found = json.loads(last)["entry_hash"] if last else None
    if (
        found != sha256
        or checksum_line.split()[0] != sha256
        or count != rows
        or (rows and last_found != last_hash)
    ):
        raise ArchiveRefused(
            _("The archive file %(file)s does not match what was written; the month stays.")
            % {"file": path}
        )


def archive_month(*, month: date, now: datetime | None = None) -> AccessLogArchive:
    """Export a closed month to a checksummed file, check the file, then
    detach and drop the month's partition (see the module's docstring)."""
    now = now or timezone.now()
    month = month_start(month)
    if not is_partitioned():
        raise ArchiveRefused(_("The access log is archived by month on PostgreSQL only."))
    _refuse_unless_archivable(month, now)
    # Entries that waited in the default partition go to their month first.
    partitions_ensure()
    name = partition_name(month)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITIONS_LOCK_KEY])
            # Nothing is written into the month while it is exported.
            cursor.execute(f'LOCK TABLE "{name}" IN SHARE MODE')
        through = _check_place_in_chain(month)
        head = access_log.archived_head()
        after = access_log.archived_through()
        if through is not None and after is not None and through <= after:
            through = None  # every entry of the month went with the month before
        # The head of the chain always stays in the database: a writer chains
        # onto the newest entry there (clinic/access_log.py), never onto a file.
        position = access_log.chain_position_field()
        newest = (
            access_log.chain_entries()
            .order_by(f"-{position}")
            .values_list(position, flat=True)
            .first()
        )
        if newest is None or (through is not None and newest <= through):
            raise ArchiveRefused(
                _(
                    "%(month)s holds the newest entries of the access log: a month is archived "
                    "only once later entries follow it."
                )
                % {"month": f"{month:%Y-%m}"}
            )
        written = _write(
            month, after=after, through=through, start_hash=head.last_hash if head else ""
        )
        archive_file_check(
            written.path, sha256=written.sha256, rows=written.rows, last_hash=written.last_hash
        )
        with connection.cursor() as cursor:
            # Detaching waits for the readers of the whole log: not for long.
            cursor.execute("SET LOCAL lock_timeout = '30s'")
            cursor.execute(f'ALTER TABLE clinic_accesslogentry DETACH PARTITION "{name}"')
            cursor.execute(f'DROP TABLE "{name}"')
        return AccessLogArchive.objects.create(
            month=month,
            file_name=written.path.name,
            sha256=written.sha256,
            rows=written.rows,
            first_position=written.first_position,
            last_position=written.last_position,
            previous_hash=written.previous_hash,
            last_hash=written.last_hash,
            archived_at=now,
        )
