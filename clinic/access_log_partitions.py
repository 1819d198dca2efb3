"""The access log's monthly partitions (PostgreSQL declarative partitioning).

At 25 to 50 entries per staff page view the log grows by hundreds of
millions of rows over the years. On PostgreSQL `clinic_accesslogentry` is
partitioned by range of `at`, one partition per calendar month in UTC
(`clinic_accesslogentry_y2026m12`), so a privacy officer's date filter reads
only the months it names and a closed month can be exported and detached
whole (`manage.py archive_access_log`) instead of deleted row by row.

A DEFAULT partition (`clinic_accesslogentry_default`) is kept as a safety
net: an entry whose month has no partition yet (beat stopped for months, a
clock far off) still lands somewhere, so recording a read never fails and a
staff page never errors on it. `partitions_ensure` (daily, by beat, and after
every migrate) creates this month and the next ACCESS_LOG_PARTITIONS_AHEAD
months, and first moves any rows out of the default partition into their
month's partition (PostgreSQL refuses to create a partition whose rows sit
in the default one). The health check reports a non-empty default partition
or a missing next month.

On SQLite (the embedded default) the table stays a plain table and all of
this does nothing."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

TABLE = "clinic_accesslogentry"
DEFAULT_PARTITION = f"{TABLE}_default"
# Taken by anything that changes the set of partitions (create, move out of
# the default one, detach), so two beats or a beat and an archive never race.
PARTITIONS_LOCK_KEY = 7_240_002


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_add(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in UTC, as the partition bounds are."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    nxt = month_add(month, 1)
    return start, datetime(nxt.year, nxt.month, 1, tzinfo=UTC)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def is_partitioned(using_connection=None) -> bool:
    conn = using_connection or connection
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = %s AND c.relnamespace = to_regnamespace(current_schema())",
            [TABLE],
        )
        return cursor.fetchone() is not None


@dataclass(frozen=True)
class Partition:
    name: str
    month: date | None  # None for the default partition


def partitions_list(using_connection=None) -> list[Partition]:
    """The attached partitions, oldest month first, the default one last."""
    conn = using_connection or connection
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = %s AND p.relnamespace = to_regnamespace(current_schema())",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = []
    default = []
    for name in names:
        if name == DEFAULT_PARTITION:
            default.append(Partition(name, None))
            continue
        suffix = name.removeprefix(f"{TABLE}_y")
        year, _, month = suffix.partition("m")
        months.append(Partition(name, date(int(year), int(month), 1)))
    return sorted(months, key=lambda p: p.month or date.min) + default


def _create_partition(cursor, month: date) -> None:
    start, end = month_bounds(month)
    cursor.execute(
        f'CREATE TABLE IF NOT EXISTS "{partition_name(month)}" PARTITION OF "{TABLE}" '  # noqa: S608  # nosec B608: constant table names
        "FOR VALUES FROM (%s) TO (%s)",
        [start, end],
    )


def _empty_default_partition(cursor) -> list[date]:
    """Move the rows of the default partition into their months' partitions.

    The rows are never deleted one by one (the log is append-only, and its
    trigger refuses DELETE): the default partition is detached, a new empty
    one attached, the months it held created, its rows copied back through the
    parent (each lands in its month), and the old table dropped, all in the
    caller's transaction."""
    cursor.execute(
        f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')::date FROM \"{DEFAULT_PARTITION}\""  # noqa: S608  # nosec B608: constant table names
    )
    months = sorted(row[0] for row in cursor.fetchall())
    if not months:
        return []
    held = f"{DEFAULT_PARTITION}_moving"
    # Deferred foreign-key checks of rows written earlier in this transaction
    # run now: a table with pending checks cannot be dropped.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(f'ALTER TABLE "{TABLE}" DETACH PARTITION "{DEFAULT_PARTITION}"')
    cursor.execute(f'ALTER TABLE "{DEFAULT_PARTITION}" RENAME TO "{held}"')
    cursor.execute(f'CREATE TABLE "{DEFAULT_PARTITION}" PARTITION OF "{TABLE}" DEFAULT')
    for month in months:
        _create_partition(cursor, month)
    cursor.execute(
        f'INSERT INTO "{TABLE}" OVERRIDING SYSTEM VALUE SELECT * FROM "{held}"'  # noqa: S608  # nosec B608: constant table names
    )
    cursor.execute(f'DROP TABLE "{held}"')
    return months


def partitions_ensure(
    *,
    ahead: int | None = None,
    today: date | None = None,
    also: tuple[date, ...] = (),
    using: str = "default",
) -> list[str]:
    """Create the partitions of this month and the next `ahead` months
    (ACCESS_LOG_PARTITIONS_AHEAD), and of the months `also` names, after
    moving any rows out of the default partition. Idempotent; returns the names of the partitions it created."""
    conn = connections[using]
    if not is_partitioned(conn):
        return []
    ahead = settings.ACCESS_LOG_PARTITIONS_AHEAD if ahead is None else ahead
    this_month = month_start(today or timezone.now().astimezone(UTC).date())
    wanted = [month_add(this_month, n) for n in range(ahead + 1)] + [month_start(m) for m in also]
    with transaction.atomic(using=using), conn.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITIONS_LOCK_KEY])
        before = {p.name for p in partitions_list(conn)}
        cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{DEFAULT_PARTITION}")')  # noqa: S608  # nosec B608: constant table names
        if cursor.fetchone()[0]:
            _empty_default_partition(cursor)
        for month in wanted:
            if partition_name(month) not in before:
                _create_partition(cursor, month)
        after = {p.name for p in partitions_list(conn)}
    return sorted(after - before)


def partitions_health(*, today: date | None = None) -> list[str]:
    """What is wrong with the partitions, in words for the health check:
    the next month missing (beat has not run for a while) or rows waiting in
    the default partition."""
    if not is_partitioned():
        return []
    problems = []
    this_month = month_start(today or timezone.now().astimezone(UTC).date())
    names = {p.name for p in partitions_list()}
    for month in (this_month, month_add(this_month, 1)):
        if partition_name(month) not in names:
            problems.append(f"access log partition {partition_name(month)} missing")
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{DEFAULT_PARTITION}")')  # noqa: S608  # nosec B608: constant table names
        if cursor.fetchone()[0]:
            problems.append("access log rows in the default partition")
    return problems
