"""Writes for individual integration sessions: book, move and cancel, by
the client from the portal or by staff (the clinic's coordinators and
clinicians) for them. Every time goes through the one calendar
(`clinic.calendar`): the therapist and the client are locked once, late,
inside the transaction, and what the rules say is read again under that
lock; the exclusion constraints are the last line."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic import calendar
from clinic.models import Appointment, AppointmentKind, Course, User
from clinic.outbox import outbox_enqueue, outbox_enqueue_many
from sessions.models import DosingSession
from sessions.services.scheduling import may_schedule

from . import selectors
from .models import IndividualSession

CONFIRMATION = "integration.session_confirmation"
REMINDER_24H = "integration.session_reminder_24h"
CANCELLED = "integration.session_cancelled"
REMINDER_LEAD = timedelta(hours=24)

MSG_NOT_PERMITTED = gettext_noop(
    "Only the client, or the coordinators and clinicians of their clinic, can book this session."
)
MSG_STAGE = gettext_noop(
    "Integration sessions can be booked only while the course is in the dosing or integrate stage."
)
MSG_NOT_OFFERED = gettext_noop(
    "This time is not one of the times offered after this dosing session. Please choose "
    "one from the list."
)
MSG_ALREADY_BOOKED = gettext_noop(
    "An integration session is already booked after this dosing session."
)
MSG_NOT_HELD = gettext_noop(
    "Integration times are offered once the dosing session has taken place."
)
MSG_NO_THERAPIST = gettext_noop("No therapist was present at this dosing session.")
MSG_STARTED = gettext_noop(
    "This session has already started: it can no longer be moved or cancelled."
)


class IntegrationSessionError(Exception):
    """A booking, move or cancellation the rules refuse; `str()` is a
    sentence for the person, in their language."""


def _check_actor(actor: User, dosing_session: DosingSession) -> None:
    appointment = dosing_session.appointment
    client = appointment.client
    if client is not None and client.user_id == actor.pk:
        return
    if not may_schedule(actor, appointment.clinic_id):
        raise IntegrationSessionError(_(MSG_NOT_PERMITTED))


def _offered(dosing_session, therapist, start, now, exclude=None) -> selectors.Slot:
    settings = selectors.session_settings(dosing_session.appointment.clinic)
    for slot in selectors.free_slots(
        dosing_session=dosing_session,
        therapist=therapist,
        settings=settings,
        now=now,
        exclude=exclude,
    ):
        if slot.start == start:
            return slot
    raise IntegrationSessionError(_(MSG_NOT_OFFERED))


def _check_stage(course: Course) -> None:
    stage = Course.objects.values_list("stage", flat=True).get(pk=course.pk)
    if stage not in selectors.STAGES:
        raise IntegrationSessionError(_(MSG_STAGE))


def queue_messages(appointment: Appointment, *, first: bool, now: datetime) -> None:
    """The confirmation, and the reminder a day ahead unless it is due
    already, keyed by the appointment's version: a move or a cancellation
    makes the ones queued before it stale."""
    key = f"{appointment.uuid}:v{appointment.version}"
    payload = {"appointment": str(appointment.uuid), "version": appointment.version}
    messages: list[dict[str, object]] = [
        {"kind": CONFIRMATION, "key": key, "payload": {**payload, "first": first}}
    ]
    due = appointment.start - REMINDER_LEAD
    if due > now:
        messages.append({"kind": REMINDER_24H, "key": key, "payload": payload, "due_at": due})
    outbox_enqueue_many(messages)


def integration_session_book(
    *,
    dosing_session: DosingSession,
    start: datetime,
    actor: User,
    now: datetime | None = None,
) -> IndividualSession:
    """Book the integration session that follows a held dosing session, with
    the therapist of that session, at one of the free times of the clinic's
    window. One per dosing session: a second (a double submit, two tabs) is
    refused under the client's lock."""
    now = now or timezone.now()
    _check_actor(actor, dosing_session)
    if dosing_session.appointment.status != Appointment.Status.HELD:
        raise IntegrationSessionError(_(MSG_NOT_HELD))
    therapist = selectors.session_therapist(dosing_session)
    if therapist is None:
        raise IntegrationSessionError(_(MSG_NO_THERAPIST))
    appointment = dosing_session.appointment
    clinic = appointment.clinic
    client = appointment.client
    if client is None:  # a dosing session always holds its client (the calendar's rows say so)
        raise IntegrationSessionError(_(MSG_NOT_PERMITTED))
    course = dosing_session.series.course
    _check_stage(course)
    slot = _offered(dosing_session, therapist, start, now)
    try:
        with transaction.atomic():
            calendar.calendar_lock(staff_ids=[therapist.pk], client_id=client.pk)
            _check_stage(course)
            if selectors.live_session(dosing_session) is not None:
                raise IntegrationSessionError(_(MSG_ALREADY_BOOKED))
            # Read again under the lock: someone may have taken it meanwhile.
            slot = _offered(dosing_session, therapist, start, now)
            booked = calendar.appointment_book(
                clinic=clinic,
                kind=AppointmentKind.INTEGRATION_SESSION,
                start=slot.start,
                end=slot.end,
                staff=[therapist],
                client=client,
                locked=True,
            )
            session = IndividualSession(
                appointment=booked,
                dosing_session=dosing_session,
                course=course,
                therapist=therapist,
                booked_by=actor,
            )
            session.full_clean(exclude=["appointment", "dosing_session", "course", "therapist"])
            session.save()
            queue_messages(booked, first=True, now=now)
    except (IntegrityError, calendar.CalendarConflict) as exc:
        raise IntegrationSessionError(_(calendar.MSG_TIME_TAKEN)) from exc
    return session


