import copy

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic import access_log
from clinic.models import AccessLogEntry


def test_the_helper_records_who_read_what_of_which_client_and_from_where(rf, client_a, therapist):
    course = client_a.courses.get()
    request = rf.get("/staff/courses/x/", REMOTE_ADDR="203.0.113.9")
    entry = access_log.access_log_record(
        actor=therapist, client=client_a, obj=course, request=request
    )
    entry.refresh_from_db()
    assert (entry.actor, entry.client, entry.action) == (therapist, client_a, "view")
    assert (entry.object_type, entry.object_id) == ("clinic.course", str(course.uuid))
    assert entry.ip_address == "203.0.113.9"
    assert entry.path == "/staff/courses/x/"


def test_behind_the_proxy_the_clients_address_is_logged_and_cannot_be_spoofed(
    rf, client_a, therapist, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client sent a fake X-Forwarded-For; our proxy appended the address it saw.
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    entry = access_log.access_log_record(
        actor=therapist, client=client_a, obj=client_a, request=request
    )
    assert entry.ip_address == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 0  # no proxy: the header is the client's own words
    entry = access_log.access_log_record(
        actor=therapist, client=client_a, obj=client_a, request=request
    )
    assert entry.ip_address == "10.0.0.2"


def test_the_log_holds_no_health_data(client_a, therapist):
    fields = {f.name for f in AccessLogEntry._meta.get_fields()}
    assert fields == {
        *(
            "id",
            "actor",
            "action",
            "object_type",
            "object_id",
            "client",
            "path",
            "ip_address",
            "at",
        ),
        *("seq", "previous_hash", "entry_hash"),  # the tamper-evident chain
    }


def test_an_entry_cannot_be_changed_or_deleted(client_a, therapist):
    entry = access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    entry.action = "export"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    assert AccessLogEntry.objects.get(pk=entry.pk).action == "view"


def test_a_staff_read_of_a_course_is_logged(staff_login, client_a, therapist):
    course = client_a.courses.get()
    web = staff_login(therapist)
    assert web.get(reverse("staff:course", args=[course.uuid])).status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.actor, entry.client, entry.object_id) == (therapist, client_a, str(course.uuid))


