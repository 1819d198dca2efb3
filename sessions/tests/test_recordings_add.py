"""Adding a recording to a dosing session (services/recordings.py):
only while filming consent is active, the file's type from its content,
the clinic's size limit, random stored names, SHA-256 and size, the
retention date in the clinic's zone, and one recording per film."""

import hashlib
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import translation

from clinic.calendar import appointment_cancel
from clinic.models import Course
from clinic.tests.factories import ClinicFactory, client_create
from sessions.models import Consent, DosingSettings, Recording
from sessions.services import recordings as service
from sessions.services.recordings import (
    MSG_EMPTY,
    MSG_MISMATCH,
    MSG_NO_CONSENT,
    MSG_NOT_CLINICIAN,
    MSG_NOT_VIDEO,
    MSG_SESSION_CANCELLED,
    MSG_SESSION_NOT_STARTED,
    MSG_TOO_LARGE,
    MSG_UNKNOWN_NAME,
    RecordingError,
    recording_add,
    recording_format,
    sniff_video,
)

from .recording_factories import (
    PDF_BYTES,
    TEXT_BYTES,
    course_in_dosing,
    dosing_session_for,
    filming_declined,
    filming_signed,
    filming_withdrawn,
    heic_bytes,
    matroska_bytes,
    mp4_bytes,
    ogg_audio_bytes,
    ogg_video_bytes,
    quicktime_bytes,
    stored_bytes,
    stored_files,
    upload,
    webm_bytes,
)

pytestmark = pytest.mark.usefixtures("recordings_folder")


