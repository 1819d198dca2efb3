"""Set-up for the recordings' tests: a dosing session booked on the one
calendar (clinic.calendar.appointment_book, then the DosingSeries /
DosingSession rows), filming consents written as rows (the prepare area's
services sign and withdraw them), small video files, and a private storage
in the test's own temporary folder."""

import io
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from clinic.calendar import appointment_book
from clinic.models import AppointmentKind, ClientProfile, Course, Room, Stage, User
from clinic.outbox import outbox_enqueue
from clinic.tests.factories import RoomFactory
from sessions.models import (
    Consent,
    ConsentDocument,
    DosingSeries,
    DosingSession,
    Recording,
)
from sessions.services.recordings import FILMING_WITHDRAWN


def course_in_dosing(client: ClientProfile) -> Course:
    course = client.courses.get()
    Course.objects.filter(pk=course.pk).update(stage=Stage.DOSING)
    return Course.objects.get(pk=course.pk)


def dosing_session_for(
    course: Course,
    *,
    therapist: User,
    practitioner: User,
    start: datetime | None = None,
    room: Room | None = None,
) -> DosingSession:
    """A three-hour dosing session (by default begun an hour ago)."""
    start = start or timezone.now().replace(microsecond=0) - timedelta(hours=1)
    appointment = appointment_book(
        clinic=course.clinic,
        kind=AppointmentKind.DOSING_SESSION,
        start=start,
        end=start + timedelta(hours=3),
        staff=[therapist, practitioner],
        client=course.client,
        room=room or RoomFactory(clinic=course.clinic),
        buffer=timedelta(minutes=30),
    )
    series, _created = DosingSeries.objects.get_or_create(
        course=course, defaults={"planned_sessions": 6, "planned_by": practitioner}
    )
    return DosingSession.objects.create(appointment=appointment, series=series)


def filming_document(language: str = "en", version: int = 1) -> ConsentDocument:
    document = ConsentDocument.objects.filter(
        kind=ConsentDocument.Kind.FILMING, version=version, language=language
    ).first()
    return document or ConsentDocument.objects.create(
        kind=ConsentDocument.Kind.FILMING,
        version=version,
        language=language,
        title="Filming of sessions",
        body="Your dosing sessions are filmed for your safety...",
        in_force_from=timezone.now() - timedelta(days=30),
    )


def _answer(course: Course, decision: str, **extra) -> Consent:
    document = filming_document()
    return Consent.objects.create(
        course=course,
        document=document,
        decision=decision,
        text_sha256=document.sha256,
        language=document.language,
        **extra,
    )


def filming_signed(course: Course) -> Consent:
    return _answer(course, Consent.Decision.SIGNED, typed_name=str(course.client.user))


def filming_declined(course: Course) -> Consent:
    return _answer(course, Consent.Decision.DECLINED)


def filming_withdrawn(course: Course, signature: Consent) -> Consent:
    """As the prepare area's withdrawal service does it: the withdrawal row
    and its outbox row, in one transaction."""
    withdrawal = _answer(course, Consent.Decision.WITHDRAWN, withdraws=signature)
    outbox_enqueue(
        kind=FILMING_WITHDRAWN,
        key=str(withdrawal.uuid),
        payload={
            "course": str(course.uuid),
            "consent": str(signature.uuid),
            "withdrawal": str(withdrawal.uuid),
        },
    )
    return withdrawal


# --- Files --------------------------------------------------------------------------------


def _padded(head: bytes, size: int, seed: int) -> bytes:
    body = bytes((i * 31 + seed) % 251 for i in range(max(size - len(head), 0)))
    return head + body


def mp4_bytes(size: int = 4096, seed: int = 1) -> bytes:
    # An ISO base media file: a 24-byte 'ftyp' box (brand isom), then data.
    return _padded(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", size, seed)


def quicktime_bytes(size: int = 4096, seed: int = 2) -> bytes:
    return _padded(b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", size, seed)


def heic_bytes(size: int = 4096) -> bytes:
    return _padded(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", size, 3)


def webm_bytes(size: int = 4096, seed: int = 4) -> bytes:
    # The EBML header with its DocType element (0x4282) saying "webm".
    return _padded(
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87\x81\x04", size, seed
    )


def matroska_bytes(size: int = 4096, seed: int = 5) -> bytes:
    return _padded(
        b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska\x42\x87\x81\x04", size, seed
    )


def ogg_video_bytes(size: int = 4096) -> bytes:
    return _padded(b"OggS\x00\x02" + b"\x00" * 22 + b"\x80theora\x03\x02\x01", size, 6)


def ogg_audio_bytes(size: int = 4096) -> bytes:
    return _padded(b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis\x00\x00\x00\x00", size, 7)


PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 40
TEXT_BYTES = b"Not a film: the notes of a session, typed out.\n" * 80


def upload(name: str, content: bytes, content_type: str = "video/mp4") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_bytes(recording: Recording) -> bytes:
    from sessions.services.recordings import recordings_storage

    with recordings_storage().open(recording.storage_name, "rb") as file:
        return file.read()


def multipart_file(name: str, content: bytes, content_type: str = "video/mp4"):
    """A file for the test client's POST (it reads name and type from these)."""
    file = io.BytesIO(content)
    file.name = name
    file.content_type = content_type
    return file


# --- Fixtures ---------------------------------------------------------------------------


@pytest.fixture
def recordings_folder(tmp_path, settings):
    """Recordings go to this test's own folder (a private storage, as configured)."""
    folder = tmp_path / "private" / "recordings"
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "clinic.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    return folder


@pytest.fixture
def recording_course(client_a):
    """Client A's course, in dosing."""
    return course_in_dosing(client_a)


@pytest.fixture
def filming_consent(recording_course):
    return filming_signed(recording_course)


@pytest.fixture
def recording_session(recording_course, therapist, medical_practitioner):
    """Client A's dosing session, begun an hour ago."""
    return dosing_session_for(
        recording_course, therapist=therapist, practitioner=medical_practitioner
    )


def stored_files(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
