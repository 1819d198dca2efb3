"""Reads for the recordings of dosing sessions: the staff page of a
session's recordings, one recording to download, and who may do what.
Each read is scoped to the staff member's clinics (another clinic's id is
a 404) and has a fixed number of queries."""

from dataclasses import dataclass

from django.db.models import QuerySet

from clinic.models import User
from clinic.permissions import is_clinician_of
from clinic.selectors import staff_clinic_ids

from ..models import Consent, DosingSession, DosingSettings, Recording
from .clinic_settings import dosing_settings  # noqa: F401  (read here by the stage's services)
from .gates import filming_consent_active

DOWNLOAD_PERMISSION = "dosing.download_recording"


def may_add_recordings(user: User, session: DosingSession) -> bool:
    """Therapists and medical practitioners of the session's clinic (never
    coordinators: a film of a session is clinical content)."""
    return is_clinician_of(user, session.appointment.clinic_id)


def may_download_recordings(user: User, clinic_id: int) -> bool:
    """A clinician of the clinic who also holds the dedicated permission
    (granted per person in the admin; a superuser holds every permission)."""
    return user.has_perm(DOWNLOAD_PERMISSION) and is_clinician_of(user, clinic_id)


def recording_session(*, user: User, session_uuid) -> DosingSession | None:
    """A dosing session of one of the staff member's clinics, with what its
    recordings page shows about it."""
    return (
        DosingSession.objects.filter(
            uuid=session_uuid, appointment__clinic_id__in=staff_clinic_ids(user=user)
        )
        .select_related("appointment__clinic", "appointment__room", "series__course__client__user")
        .first()
    )


def _recordings(session: DosingSession) -> QuerySet[Recording]:
    return (
        Recording.objects.filter(session=session)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-pk")
    )


@dataclass
class RecordingsPage:
    session: DosingSession
    recordings: list[Recording]
    consent: Consent | None
    settings: DosingSettings
    max_bytes: int
    may_download: bool


def session_recordings_page(*, user: User, session: DosingSession) -> RecordingsPage:
    """Everything the page of a session's recordings shows: the recordings
    (kept, queued for deletion, deleted), whether filming is allowed now,
    and the clinic's limits."""
    clinic = session.appointment.clinic
    settings = dosing_settings(clinic)
    return RecordingsPage(
        session=session,
        recordings=list(_recordings(session)),
        consent=filming_consent_active(session.series.course),
        settings=settings,
        max_bytes=settings.recording_max_megabytes * 1024 * 1024,
        may_download=may_download_recordings(user, clinic.pk),
    )


def recording_for_staff(*, user: User, recording_uuid) -> Recording | None:
    """A recording of one of the staff member's clinics that is still kept
    (not deleted, not queued for deletion): a withdrawn consent or a passed
    retention date ends every viewing at once, before the file is gone."""
    return (
        Recording.objects.filter(
            uuid=recording_uuid,
            session__appointment__clinic_id__in=staff_clinic_ids(user=user),
            deleted_at__isnull=True,
            deletion_due_at__isnull=True,
        )
        .select_related("session__appointment__clinic", "session__series__course__client")
        .first()
    )
