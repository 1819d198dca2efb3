"""Recordings of dosing sessions: adding one (only while the client's
filming consent is active), queueing deletions (consent withdrawn, retention
date passed), the worker's deletion sweep, and the checksum verification.

Files live in STORAGES["recordings"] (clinic.storage: outside every served
path, no URL) under random names; the row keeps the SHA-256 and size taken
while the file was received, the consent it relied on and its retention date."""

import contextlib
import hashlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.storage import Storage, storages
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic import outbox
from clinic.models import Appointment, Clinic, Course, OutboxMessage, User

from ..models import DosingSession, Recording
from ..selectors.gates import filming_consent_active
from ..selectors.recordings import dosing_settings, may_add_recordings
from .prepare import FILMING_WITHDRAWN  # queued by the withdrawal, with the course's uuid

logger = logging.getLogger(__name__)


MSG_NOT_CLINICIAN = gettext_noop(
    "Only the clinic's therapists and medical practitioners can add recordings."
)
MSG_NO_CONSENT = gettext_noop(
    "This session cannot be recorded: the client has not consented to filming, or has "
    "withdrawn their consent. Nothing was stored."
)
MSG_SESSION_CANCELLED = gettext_noop(
    "This session did not take place (cancelled, or the client did not come): there is "
    "nothing to record."
)
MSG_SESSION_NOT_STARTED = gettext_noop(
    "This session has not started yet: add its recording once it has taken place."
)
MSG_TOO_LARGE = gettext_noop(
    "The file is larger than this clinic's limit of %(limit)s MB. Nothing was stored."
)
MSG_EMPTY = gettext_noop("The file is empty. Nothing was stored.")
MSG_UNKNOWN_NAME = gettext_noop(
    "Choose a video file: MP4 or QuickTime (.mp4, .m4v, .mov), WebM (.webm), Matroska (.mkv) "
    "or Ogg (.ogv). Nothing was stored."
)
MSG_NOT_VIDEO = gettext_noop(
    "This file is not a video we accept, whatever its name says (MP4, QuickTime, WebM, "
    "Matroska or Ogg). Nothing was stored."
)
MSG_MISMATCH = gettext_noop(
    "The file's content (%(found)s) is not what its name or type says. Nothing was stored."
)
MSG_STORAGE_FAILED = gettext_noop(
    "The recording could not be stored. Nothing was kept: please try again."
)


class RecordingError(Exception):
    """A recording refused; `str()` is a sentence for the person."""


# --- What a file is: its first bytes, not its name -----------------------------------

HEAD_BYTES = 512


@dataclass(frozen=True)
class VideoFormat:
    family: str  # what the name and the declared type must agree with
    label: str
    content_type: str  # what the download says, from the content, never the uploader
    extension: str


MP4 = VideoFormat("isobmff", "MP4", "video/mp4", ".mp4")
QUICKTIME = VideoFormat("isobmff", "QuickTime", "video/quicktime", ".mov")
WEBM = VideoFormat("matroska", "WebM", "video/webm", ".webm")
MATROSKA = VideoFormat("matroska", "Matroska", "video/x-matroska", ".mkv")
OGG = VideoFormat("ogg", "Ogg", "video/ogg", ".ogv")

EXTENSION_FAMILIES = {
    ".mp4": "isobmff",
    ".m4v": "isobmff",
    ".mov": "isobmff",
    ".qt": "isobmff",
    ".webm": "matroska",
    ".mkv": "matroska",
    ".ogv": "ogg",
    ".ogg": "ogg",
}
TYPE_FAMILIES = {
    "video/mp4": "isobmff",
    "video/x-m4v": "isobmff",
    "video/quicktime": "isobmff",
    "video/webm": "matroska",
    "video/x-matroska": "matroska",
    "video/ogg": "ogg",
    "application/ogg": "ogg",
}
# A browser that does not know the extension declares one of these: it says nothing.
UNDECLARED_TYPES = {"", "application/octet-stream", "binary/octet-stream"}

# ISO base media files all start with an 'ftyp' box; its major brand says
# what they hold. Images (HEIC, AVIF: 'heic', 'mif1', 'avif') and audio
# ('M4A ') share the box and are refused.
VIDEO_BRAND_PREFIXES = (b"iso", b"mp4", b"avc", b"3gp", b"3g2", b"M4V")
VIDEO_BRANDS = {b"qt  ", b"MSNV", b"XAVC", b"dash", b"mmp4", b"f4v ", b"NDAS"}
EBML_MAGIC = b"\x1a\x45\xdf\xa3"