def _changeable(session: IndividualSession, version: int, now: datetime) -> Appointment:
    current = Appointment.objects.select_for_update().get(pk=session.appointment_id)
    if current.status != Appointment.Status.BOOKED or current.version != version:
        raise IntegrationSessionError(_(calendar.MSG_ALREADY_CHANGED))
    if current.start <= now:
        raise IntegrationSessionError(_(MSG_STARTED))
    return current


def integration_session_move(
    *,
    session: IndividualSession,
    start: datetime,
    actor: User,
    version: int,
    now: datetime | None = None,
) -> IndividualSession:
    """Move the session to another free time of the same window, with the
    same therapist; `version` is the one the person saw."""
    now = now or timezone.now()
    dosing_session = session.dosing_session
    _check_actor(actor, dosing_session)
    _check_stage(session.course)
    try:
        with transaction.atomic():
            calendar.calendar_lock(
                staff_ids=[session.therapist_id], client_id=session.appointment.client_id
            )
            current = _changeable(session, version, now)
            _check_stage(session.course)
            slot = _offered(dosing_session, session.therapist, start, now, exclude=current)
            calendar.appointment_reschedule(
                appointment=current, start=slot.start, end=slot.end, staff=[session.therapist]
            )
            queue_messages(current, first=False, now=now)
    except (IntegrityError, calendar.CalendarConflict) as exc:
        raise IntegrationSessionError(_(calendar.MSG_TIME_TAKEN)) from exc
    session.appointment.refresh_from_db()
    return session


def integration_session_cancel(
    *, session: IndividualSession, actor: User, version: int, now: datetime | None = None
) -> IndividualSession:
    """Cancel before it starts, whatever the stage; the client is told."""
    now = now or timezone.now()
    _check_actor(actor, session.dosing_session)
    with transaction.atomic():
        _changeable(session, version, now)
        try:
            calendar.appointment_cancel(appointment=session.appointment, version=version)
        except calendar.CalendarConflict as exc:  # pragma: no cover - the row is locked above
            raise IntegrationSessionError(_(calendar.MSG_ALREADY_CHANGED)) from exc
        outbox_enqueue(
            kind=CANCELLED,
            key=str(session.appointment.uuid),
            payload={"appointment": str(session.appointment.uuid), "version": version},
        )
    session.appointment.refresh_from_db()
    return session
