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
        *("previous_hash", "entry_hash"),  # the tamper-evident chain
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
def test_concurrent_writers_keep_one_unbroken_chain(client_a, therapist):
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
    checked, broken = access_log.verify(AccessLogEntry.objects.order_by("pk"))
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
    entries = list(AccessLogEntry.objects.order_by("pk"))
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
    checkpoint = access_log.checkpoint_write()
    assert checkpoint.count == 5
    assert oct(anchor_file.stat().st_mode & 0o777) == "0o600"
    assert access_log.checkpoint_write() is None  # the head has not moved
    newest = list(AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True)[:2])
    _bypass_trigger(("DELETE FROM clinic_accesslogentry WHERE id = ANY(%s)", [newest]))

    # Control: the shorter chain is still a valid chain on its own.
    checked, broken = access_log.verify(AccessLogEntry.objects.order_by("pk"))
    assert (checked, broken) == (3, None)
    # The anchor remembers where it ended.
    with pytest.raises(CommandError, match=f"ended at entry {checkpoint.last_id} after 5"):
        call_command("verify_access_log")


@pytest.mark.django_db(transaction=True)
def test_an_intact_log_passes_against_its_checkpoints(client_a, therapist, anchor_file):
    from django.core.management import call_command

    access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    access_log.checkpoint_write()
    access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    access_log.checkpoint_write()
    assert len(access_log.checkpoints_read()) == 2
    call_command("verify_access_log")
