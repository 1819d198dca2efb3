"""The access log under concurrency, on PostgreSQL with real threads and
connections: staff reading at once never wait for the chain (nor for a
sealer at work), an entry committed late is sealed by the next run, and two
sealers at once give no position twice.

The control shows the race the sealer's try-lock closes: a sealer that read
the head, then paused, seals what came since at positions already given."""

import threading
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count

from clinic import access_log
from clinic.access_log import CHAIN_LOCK_KEY, access_log_record, access_log_seal
from clinic.models import AccessLogEntry
from clinic.tests.factories import client_create
from tests.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def chain_lock_held_elsewhere():
    """Another connection holds the chain's lock, as a sealer in the middle
    of a run does."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [CHAIN_LOCK_KEY])
                locked.set()
                release.wait(timeout=120)
                cursor.execute("SELECT pg_advisory_unlock(%s)", [CHAIN_LOCK_KEY])
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=30)
    try:
        yield
    finally:
        release.set()
        holder.join(timeout=30)


def test_a_staff_list_is_served_while_a_sealer_holds_the_chain(clinic_qc, therapist, staff_login):
    for i in range(30):
        client_create(clinic=clinic_qc, email=f"reader-test{i}@example.com")
    web = staff_login(therapist)
    answered: dict[str, int] = {}

    def read():
        try:
            answered["status"] = web.get("/staff/").status_code
        finally:
            connection.close()

    with chain_lock_held_elsewhere():
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=15)
        waited = reader.is_alive()
        assert access_log_seal() == 0  # the sealer at work seals these, not a second one
        sealed_meanwhile = AccessLogEntry.objects.filter(seq__isnull=False).count()
    reader.join(timeout=60)
    assert not waited, "the staff list waited for the chain's lock"
    assert answered == {"status": 200}
    assert sealed_meanwhile == 0
    assert AccessLogEntry.objects.filter(actor=therapist, seq__isnull=True).count() == 25
    assert access_log_seal() == 25
    call_command("verify_access_log")


def test_an_entry_committed_late_is_sealed_by_the_next_run(client_a, therapist):
    written, commit = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                access_log_record(actor=therapist, client=client_a, obj=client_a)
                written.set()
                commit.wait(timeout=60)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert written.wait(timeout=30)
    quick = access_log_record(actor=therapist, client=client_a, obj=client_a)
    assert access_log_seal() == 1  # the committed one; the other is not visible yet
    commit.set()
    writer.join(timeout=30)
    late = AccessLogEntry.objects.get(seq__isnull=True)
    assert late.pk < quick.pk
    assert access_log_seal() == 1
    assert list(access_log.chain_entries().values_list("pk", "seq")) == [
        (quick.pk, 1),
        (late.pk, 2),
    ]
    call_command("verify_access_log")


def test_sealers_at_once_give_each_entry_one_place(client_a, therapist):
    access_log.access_log_record_many(
        actor=therapist, items=[(client_a, client_a)] * (access_log.SEAL_BATCH + 500)
    )
    outcomes = race([access_log_seal] * 4, refusal=AssertionError)
    assert outcomes["crashed"] == []
    assert sum(outcomes["done"]) == access_log.SEAL_BATCH + 500
    assert not AccessLogEntry.objects.filter(seq__isnull=True).exists()
    assert not (
        AccessLogEntry.objects.values("seq").annotate(n=Count("pk")).filter(n__gt=1).exists()
    )
    assert access_log.verify(access_log.chain_entries()) == (access_log.SEAL_BATCH + 500, None)


@pytest.fixture
def slow_second_sealer(monkeypatch):
    """The sealer in the thread named "second sealer" pauses after reading
    the chain's head, until told to go on (as a sealer held up by the machine
    would)."""
    head_read, go_on = threading.Event(), threading.Event()
    read_head = access_log._chain_head

    def head():
        found = read_head()
        if threading.current_thread().name == "second sealer":
            head_read.set()
            go_on.wait(timeout=60)
        return found

    monkeypatch.setattr(access_log, "_chain_head", head)
    return head_read, go_on


def two_sealers(therapist, client_a, head_read, go_on) -> tuple[int, dict]:
    """A second sealer reads the head and pauses; the first runs; two more
    entries are written; the second goes on. (sealed by the first, what
    became of the second)."""
    for _ in range(3):
        access_log_record(actor=therapist, client=client_a, obj=client_a)
    second: dict = {}

    def run():
        try:
            second["sealed"] = access_log_seal()
        except Exception as exc:  # noqa: BLE001  (a crash is what the test looks for)
            second["crashed"] = repr(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="second sealer")
    thread.start()
    assert head_read.wait(timeout=30)
    first = access_log_seal()
    for _ in range(2):
        access_log_record(actor=therapist, client=client_a, obj=client_a)
    go_on.set()
    thread.join(timeout=60)
    return first, second


def test_a_second_sealer_steps_aside_while_one_seals(client_a, therapist, slow_second_sealer):
    first, second = two_sealers(therapist, client_a, *slow_second_sealer)
    assert first == 0  # the paused one holds the chain: the other returns at once
    assert second == {"sealed": 5}
    assert list(access_log.chain_entries().values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    call_command("verify_access_log")


def test_control_without_the_try_lock_two_sealers_give_the_same_places(
    client_a, therapist, slow_second_sealer, monkeypatch
):
    monkeypatch.setattr(access_log, "_chain_try_lock", lambda: True)
    first, second = two_sealers(therapist, client_a, *slow_second_sealer)
    assert (first, second) == (3, {"sealed": 2}), (
        "the race did not show: the control proves nothing"
    )
    assert sorted(access_log.chain_entries().values_list("seq", flat=True)) == [1, 1, 2, 2, 3]
    with pytest.raises(CommandError, match="the chain breaks"):
        call_command("verify_access_log")
