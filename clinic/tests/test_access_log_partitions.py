"""The access log's monthly partitions and the archive of closed months
(clinic/access_log_partitions.py, clinic/access_log_archive.py), on PostgreSQL."""

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clinic import access_log
from clinic import access_log_archive as archive
from clinic import access_log_partitions as parts
from clinic.models import AccessLogArchive, AccessLogEntry
from clinic.tasks import access_log_partitions as partitions_task


def _record(actor, client):
    """A staff read, sealed into the chain (as the beat's sealer would)."""
    entry = access_log.access_log_record(actor=actor, client=client, obj=client)
    access_log.access_log_seal()
    entry.refresh_from_db()
    return entry


def _partition_names() -> set[str]:
    return {p.name for p in parts.partitions_list()}


def _this_month():
    return parts.month_start(timezone.now().astimezone(UTC).date())


def _partition_of(entry) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM clinic_accesslogentry WHERE id = %s", [entry.pk]
        )
        return cursor.fetchone()[0]


def test_the_access_log_is_a_table_partitioned_by_month(db, settings):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind, p.partstrat FROM pg_class c "
            "JOIN pg_partitioned_table p ON p.partrelid = c.oid WHERE c.relname = %s",
            ["clinic_accesslogentry"],
        )
        assert cursor.fetchone() == ("p", "r")
    # After migrate: this month and the months ahead, and the safety net.
    this_month = _this_month()
    expected = {
        parts.partition_name(parts.month_add(this_month, n))
        for n in range(settings.ACCESS_LOG_PARTITIONS_AHEAD + 1)
    }
    assert expected | {parts.DEFAULT_PARTITION} <= _partition_names()


def test_the_daily_task_creates_the_months_ahead_when_time_has_moved_on(db, settings):
    settings.ACCESS_LOG_PARTITIONS_AHEAD = 3
    later = timezone.now() + timedelta(days=200)
    with time_machine.travel(later, tick=False):
        created = partitions_task()
        month = parts.month_start(later.astimezone(UTC).date())
        wanted = [parts.partition_name(parts.month_add(month, n)) for n in range(4)]
        assert set(wanted) <= _partition_names()
        assert set(created) <= set(wanted) and created
        assert partitions_task() == []  # idempotent
        assert parts.partitions_health() == []


def test_an_entry_in_a_month_without_partition_is_kept_and_moved_to_its_month(
    db, client_a, therapist
):
    far = timezone.now() + timedelta(days=800)
    with time_machine.travel(far, tick=False):
        assert parts.partition_name(_this_month()) not in _partition_names()
        entry = _record(therapist, client_a)
        assert _partition_of(entry) == parts.DEFAULT_PARTITION
        assert parts.partitions_health()  # the health check says so
        parts.partitions_ensure()
        assert _partition_of(entry) == parts.partition_name(_this_month())
        assert parts.partitions_health() == []
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()
    checked, broken = access_log.verify(access_log.chain_ordered(AccessLogEntry.objects.all()))
    assert (checked, broken) == (1, None)