def sniff_video(head: bytes) -> VideoFormat | None:
    """The video container these first bytes open, or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return QUICKTIME
        if brand in VIDEO_BRANDS or brand.startswith(VIDEO_BRAND_PREFIXES):
            return MP4
        return None
    if head.startswith(EBML_MAGIC):
        # The EBML header's DocType says which of the two it is.
        if b"webm" in head[:64]:
            return WEBM
        if b"matroska" in head[:64]:
            return MATROSKA
        return None
    if head.startswith(b"OggS") and b"\x80theora" in head:
        return OGG  # an Ogg video opens with a Theora header (Vorbis alone is sound)
    return None


def recording_format(*, name: str, declared_type: str, head: bytes) -> VideoFormat:
    """What the file is, from its content, when its name and declared type
    agree with it; otherwise RecordingError (a PDF or a text renamed .mp4)."""
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    name_family = EXTENSION_FAMILIES.get(extension)
    if name_family is None:
        raise RecordingError(_(MSG_UNKNOWN_NAME))
    found = sniff_video(head)
    if found is None:
        raise RecordingError(_(MSG_NOT_VIDEO))
    declared = (declared_type or "").split(";")[0].strip().lower()
    declared_family = None if declared in UNDECLARED_TYPES else TYPE_FAMILIES.get(declared, "")
    if found.family != name_family or declared_family not in (None, found.family):
        raise RecordingError(_(MSG_MISMATCH) % {"found": found.label})
    return found


# --- Adding a recording ---------------------------------------------------------------


def recordings_storage() -> Storage:
    # Looked up on each use: tests (and a changed setting) get the storage configured now.
    return storages["recordings"]


def file_sha256(file, chunk_size: int = 1024 * 1024) -> tuple[str, int]:
    """SHA-256 and size of a file read from its start, a chunk at a time."""
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    while chunk := file.read(chunk_size):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def _check_session(session: DosingSession, now: datetime) -> None:
    appointment = session.appointment
    if appointment.status in (Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW):
        raise RecordingError(_(MSG_SESSION_CANCELLED))
    if appointment.start > now:
        raise RecordingError(_(MSG_SESSION_NOT_STARTED))


def recording_add(
    *, session: DosingSession, upload, actor: User, now: datetime | None = None
) -> tuple[Recording, bool]:
    """Keep the film of a dosing session: (recording, created).

    Allowed only while the client's filming consent is active; the row keeps
    that consent. The file's type is read from its content and must match
    its name and declared type; its size is within the clinic's limit. The
    upload handler (forms/recordings.py) hashed it while it was received
    (`upload.sha256`); any other caller's file is hashed here. The same
    content for the same session twice is stored once.

    The file is copied into storage before the row's short transaction (a
    copy of gigabytes must not hold a lock), under a random name; if the row
    is then refused (the consent was withdrawn meanwhile, the same film was
    stored by a double submit), the copy is deleted again."""
    now = now or timezone.now()
    course = session.series.course
    clinic = session.appointment.clinic
    if not may_add_recordings(actor, session):
        raise RecordingError(_(MSG_NOT_CLINICIAN))
    _check_session(session, now)
    if filming_consent_active(course) is None:
        raise RecordingError(_(MSG_NO_CONSENT))
    settings = dosing_settings(clinic)
    if upload.size > settings.recording_max_megabytes * 1024 * 1024:
        raise RecordingError(_(MSG_TOO_LARGE) % {"limit": settings.recording_max_megabytes})
    if not upload.size:
        raise RecordingError(_(MSG_EMPTY))
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    video = recording_format(
        name=upload.name or "", declared_type=getattr(upload, "content_type", ""), head=head
    )
    sha256 = getattr(upload, "sha256", None)
    size = upload.size
    if sha256 is None:
        sha256, size = file_sha256(upload)

    existing = Recording.objects.filter(session=session, sha256=sha256, deleted_at__isnull=True)
    if (found := existing.first()) is not None:
        return found, False

    storage = recordings_storage()
    upload.content_type = video.content_type  # an object store records the type we found
    try:
        stored_name = storage.save(f"{uuid.uuid4().hex}{video.extension}", upload)
    except OSError as exc:
        logger.exception("recording for session %s could not be stored", session.uuid)
        raise RecordingError(_(MSG_STORAGE_FAILED)) from exc
    try:
        with transaction.atomic():
            # The prepare area's withdrawal locks the course row too: a
            # withdrawal either commits first (and is seen below) or waits,
            # and its handler then finds this recording to delete.
            Course.objects.select_for_update().filter(pk=course.pk).values_list("pk").get()
            consent = filming_consent_active(course)
            if consent is None:
                raise RecordingError(_(MSG_NO_CONSENT))
            if (found := existing.first()) is not None:
                raise _AlreadyStored(found)
            recording = Recording(
                session=session,
                consent=consent,
                storage_name=stored_name,
                sha256=sha256,
                size=size,
                content_type=video.content_type,
                uploaded_by=actor,
                uploaded_at=now,
                retain_until=timezone.localdate(now, clinic.zone)
                + timedelta(days=settings.recording_retention_days),
            )
            recording.full_clean(exclude=["session", "consent", "uploaded_by"])
            recording.save()
    except _AlreadyStored as duplicate:
        storage.delete(stored_name)
        return duplicate.recording, False
    except IntegrityError:
        # A double submit committed the same film between our check and our insert.
        storage.delete(stored_name)
        return existing.get(), False
    except BaseException:
        storage.delete(stored_name)
        raise
    logger.info(
        "recording %s stored for session %s (%s bytes, %s)",
        recording.uuid,
        session.uuid,
        size,
        video.content_type,
    )
    return recording, True


class _AlreadyStored(Exception):
    def __init__(self, recording: Recording):
        self.recording = recording


# --- Deletion -----------------------------------------------------------------------------


def recordings_queue_withdrawn(*, course: Course, now: datetime | None = None) -> int:
    """The client withdrew their filming consent: every recording of the
    course still kept is queued for deletion (downloads stop at once)."""
    return Recording.objects.filter(
        session__series__course=course, deleted_at__isnull=True, deletion_due_at__isnull=True
    ).update(
        deletion_due_at=now or timezone.now(),
        deletion_cause=Recording.DeletionCause.CONSENT_WITHDRAWN,
    )


@outbox.handler(FILMING_WITHDRAWN)
def filming_withdrawn(message: OutboxMessage) -> bool:
    """From the withdrawal's outbox row (payload["course"]: the course's uuid)."""
    course = Course.objects.filter(uuid=message.payload["course"]).first()
    if course is None:
        return False
    queued = recordings_queue_withdrawn(course=course)
    logger.info("filming consent withdrawn: %s recording(s) of a course queued", queued)
    return True


def recordings_queue_expired(*, now: datetime | None = None) -> int:
    """Queue for deletion every recording whose retention date has passed
    in its clinic's own time zone (kept through the whole of that day)."""
    now = now or timezone.now()
    queued = 0
    for clinic in Clinic.objects.only("pk", "time_zone"):
        today = timezone.localdate(now, clinic.zone)
        queued += Recording.objects.filter(
            session__appointment__clinic=clinic,
            retain_until__lt=today,
            deleted_at__isnull=True,
            deletion_due_at__isnull=True,
        ).update(deletion_due_at=now, deletion_cause=Recording.DeletionCause.RETENTION)
    if queued:
        logger.info("%s recording(s) past their retention date queued for deletion", queued)
    return queued