def test_a_clinician_keeps_a_film_with_its_checksum_size_consent_and_retention(
    recording_session, filming_consent, therapist, recordings_folder
):
    content = mp4_bytes(50_000)
    # 02:30 UTC on 10 March is still 9 March in Montreal: the retention counts from there.
    with time_machine.travel(datetime(2026, 3, 10, 2, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        recording_session.appointment.start = datetime(2026, 3, 9, 18, tzinfo=ZoneInfo("UTC"))
        recording, created = recording_add(
            session=recording_session,
            upload=upload("Élodie Côté séance 2.mp4", content),
            actor=therapist,
        )
    assert created
    assert recording.consent == filming_consent
    assert recording.sha256 == hashlib.sha256(content).hexdigest()
    assert recording.size == len(content)
    assert recording.content_type == "video/mp4"
    assert recording.retain_until == date(2026, 3, 9) + timedelta(days=90)
    assert recording.uploaded_by == therapist
    # A random name: nothing of the uploaded one.
    assert recording.storage_name.endswith(".mp4")
    assert len(recording.storage_name) == 32 + 4
    assert "Côté" not in recording.storage_name and "séance" not in recording.storage_name
    assert stored_bytes(recording) == content
    (stored,) = stored_files(recordings_folder)
    assert stored.name == recording.storage_name
    assert stored.stat().st_mode & 0o077 == 0, "readable by the app's user only"


def test_the_clinic_sets_the_retention(recording_session, filming_consent, therapist):
    DosingSettings.objects.create(
        clinic=recording_session.appointment.clinic, recording_retention_days=30
    )
    recording, _created = recording_add(
        session=recording_session, upload=upload("film.mp4", mp4_bytes()), actor=therapist
    )
    today = recording.uploaded_at.astimezone(recording_session.appointment.clinic.zone).date()
    assert recording.retain_until == today + timedelta(days=30)


@pytest.mark.parametrize(
    "name, content, declared, content_type",
    [
        ("a.mp4", mp4_bytes(), "video/mp4", "video/mp4"),
        ("a.m4v", mp4_bytes(), "video/x-m4v", "video/mp4"),
        ("a.MOV", quicktime_bytes(), "video/quicktime", "video/quicktime"),
        ("a.mov", mp4_bytes(), "video/quicktime", "video/mp4"),
        ("a.webm", webm_bytes(), "video/webm", "video/webm"),
        ("a.mkv", matroska_bytes(), "video/x-matroska", "video/x-matroska"),
        ("a.mkv", matroska_bytes(), "application/octet-stream", "video/x-matroska"),
        ("a.ogv", ogg_video_bytes(), "video/ogg", "video/ogg"),
        ("a.mp4", mp4_bytes(), "", "video/mp4"),
    ],
)
def test_each_video_container_is_recognised_from_its_content(name, content, declared, content_type):
    assert recording_format(name=name, declared_type=declared, head=content[:512]).content_type == (
        content_type
    )


@pytest.mark.parametrize(
    "name, content, declared, message",
    [
        ("notes.mp4", PDF_BYTES, "video/mp4", MSG_NOT_VIDEO),
        ("notes.mp4", TEXT_BYTES, "video/mp4", MSG_NOT_VIDEO),
        ("photo.mp4", heic_bytes(), "video/mp4", MSG_NOT_VIDEO),
        ("sound.ogg", ogg_audio_bytes(), "audio/ogg", MSG_NOT_VIDEO),
        ("film.mp4", webm_bytes(), "video/mp4", MSG_MISMATCH),
        ("film.webm", mp4_bytes(), "video/webm", MSG_MISMATCH),
        ("film.mp4", mp4_bytes(), "application/pdf", MSG_MISMATCH),
        ("film.mp4", mp4_bytes(), "video/webm", MSG_MISMATCH),
        ("film.avi", mp4_bytes(), "video/x-msvideo", MSG_UNKNOWN_NAME),
        ("film", mp4_bytes(), "video/mp4", MSG_UNKNOWN_NAME),
        ("notes.pdf", PDF_BYTES, "application/pdf", MSG_UNKNOWN_NAME),
    ],
)
def test_a_file_that_is_not_what_its_name_or_type_says_is_refused_and_nothing_is_stored(
    recording_session,
    filming_consent,
    therapist,
    recordings_folder,
    name,
    content,
    declared,
    message,
):
    with pytest.raises(RecordingError) as refused:
        recording_add(
            session=recording_session, upload=upload(name, content, declared), actor=therapist
        )
    assert str(refused.value).startswith(message.split("%")[0])
    assert not Recording.objects.exists()
    assert stored_files(recordings_folder) == []


def test_sniffing_reads_only_the_content():
    assert sniff_video(b"") is None
    assert sniff_video(b"\x00\x00\x00\x18ftyp") is None  # cut short
    assert sniff_video(PDF_BYTES[:512]) is None
    assert sniff_video(mp4_bytes()[:512]).label == "MP4"


def test_a_client_without_filming_consent_cannot_be_recorded(
    recording_session, recording_course, therapist, recordings_folder
):
    with pytest.raises(RecordingError, match="has not consented to filming"):
        recording_add(
            session=recording_session, upload=upload("a.mp4", mp4_bytes()), actor=therapist
        )
    filming_declined(recording_course)
    with pytest.raises(RecordingError) as refused:
        recording_add(
            session=recording_session, upload=upload("a.mp4", mp4_bytes()), actor=therapist
        )
    assert str(refused.value) == MSG_NO_CONSENT
    assert not Recording.objects.exists()
    assert stored_files(recordings_folder) == []


def test_after_withdrawal_nothing_more_is_recorded(
    recording_session, recording_course, filming_consent, therapist, recordings_folder
):
    recording_add(
        session=recording_session, upload=upload("a.mp4", mp4_bytes(seed=1)), actor=therapist
    )
    filming_withdrawn(recording_course, filming_consent)
    with pytest.raises(RecordingError) as refused:
        recording_add(
            session=recording_session, upload=upload("b.mp4", mp4_bytes(seed=2)), actor=therapist
        )
    assert str(refused.value) == MSG_NO_CONSENT
    assert Recording.objects.count() == 1
    assert len(stored_files(recordings_folder)) == 1


def test_a_new_signature_after_a_withdrawal_allows_recording_again_and_is_the_one_kept(
    recording_session, recording_course, filming_consent, therapist
):
    filming_withdrawn(recording_course, filming_consent)
    again = filming_signed(recording_course)
    recording, _created = recording_add(
        session=recording_session, upload=upload("a.mp4", mp4_bytes()), actor=therapist
    )
    assert recording.consent == again


def test_the_refusal_is_in_the_persons_language(recording_session, therapist):
    with translation.override("fr"), pytest.raises(RecordingError) as refused:
        recording_add(
            session=recording_session, upload=upload("a.mp4", mp4_bytes()), actor=therapist
        )
    assert str(refused.value) == (
        "Cette séance ne peut pas être filmée\u00a0: le client n’a pas consenti à être filmé, "
        "ou a retiré son consentement. Rien n’a été enregistré."
    )


def test_a_file_over_the_clinics_limit_is_refused(recording_session, filming_consent, therapist):
    DosingSettings.objects.create(
        clinic=recording_session.appointment.clinic, recording_max_megabytes=1
    )
    with pytest.raises(RecordingError) as refused:
        recording_add(
            session=recording_session,
            upload=upload("a.mp4", mp4_bytes(1024 * 1024 + 1)),
            actor=therapist,
        )
    assert str(refused.value) == MSG_TOO_LARGE % {"limit": 1}
    recording, _created = recording_add(
        session=recording_session, upload=upload("a.mp4", mp4_bytes(1024 * 1024)), actor=therapist
    )
    assert recording.size == 1024 * 1024


def test_an_empty_file_is_refused(recording_session, filming_consent, therapist):
    with pytest.raises(RecordingError) as refused:
        recording_add(session=recording_session, upload=upload("a.mp4", b""), actor=therapist)
    assert str(refused.value) == MSG_EMPTY


def test_coordinators_and_another_clinics_clinicians_cannot_add_recordings(
    recording_session, filming_consent, coordinator, other_clinic_therapist
):
    for person in (coordinator, other_clinic_therapist):
        with pytest.raises(RecordingError) as refused:
            recording_add(
                session=recording_session, upload=upload("a.mp4", mp4_bytes()), actor=person
            )
        assert str(refused.value) == MSG_NOT_CLINICIAN
    assert not Recording.objects.exists()


def test_a_cancelled_or_future_session_has_nothing_to_record(
    recording_course, filming_consent, therapist, medical_practitioner
):
    from django.utils import timezone

    future = dosing_session_for(
        recording_course,
        therapist=therapist,
        practitioner=medical_practitioner,
        start=timezone.now() + timedelta(days=2),
    )
    with pytest.raises(RecordingError) as refused:
        recording_add(session=future, upload=upload("a.mp4", mp4_bytes()), actor=therapist)
    assert str(refused.value) == MSG_SESSION_NOT_STARTED
    appointment_cancel(appointment=future.appointment)
    future.appointment.refresh_from_db()
    with pytest.raises(RecordingError) as refused:
        recording_add(session=future, upload=upload("a.mp4", mp4_bytes()), actor=therapist)
    assert str(refused.value) == MSG_SESSION_CANCELLED


def test_the_same_film_twice_is_stored_once(
    recording_session, filming_consent, therapist, medical_practitioner, recordings_folder
):
    content = mp4_bytes(20_000)
    first, created = recording_add(
        session=recording_session, upload=upload("a.mp4", content), actor=therapist
    )
    second, created_again = recording_add(
        session=recording_session, upload=upload("copy.mp4", content), actor=medical_practitioner
    )
    assert created and not created_again
    assert second == first
    assert Recording.objects.count() == 1
    assert len(stored_files(recordings_folder)) == 1
    # Another film of the same session is a recording of its own.
    recording_add(
        session=recording_session, upload=upload("b.mp4", mp4_bytes(seed=9)), actor=therapist
    )
    assert Recording.objects.count() == 2


def test_a_copy_already_in_storage_when_the_row_is_refused_is_removed(
    recording_session, filming_consent, therapist, recordings_folder, monkeypatch
):
    """The file is copied before the row's transaction: a row refused then
    (the consent withdrawn meanwhile) leaves no file behind."""
    from sessions.selectors import gates

    answers = iter([filming_consent, None])  # active at the first look, withdrawn at the second
    monkeypatch.setattr(service, "filming_consent_active", lambda course: next(answers))
    with pytest.raises(RecordingError):
        recording_add(
            session=recording_session, upload=upload("a.mp4", mp4_bytes()), actor=therapist
        )
    assert stored_files(recordings_folder) == []
    assert gates.filming_consent_active  # the real read is untouched


# --- Under concurrency (real transactions) -------------------------------------------------


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_an_upload_waits_for_a_withdrawal_under_way_and_is_then_refused(recordings_folder):
    """The withdrawal (prepare area) locks the course row; so does the
    upload's transaction. A withdrawal under way when the upload checks makes
    it wait, then refuse: otherwise the film would be kept after the
    withdrawal's handler had looked for the course's recordings."""
    from clinic.models import StaffRole
    from clinic.tests.factories import staff_create

    clinic = ClinicFactory(slug="montreal", time_zone="America/Toronto")
    client = client_create(clinic=clinic, email="race@example.com")
    therapist = staff_create(role=StaffRole.THERAPIST, clinics=[clinic], email="t@example.com")
    practitioner = staff_create(
        role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic], email="md@example.com"
    )
    course = course_in_dosing(client)
    signature = filming_signed(course)
    recording_session = dosing_session_for(course, therapist=therapist, practitioner=practitioner)

    locked = threading.Event()
    release = threading.Event()
    outcome = {}

    def withdraw():
        try:
            with transaction.atomic():
                Course.objects.select_for_update().get(pk=course.pk)
                filming_withdrawn(course, signature)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    def add():
        try:
            with translation.override("en"):  # a thread starts in the site's default, French
                recording_add(
                    session=recording_session, upload=upload("a.mp4", mp4_bytes()), actor=therapist
                )
            outcome["result"] = "stored"
        except RecordingError as exc:
            outcome["result"] = str(exc)
        finally:
            connection.close()

    withdrawer = threading.Thread(target=withdraw)
    withdrawer.start()
    assert locked.wait(10)
    uploader = threading.Thread(target=add)
    uploader.start()
    for _i in range(200):
        if _waiting_for_a_lock():
            break
        uploader.join(0.05)
    waited = _waiting_for_a_lock()
    release.set()
    withdrawer.join(10)
    uploader.join(10)
    assert waited, "the upload did not wait for the withdrawal's lock"
    assert outcome["result"] == MSG_NO_CONSENT
    assert not Recording.objects.exists()
    assert stored_files(recordings_folder) == []
    assert Consent.objects.filter(decision=Consent.Decision.WITHDRAWN).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_at_the_same_moment_keeps_one_recording_and_one_file(recordings_folder):
    from clinic.models import StaffRole
    from clinic.tests.factories import staff_create

    clinic = ClinicFactory(slug="montreal", time_zone="America/Toronto")
    client = client_create(clinic=clinic, email="double@example.com")
    therapist = staff_create(role=StaffRole.THERAPIST, clinics=[clinic], email="t@example.com")
    practitioner = staff_create(
        role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic], email="md@example.com"
    )
    course = course_in_dosing(client)
    filming_signed(course)
    recording_session = dosing_session_for(course, therapist=therapist, practitioner=practitioner)
    content = mp4_bytes(200_000)
    barrier = threading.Barrier(2)
    results = []

    def add():
        try:
            barrier.wait(5)
            results.append(
                recording_add(
                    session=recording_session, upload=upload("a.mp4", content), actor=therapist
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=add) for _i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(created for _recording, created in results) == [False, True]
    assert Recording.objects.count() == 1
    assert len(stored_files(recordings_folder)) == 1


def test_a_refused_or_repeated_film_is_never_copied_into_storage(
    recording_session, recording_course, therapist, monkeypatch
):
    """Consent and duplicates are checked before the copy (gigabytes), not
    only under the lock after it."""
    storage = service.recordings_storage()
    real_save = storage.save
    copies = []

    def save(name, content, **kwargs):
        copies.append(name)
        return real_save(name, content, **kwargs)

    monkeypatch.setattr(storage, "save", save)
    with pytest.raises(RecordingError):
        recording_add(
            session=recording_session, upload=upload("a.mp4", mp4_bytes()), actor=therapist
        )
    assert copies == []
    filming_signed(recording_course)
    recording_add(session=recording_session, upload=upload("a.mp4", mp4_bytes()), actor=therapist)
    recording_add(session=recording_session, upload=upload("b.mp4", mp4_bytes()), actor=therapist)
    assert len(copies) == 1