@pytest.mark.django_db(transaction=True)
def test_the_trigger_refuses_changes_through_the_parent_and_in_a_partition(client_a, therapist):
    entry = _record(therapist, client_a)
    partition = _partition_of(entry)
    for sql in (
        "UPDATE clinic_accesslogentry SET action = 'export' WHERE id = %s",
        "DELETE FROM clinic_accesslogentry WHERE id = %s",
        f"UPDATE \"{partition}\" SET action = 'export' WHERE id = %s",  # noqa: S608
        f'DELETE FROM "{partition}" WHERE id = %s',  # noqa: S608
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert AccessLogEntry.objects.get(pk=entry.pk).action == "view"


def test_a_date_filter_reads_only_that_months_partition(db, client_a, therapist):
    month = parts.month_add(_this_month(), -2)
    parts.partitions_ensure(also=(month, parts.month_add(month, 1)))
    start, end = parts.month_bounds(month)
    day = start + timedelta(days=3)
    queryset = AccessLogEntry.objects.filter(at__gte=day, at__lt=day + timedelta(days=1)).order_by(
        "-at", "-pk"
    )
    plan = queryset.explain()
    assert parts.partition_name(month) in plan
    others = _partition_names() - {parts.partition_name(month)}
    assert not [name for name in others if name in plan], plan
    # The privacy officer's view: a client's entries in that month.
    plan = queryset.filter(client=client_a).explain()
    assert parts.partition_name(month) in plan
    assert parts.partition_name(parts.month_add(month, 1)) not in plan


# --- Archive ---------------------------------------------------------------------------


@pytest.fixture
def archive_dir(settings, tmp_path):
    settings.ACCESS_LOG_ARCHIVE_DIR = str(tmp_path / "archive")
    settings.ACCESS_LOG_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")
    settings.ACCESS_LOG_ARCHIVE_GRACE_DAYS = 7
    return tmp_path / "archive"


def _log_in(month_start, client, actor, n=3):
    with time_machine.travel(
        datetime(month_start.year, month_start.month, 10, 12, tzinfo=UTC), tick=False
    ):
        return [_record(actor, client) for _ in range(n)]


@pytest.fixture
def two_old_months(client_a, therapist):
    """Entries three and two months ago, and today's."""
    oldest = parts.month_add(_this_month(), -3)
    parts.partitions_ensure(also=(oldest, parts.month_add(oldest, 1)))
    first = _log_in(oldest, client_a, therapist, n=3)
    second = _log_in(parts.month_add(oldest, 1), client_a, therapist, n=2)
    now = [_record(therapist, client_a)]
    return oldest, first, second, now


@pytest.mark.django_db(transaction=True)
def test_a_closed_month_is_archived_to_a_checked_file_then_detached(
    archive_dir, two_old_months, therapist, client_a
):
    oldest, first, second, now = two_old_months
    access_log.checkpoint_write()  # a checkpoint before: its count includes the archived month
    call_command("archive_access_log", "--month", f"{oldest:%Y-%m}")

    path = archive_dir / f"access-log-{oldest:%Y-%m}.jsonl.gz"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.with_name(path.name + ".sha256").read_text() == f"{digest}  {path.name}\n"
    with gzip.open(path, "rb") as lines:
        rows = [json.loads(line) for line in lines]
    assert [r["id"] for r in rows] == [e.pk for e in first]
    assert rows[-1]["entry_hash"] == first[-1].entry_hash
    record = AccessLogArchive.objects.get()
    assert (record.month, record.rows, record.sha256) == (oldest, 3, digest)
    assert (record.first_position, record.last_position) == (first[0].seq, first[-1].seq)
    assert record.last_hash == first[-1].entry_hash
    # Detached and dropped: the month's entries are no longer in the database.
    assert parts.partition_name(oldest) not in _partition_names()
    assert not AccessLogEntry.objects.filter(pk__in=[e.pk for e in first]).exists()
    assert AccessLogEntry.objects.count() == 3

    # The chain left in the database is proved from the archive's last hash,
    # and the checkpoints still agree (the archived entries counted).
    call_command("verify_access_log")
    _record(therapist, client_a)
    assert access_log.checkpoint_write().count == 7
    call_command("verify_access_log")

    # A remaining entry changed is still caught.
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE clinic_accesslogentry DISABLE TRIGGER clinic_access_log_append_only"
        )
        cursor.execute(
            "UPDATE clinic_accesslogentry SET object_id = 'hidden' WHERE id = %s", [second[0].pk]
        )
        cursor.execute(
            "ALTER TABLE clinic_accesslogentry ENABLE TRIGGER clinic_access_log_append_only"
        )
    with pytest.raises(CommandError, match=f"breaks at entry {second[0].pk}"):
        call_command("verify_access_log")


@pytest.mark.django_db(transaction=True)
def test_the_first_entry_left_must_chain_onto_the_archive(archive_dir, two_old_months):
    oldest, first, second, now = two_old_months
    call_command("archive_access_log", "--month", f"{oldest:%Y-%m}")
    # Control: with the archive's last hash, the remaining chain is whole.
    call_command("verify_access_log")
    # Without it (as if the archive had not been recorded) it is not.
    checked, broken = access_log.verify(access_log.chain_ordered(AccessLogEntry.objects.all()))
    assert broken == second[0].pk