def test_a_refused_read_logs_nothing(staff_login, client_a, other_clinic_therapist):
    web = staff_login(other_clinic_therapist)
    assert web.get(reverse("staff:course", args=[client_a.courses.get().uuid])).status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_the_admin_offers_no_way_to_edit_or_delete_the_log(staff_login, client_a, therapist):
    from clinic.tests.factories import UserFactory

    entry = access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    web = staff_login(root)
    page = web.get(reverse("admin:clinic_accesslogentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert 'name="action"' not in page.content.decode()
    assert (
        web.post(
            reverse("admin:clinic_accesslogentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_to_change_or_delete_an_entry(client_a, therapist):
    from django.db import DatabaseError, connection, transaction

    assert connection.vendor == "postgresql"
    entry = access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    for attempt in (
        lambda: AccessLogEntry.objects.filter(pk=entry.pk).update(action="export"),
        lambda: AccessLogEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert AccessLogEntry.objects.get(pk=entry.pk).action == "view"


@pytest.mark.django_db(transaction=True)
def test_the_hash_chain_shows_an_altered_entry(client_a, therapist):
    from django.core.management import CommandError, call_command
    from django.db import connection

    for _ in range(3):
        access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    assert access_log.access_log_seal() == 3
    call_command("verify_access_log")
    second = AccessLogEntry.objects.order_by("pk")[1]
    with connection.cursor() as cursor:  # someone with database access bypasses the trigger
        cursor.execute(
            "ALTER TABLE clinic_accesslogentry DISABLE TRIGGER clinic_access_log_append_only"
        )
        cursor.execute(
            "UPDATE clinic_accesslogentry SET object_id = 'hidden' WHERE id = %s", [second.pk]
        )
        cursor.execute(
            "ALTER TABLE clinic_accesslogentry ENABLE TRIGGER clinic_access_log_append_only"
        )
    with pytest.raises(CommandError, match=f"breaks at entry {second.pk}"):
        call_command("verify_access_log")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_are_sealed_into_one_unbroken_chain(client_a, therapist):
    import threading

    from django.db import connection

    barrier = threading.Barrier(6)

    def write():
        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert AccessLogEntry.objects.filter(seq__isnull=True).count() == 30
    assert access_log.access_log_seal() == 30
    checked, broken = access_log.verify(access_log.chain_entries())
    assert (checked, broken) == (30, None)


def _bypass_trigger(*statements):
    """Someone with database access disables the append-only trigger."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE clinic_accesslogentry DISABLE TRIGGER clinic_access_log_append_only"
        )
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute(
            "ALTER TABLE clinic_accesslogentry ENABLE TRIGGER clinic_access_log_append_only"
        )


@pytest.fixture
def anchor_file(settings, tmp_path):
    settings.ACCESS_LOG_ANCHOR_FILE = str(tmp_path / "anchors" / "access-log.jsonl")
    return tmp_path / "anchors" / "access-log.jsonl"


@pytest.mark.django_db(transaction=True)
def test_the_hash_chain_shows_an_entry_removed_from_the_middle(client_a, therapist, anchor_file):
    from django.core.management import CommandError, call_command

    for _ in range(4):
        access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    access_log.access_log_seal()
    entries = list(access_log.chain_entries())
    _bypass_trigger(("DELETE FROM clinic_accesslogentry WHERE id = %s", [entries[1].pk]))
    # Every remaining entry still hashes right: only the link to the one before breaks.
    with pytest.raises(CommandError, match=f"breaks at entry {entries[2].pk}"):
        call_command("verify_access_log")


@pytest.mark.django_db(transaction=True)
def test_the_newest_entries_removed_are_caught_by_the_anchored_head(
    client_a, therapist, anchor_file
):
    from django.core.management import CommandError, call_command

    for _ in range(5):
        access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    assert access_log.checkpoint_write() is None  # nothing sealed yet: no head to anchor
    access_log.access_log_seal()
    checkpoint = access_log.checkpoint_write()
    assert (checkpoint.count, checkpoint.seq) == (5, 5)
    assert oct(anchor_file.stat().st_mode & 0o777) == "0o600"
    assert access_log.checkpoint_write() is None  # the head has not moved
    newest = list(access_log.chain_entries().reverse().values_list("pk", flat=True)[:2])
    _bypass_trigger(("DELETE FROM clinic_accesslogentry WHERE id = ANY(%s)", [newest]))

    # Control: the shorter chain is still a valid chain on its own.
    checked, broken = access_log.verify(access_log.chain_entries())
    assert (checked, broken) == (3, None)
    # The anchor remembers where it ended.
    with pytest.raises(CommandError, match=f"ended at entry {checkpoint.last_id} after 5"):
        call_command("verify_access_log")


@pytest.mark.django_db(transaction=True)
def test_an_intact_log_passes_against_its_checkpoints(client_a, therapist, anchor_file):
    from django.core.management import call_command

    access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    access_log.access_log_seal()
    access_log.checkpoint_write()
    access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    access_log.access_log_seal()
    access_log.checkpoint_write()
    assert len(access_log.checkpoints_read()) == 2
    call_command("verify_access_log")


# --- Sealing -----------------------------------------------------------------------------


def _record(therapist, client_a, n=1):
    for _ in range(n):
        access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)


def test_a_request_writes_its_entries_unsealed_and_the_sealer_chains_them(client_a, therapist):
    _record(therapist, client_a, 3)
    assert set(AccessLogEntry.objects.values_list("seq", "previous_hash", "entry_hash")) == {
        (None, "", "")
    }
    assert access_log.access_log_seal(batch=2) == 3  # two batches
    entries = list(access_log.chain_entries())
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.pk for e in entries] == sorted(e.pk for e in entries)  # sealed in id order
    assert entries[0].previous_hash == "" and entries[1].previous_hash == entries[0].entry_hash
    assert access_log.verify(entries) == (3, None)
    assert access_log.access_log_seal() == 0  # nothing left


def test_the_seal_command_seals_what_is_waiting(client_a, therapist):
    from io import StringIO

    from django.core.management import call_command

    _record(therapist, client_a, 2)
    out = StringIO()
    call_command("seal_access_log", stdout=out)
    assert "2 access-log entries sealed" in out.getvalue()
    assert not AccessLogEntry.objects.filter(seq__isnull=True).exists()


def test_beat_runs_the_sealer_every_five_seconds(client_a, therapist, settings):
    from clinic import tasks
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["access-log-seal"]
    assert (entry["task"], entry["schedule"]) == ("clinic.tasks.access_log_seal", 5.0)
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    _record(therapist, client_a, 2)
    assert tasks.access_log_seal.apply().get() == 2
    assert access_log.verify(access_log.chain_entries()) == (2, None)


@pytest.mark.django_db(transaction=True)
def test_the_database_lets_through_only_the_sealers_one_transition(client_a, therapist):
    from django.db import DatabaseError, transaction

    _record(therapist, client_a)
    access_log.access_log_seal()
    sealed = AccessLogEntry.objects.get()
    _record(therapist, client_a)
    unsealed = AccessLogEntry.objects.get(seq__isnull=True)
    entries = AccessLogEntry.objects.filter
    for attempt in (
        # a sealed entry: neither rehashed, nor unsealed, nor moved, nor removed
        lambda: entries(pk=sealed.pk).update(entry_hash="0" * 64),
        lambda: entries(pk=sealed.pk).update(seq=None, previous_hash="", entry_hash=""),
        lambda: entries(pk=sealed.pk).update(seq=7),
        lambda: entries(pk=sealed.pk).delete(),
        # an unsealed entry: what it says never changes, sealing or not
        lambda: entries(pk=unsealed.pk).update(object_id="hidden"),
        lambda: entries(pk=unsealed.pk).update(seq=2, entry_hash="0" * 64, object_id="hidden"),
        lambda: entries(pk=unsealed.pk).update(seq=2, at=unsealed.at.replace(year=2020)),
        lambda: entries(pk=unsealed.pk).update(previous_hash="x"),  # hashes without a place
        lambda: entries(pk=unsealed.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    # The sealer's own update goes through.
    assert access_log.access_log_seal() == 1
    assert access_log.verify(access_log.chain_entries()) == (2, None)
    unsealed.refresh_from_db()
    assert (unsealed.object_id, unsealed.seq) == (str(client_a.uuid), 2)


@pytest.mark.django_db(transaction=True)
def test_verify_reports_entries_left_unsealed_past_a_minute(client_a, therapist, anchor_file):
    from datetime import timedelta

    import time_machine
    from django.core.management import CommandError, call_command
    from django.utils import timezone

    written = timezone.now()
    with time_machine.travel(written, tick=False):
        _record(therapist, client_a, 2)
    with time_machine.travel(written + timedelta(seconds=59), tick=False):
        call_command("verify_access_log")  # within the grace: the sealer is on its way
    with (
        time_machine.travel(written + timedelta(seconds=61), tick=False),
        pytest.raises(CommandError) as refused,
    ):
        call_command("verify_access_log")
    assert (
        "2 access-log entries have waited unsealed for more than 60 seconds, "
        f"the oldest written on {written.isoformat()}"
    ) in str(refused.value)
    access_log.access_log_seal()
    with time_machine.travel(written + timedelta(seconds=61), tick=False):
        call_command("verify_access_log")


@pytest.mark.django_db(transaction=True)
def test_the_chain_shows_two_entries_swapped(client_a, therapist, anchor_file):
    from django.core.management import CommandError, call_command

    _record(therapist, client_a, 4)
    access_log.access_log_seal()
    call_command("verify_access_log")
    first, second, third, _fourth = access_log.chain_entries()
    _bypass_trigger(
        ("UPDATE clinic_accesslogentry SET seq = 3 WHERE id = %s", [second.pk]),
        ("UPDATE clinic_accesslogentry SET seq = 2 WHERE id = %s", [third.pk]),
    )
    with pytest.raises(CommandError, match=f"breaks at entry {third.pk}"):
        call_command("verify_access_log")


@pytest.mark.django_db(transaction=True)
def test_the_chain_shows_a_position_given_twice(client_a, therapist, anchor_file):
    from django.core.management import CommandError, call_command

    _record(therapist, client_a, 3)
    access_log.access_log_seal()
    last = access_log.chain_entries().last()
    # A copy of the last entry, placed where the last one is, hashes and all.
    _bypass_trigger(
        (
            "INSERT INTO clinic_accesslogentry (actor_id, action, object_type, object_id, "
            "client_id, path, ip_address, at, previous_hash, entry_hash, seq) SELECT actor_id, "
            "action, object_type, object_id, client_id, path, ip_address, at, previous_hash, "
            "entry_hash, seq FROM clinic_accesslogentry WHERE id = %s",
            [last.pk],
        ),
    )
    copy = AccessLogEntry.objects.order_by("-pk").first()
    with pytest.raises(CommandError, match=f"breaks at entry {copy.pk}"):
        call_command("verify_access_log")


def test_entries_chained_before_sealing_keep_their_hashes_and_only_as_a_prefix(client_a, therapist):
    """Migration 0019 gave the entries already chained (by id, with a hash
    without the position) their place and left their hashes: they verify,
    and an entry sealed after them chains onto them. A later entry with the
    old hash does not."""
    _record(therapist, client_a, 2)
    access_log.access_log_seal()
    entries = list(access_log.chain_entries())
    previous = ""
    for entry in entries:  # as the entries were hashed before sealing existed
        entry.previous_hash = previous
        entry.entry_hash = access_log.legacy_entry_hash(entry)
        previous = entry.entry_hash
    assert access_log.verify(entries) == (2, None)
    _record(therapist, client_a)
    newest = AccessLogEntry.objects.get(seq__isnull=True)
    newest.seq, newest.previous_hash = 3, previous
    newest.entry_hash = access_log.entry_hash(newest)
    assert access_log.verify([*entries, newest]) == (3, None)
    fourth = copy.copy(newest)
    fourth.pk = newest.pk + 1
    fourth.seq, fourth.previous_hash = 4, newest.entry_hash
    fourth.entry_hash = access_log.legacy_entry_hash(fourth)
    assert access_log.verify([*entries, newest, fourth]) == (3, fourth.pk)
