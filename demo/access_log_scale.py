"""Access-log entries by the million for the partitioning benchmark
(`seed_scale --access-log-rows N`).

Written in SQL, month by month, oldest first, so ids grow with `at` as in a
real log, spread over the past `months` months for the staff and clients in
the database. They are NOT a valid hash chain: every entry carries the same
marker in both hash fields (SCALE_HASH), so `verify_access_log` fails on a
database seeded this way; it is not meant to run there. They carry a chain
position (`seq`, their id: above any real entry's), so the sealer takes them
for sealed and chains what comes after them. The rows exist to give
the privacy officer's filters a realistic size and spread (query plans,
partition pruning), not to be proved."""

from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from clinic.access_log_partitions import (
    month_add,
    month_bounds,
    month_start,
    partition_name,
    partitions_ensure,
    partitions_list,
)
from clinic.models import ClientProfile, User

SCALE_HASH = "seed-scale-not-a-chain".ljust(64, "-")
# Ten entries in a row share the action and the page: 7 views in 10 and the rest.
ACTIONS = ["view"] * 7 + ["export", "download", "change"]
OBJECT_TYPES = [
    "clinic.course",
    "eligibility.screening",
    "eligibility.questionnaireresponse",
    "dosing.dosingsession",
    "dosing.consent",
    "integration.integrationsession",
    "billing.invoice",
]
CHUNK = 500_000

INSERT = """
INSERT INTO {table}
    (id, action, object_type, object_id, path, ip_address, at, actor_id, client_id,
     previous_hash, entry_hash, seq)
SELECT
    %(base)s + g,
    (%(actions)s::text[])[1 + (g %% 10)],
    (%(types)s::text[])[1 + ((g / 10) %% %(n_types)s)],
    md5(g::text),
    '/staff/courses/' || (g / 25)::text || '/',
    ('10.0.' || ((g / 1000) %% 250)::text || '.' || (g %% 250)::text)::inet,
    %(start)s::timestamptz + (g - %(first)s) * %(step)s * interval '1 microsecond',
    (%(staff)s::bigint[])[1 + ((g / 25) %% %(n_staff)s)],
    (%(clients)s::bigint[])[1 + floor(random() * %(n_clients)s)::int],
    %(hash)s,
    %(hash)s,
    %(base)s + g
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
"""


def seed_access_log(*, rows: int, months: int, stdout) -> int:
    """Each month is written into a table of its own without indexes, then
    attached as the month's partition (PostgreSQL builds the indexes in one
    pass): about ten times quicker than inserting through the parent's five
    indexes."""
    staff = list(User.objects.filter(is_staff=True).values_list("pk", flat=True))
    clients = list(ClientProfile.objects.values_list("pk", flat=True))
    if not staff or not clients:
        raise ValueError("seed the clinic first: the access log needs staff and clients")
    this_month = month_start(datetime.now(tz=UTC).date())
    past = [month_add(this_month, -n) for n in range(months, 0, -1)]
    partitions_ensure()
    attached = {p.name for p in partitions_list()}
    per_month = rows // months
    written = 0
    started = datetime.now(tz=UTC)
    for index, month in enumerate(past):
        count = per_month + (rows - per_month * months if index == months - 1 else 0)
        name = partition_name(month)
        if name in attached:
            stdout.write(f"access log: {month:%Y-%m} already has a partition, skipped")
            continue
        start, end = month_bounds(month)
        step = (end - start) // timedelta(microseconds=1) // max(count, 1)
        loading = name  # attached under its own name once loaded and checked
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('clinic_accesslogentry', 'id'), "
                "nextval(pg_get_serial_sequence('clinic_accesslogentry', 'id')) + %s)",
                [count],
            )
            base = cursor.fetchone()[0] - count - 1
            cursor.execute(
                f'CREATE TABLE "{loading}" (LIKE clinic_accesslogentry INCLUDING DEFAULTS '
                "INCLUDING CONSTRAINTS)"
            )
        for lo in range(0, count, CHUNK):
            hi = min(lo + CHUNK, count) - 1
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    INSERT.format(table=f'"{loading}"'),
                    {
                        "base": base,
                        "actions": ACTIONS,
                        "types": OBJECT_TYPES,
                        "n_types": len(OBJECT_TYPES),
                        "start": start,
                        "first": 0,
                        "step": step,
                        "staff": staff,
                        "n_staff": len(staff),
                        "clients": clients,
                        "n_clients": len(clients),
                        "hash": SCALE_HASH,
                        "lo": lo,
                        "hi": hi,
                    },
                )
        with transaction.atomic(), connection.cursor() as cursor:
            # The check lets ATTACH skip its scan of the month's rows.
            cursor.execute(
                f'ALTER TABLE "{loading}" ADD CONSTRAINT "{loading}_range" '
                "CHECK (at >= %s AND at < %s)",
                [start, end],
            )
            cursor.execute(
                f'ALTER TABLE clinic_accesslogentry ATTACH PARTITION "{loading}" '
                "FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
            cursor.execute(f'ALTER TABLE "{loading}" DROP CONSTRAINT "{loading}_range"')
        written += count
        elapsed = (datetime.now(tz=UTC) - started).total_seconds()
        stdout.write(
            f"access log: {written:,} rows (up to {month:%Y-%m}), "
            f"{written / max(elapsed, 0.001):,.0f} rows/s"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE clinic_accesslogentry")
    return written