@pytest.mark.django_db(transaction=True)
def test_the_current_month_a_month_in_its_grace_and_a_younger_month_first_are_refused(
    archive_dir, two_old_months
):
    oldest, first, second, now = two_old_months
    with pytest.raises(CommandError, match="not over yet"):
        call_command("archive_access_log", "--month", f"{_this_month():%Y-%m}")
    with pytest.raises(CommandError, match="oldest first"):
        call_command("archive_access_log", "--month", f"{parts.month_add(oldest, 1):%Y-%m}")
    end = parts.month_bounds(oldest)[1]
    with (
        time_machine.travel(end + timedelta(days=2), tick=False),
        pytest.raises(CommandError, match="less than 7 days"),
    ):
        call_command("archive_access_log", "--month", f"{oldest:%Y-%m}")
    assert AccessLogArchive.objects.count() == 0
    assert AccessLogEntry.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_month_whose_file_cannot_be_written_stays_in_the_database(
    archive_dir, settings, tmp_path, two_old_months
):
    oldest, first, second, now = two_old_months
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.ACCESS_LOG_ARCHIVE_DIR = str(blocker / "archive")  # cannot be created
    with pytest.raises(CommandError, match="Cannot write the archive"):
        call_command("archive_access_log", "--month", f"{oldest:%Y-%m}")
    assert parts.partition_name(oldest) in _partition_names()
    assert AccessLogEntry.objects.filter(pk__in=[e.pk for e in first]).count() == 3
    assert AccessLogArchive.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_file_that_does_not_read_back_as_written_keeps_the_month(
    archive_dir, two_old_months, monkeypatch
):
    oldest, first, second, now = two_old_months
    real = archive._sha256
    calls = []

    def sha256_then_corrupt(path):
        calls.append(path)
        if len(calls) == 2:  # the read-back: the disk gave something else
            with path.open("ab") as handle:
                handle.write(b"\0")
        return real(path)

    monkeypatch.setattr(archive, "_sha256", sha256_then_corrupt)
    with pytest.raises(CommandError, match="does not match"):
        call_command("archive_access_log", "--month", f"{oldest:%Y-%m}")
    assert parts.partition_name(oldest) in _partition_names()
    assert AccessLogEntry.objects.filter(pk__in=[e.pk for e in first]).count() == 3
    assert AccessLogArchive.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_month_interleaved_in_the_chain_with_the_next_takes_the_stretch_of_chain_with_it(
    archive_dir, client_a, therapist
):
    oldest = parts.month_add(_this_month(), -3)
    following = parts.month_add(oldest, 1)
    parts.partitions_ensure(also=(oldest, following))
    before = _log_in(oldest, client_a, therapist, n=1)
    early = _log_in(following, client_a, therapist, n=1)  # chained before...
    late = _log_in(oldest, client_a, therapist, n=1)  # ...an entry dated earlier
    after = _log_in(following, client_a, therapist, n=1)
    call_command("archive_access_log", "--month", f"{oldest:%Y-%m}")
    path = archive_dir / f"access-log-{oldest:%Y-%m}.jsonl.gz"
    with gzip.open(path, "rb") as lines:
        assert [json.loads(line)["id"] for line in lines] == [
            before[0].pk,
            early[0].pk,
            late[0].pk,
        ]
    # The next month's early entry is in the file and still in the database.
    assert list(AccessLogEntry.objects.order_by("pk").values_list("pk", flat=True)) == [
        early[0].pk,
        after[0].pk,
    ]
    assert AccessLogArchive.objects.get().last_position == late[0].seq
    call_command("verify_access_log")

    # The head of the chain stays in the database: the next month waits for
    # a later entry, then its archive starts after the first one's.
    end = parts.month_bounds(following)[1] + timedelta(days=8)
    with pytest.raises(CommandError, match="newest entries"):
        call_command("archive_access_log", "--month", f"{following:%Y-%m}")
    today = _record(therapist, client_a)
    with time_machine.travel(max(end, timezone.now())):
        call_command("archive_access_log", "--month", f"{following:%Y-%m}")
    assert AccessLogArchive.objects.get(month=following).rows == 1
    assert list(AccessLogEntry.objects.values_list("pk", flat=True)) == [today.pk]
    _record(therapist, client_a)
    assert access_log.checkpoint_write().count == 6
    call_command("verify_access_log")


@pytest.mark.django_db(transaction=True)
def test_due_archives_the_months_older_than_the_retention(archive_dir, settings, two_old_months):
    oldest, first, second, now = two_old_months
    settings.ACCESS_LOG_RETENTION_MONTHS = 2  # the oldest month is three months old
    call_command("archive_access_log", "--due")
    assert list(AccessLogArchive.objects.values_list("month", flat=True)) == [oldest]
    call_command("archive_access_log", "--due")  # nothing more due
    assert AccessLogArchive.objects.count() == 1
    call_command("verify_access_log")


def test_the_date_drill_down_walks_the_index_and_finds_what_django_would(
    db, client_a, therapist, django_assert_max_num_queries
):
    from zoneinfo import ZoneInfo

    from django.db.models import Max, Min, QuerySet

    months = [parts.month_add(_this_month(), -n) for n in (14, 13, 2)]
    parts.partitions_ensure(also=tuple(months))
    for month in months:
        _log_in(month, client_a, therapist, n=2)
    # Midnight in Montreal on the 1st: the UTC month before (DST and zones matter).
    with time_machine.travel(datetime(months[2].year, months[2].month, 1, 3, tzinfo=UTC)):
        _record(therapist, client_a)
    queryset = AccessLogEntry.objects.filter(client__clinic=client_a.clinic)
    with timezone.override(ZoneInfo("America/Toronto")):
        for kind in ("year", "month", "day"):
            assert queryset.datetimes("at", kind) == list(QuerySet.datetimes(queryset, "at", kind))
        bounds = {"first": Min("at"), "last": Max("at")}
        assert queryset.aggregate(**bounds) == QuerySet.aggregate(queryset, **bounds)
        # One short query per value found (and one to find nothing more).
        with django_assert_max_num_queries(4):
            years = queryset.datetimes("at", "year")
        assert len(years) <= 3