@dataclass
class DeletionResult:
    deleted: int = 0
    failed: int = 0


def recordings_delete_due(*, now: datetime | None = None, limit: int = 200) -> DeletionResult:
    """The worker's sweep: delete each queued recording's file and record
    when. One row per transaction, locked (SKIP LOCKED) so two sweeps never
    take the same row. A file already gone (a sweep that died after the
    delete, before its commit) counts as deleted: a retry never fails on it.
    A storage error leaves the row queued for the next sweep."""
    result = DeletionResult()
    storage = recordings_storage()
    failed: list[int] = []
    for _i in range(limit):
        moment = now or timezone.now()
        with transaction.atomic():
            recording = (
                Recording.objects.select_for_update(skip_locked=True)
                .filter(deleted_at__isnull=True, deletion_due_at__lte=moment)
                .exclude(pk__in=failed)
                .order_by("deletion_due_at", "pk")
                .first()
            )
            if recording is None:
                break
            try:
                # Already gone is what this sweep was for (a storage may say so).
                with contextlib.suppress(FileNotFoundError):
                    storage.delete(recording.storage_name)
            except Exception:
                logger.exception("recording %s: its file could not be deleted", recording.uuid)
                failed.append(recording.pk)
                result.failed += 1
                continue
            recording.deleted_at = moment
            recording.save(update_fields=["deleted_at"])
        logger.info(
            "recording %s deleted from storage (%s, queued %s)",
            recording.uuid,
            recording.deletion_cause,
            recording.deletion_due_at.isoformat() if recording.deletion_due_at else "",
        )
        result.deleted += 1
    return result


# --- Verification -------------------------------------------------------------------------


def recordings_verify(*, chunk_size: int = 1024 * 1024) -> Iterator[tuple[Recording, str, int]]:
    """Re-read every kept recording from storage and compare its size and
    SHA-256 with the row's. Yields (recording, verdict, bytes read) for each,
    verdict "ok", "missing" or "altered", so a caller reports as it goes."""
    storage = recordings_storage()
    kept = Recording.objects.filter(deleted_at__isnull=True).order_by("pk")
    for recording in kept.iterator(chunk_size=500):
        digest = hashlib.sha256()
        size = 0
        try:
            with storage.open(recording.storage_name, "rb") as file:
                while chunk := file.read(chunk_size):
                    digest.update(chunk)
                    size += len(chunk)
        except FileNotFoundError:
            yield recording, "missing", 0
            continue
        intact = size == recording.size and digest.hexdigest() == recording.sha256
        yield recording, "ok" if intact else "altered", size
