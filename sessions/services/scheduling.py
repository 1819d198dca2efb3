"""Scheduling on the clinic's one calendar: medical assessments and
preparatory sessions, dosing sessions and their series. Every booking, move
and cancellation goes through `clinic.calendar` (which refuses anyone or any
room in two places at once, under its lock and PostgreSQL's exclusion
constraints); the rules of each kind are checked here, under the same lock,
wherever the booking comes from (the room board, the admin, a shell).

Who may: the coordinators and clinicians of the appointment's clinic; never
the privacy officer, never another clinic's staff."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from clinic import calendar
from clinic.formatting import local_when
from clinic.models import (
    Appointment,
    AppointmentKind,
    Clinic,
    Course,
    Room,
    StaffRole,
    User,
)
from clinic.outbox import outbox_enqueue, outbox_enqueue_many

from ..models import DosingSeries, DosingSession, PreparationAppointment
from ..selectors.board import (
    BOOKABLE_STAGES,
    busy_descriptions,
    counting_sessions,
    dosing_settings,
    local_days_apart,
)

# The outbox's kinds: the client's confirmation (with the calendar
# invitation), reminders two days and one day ahead, the cancellation.
CONFIRMATION = "dosing.confirmation"
REMINDER_48H = "dosing.reminder_48h"
REMINDER_24H = "dosing.reminder_24h"
CANCELLED = "dosing.cancelled"
REMINDERS = {REMINDER_48H: timedelta(hours=48), REMINDER_24H: timedelta(hours=24)}

SCHEDULING_ROLES = frozenset(
    {StaffRole.COORDINATOR, StaffRole.THERAPIST, StaffRole.MEDICAL_PRACTITIONER}
)
PREPARATION_KINDS = (AppointmentKind.MEDICAL_ASSESSMENT, AppointmentKind.PREPARATORY_SESSION)
# An assessment or a preparatory session lasts this long unless chosen otherwise.
PREPARATION_MINUTES = 60
MIN_MINUTES, MAX_MINUTES = 15, 240

MSG_NOT_PERMITTED = gettext_noop(
    "Only the coordinators and clinicians of this clinic can schedule its appointments."
)
MSG_NOT_IN_DOSING = gettext_noop(
    "A dosing session can be booked only for a client whose course is in the dosing stage."
)
MSG_NOT_IN_PREPARE = gettext_noop(
    "A medical assessment or a preparatory session can be booked only for a client whose "
    "course is in the prepare or dosing stage."
)
MSG_NOT_A_DOSING_ROOM = gettext_noop("Dosing sessions take place in a dosing room.")
MSG_ROOM_ELSEWHERE = gettext_noop("This room is not one of this clinic's rooms in use.")
MSG_NEEDS_THERAPIST = gettext_noop("Choose a therapist of this clinic.")
MSG_NEEDS_PRACTITIONER = gettext_noop("Choose a medical practitioner of this clinic.")
MSG_IN_THE_PAST = gettext_noop("This time has already passed. Choose a time ahead.")
MSG_STARTED = gettext_noop(
    "This appointment has already started: it can no longer be moved or cancelled here."
)
MSG_LENGTH = gettext_noop("An appointment lasts between 15 minutes and 4 hours.")
MSG_WRONG_KIND = gettext_noop("This kind of appointment is not scheduled here.")
MSG_SERIES_SIZE = gettext_noop("Book from 1 to %(max)s sessions at once.")
MSG_SERIES_FULL = gettext_noop(
    "This would make %(count)s sessions in the series; the clinic allows at most %(max)s."
)
MSG_SERIES_ENDED = gettext_noop("This client's dosing series has ended.")
MSG_TOO_CLOSE = gettext_noop(
    "%(session)s is %(days)s from the session on %(other)s: dosing sessions are at least "
    "%(min)s days apart."
)
MSG_BUSY = gettext_noop("%(session)s cannot be booked: %(busy)s.")
MSG_CHANGED = calendar.MSG_ALREADY_CHANGED


class SchedulingError(Exception):
    """A booking, move or cancellation the rules refuse; `str()` is a
    sentence for the person, in their language."""


@dataclass(frozen=True)
class DosingTeam:
    """Who a dosing session holds besides the client: the room and two people."""

    room: Room
    therapist: User
    practitioner: User


# --- Checks shared by the writers and the board's preview ------------------------------------


def may_schedule(user: User, clinic_id: int) -> bool:
    """A coordinator, therapist or medical practitioner of this clinic."""
    profile = getattr(user, "staff_profile", None)
    if profile is None or profile.role not in SCHEDULING_ROLES or not user.is_active:
        return False
    return profile.clinics.filter(pk=clinic_id).exists()


def _check_actor(actor: User, clinic: Clinic) -> None:
    if not may_schedule(actor, clinic.pk):
        raise SchedulingError(_(MSG_NOT_PERMITTED))


def _staff_problem(person: User | None, clinic: Clinic, role: str) -> str | None:
    message = (
        MSG_NEEDS_PRACTITIONER if role == StaffRole.MEDICAL_PRACTITIONER else MSG_NEEDS_THERAPIST
    )
    profile = getattr(person, "staff_profile", None) if person is not None else None
    if (
        person is None
        or profile is None
        or not person.is_active
        or profile.role != role
        or not profile.clinics.filter(pk=clinic.pk).exists()
    ):
        return _(message)
    return None


def _room_problem(room: Room | None, clinic: Clinic, *, dosing: bool) -> str | None:
    if room is None:
        return _(MSG_NOT_A_DOSING_ROOM) if dosing else None
    if room.clinic_id != clinic.pk or not room.is_active:
        return _(MSG_ROOM_ELSEWHERE)
    if dosing and not room.is_dosing_room:
        return _(MSG_NOT_A_DOSING_ROOM)
    return None


def _stage_problem(course: Course, kind: str) -> str | None:
    if course.stage in BOOKABLE_STAGES[kind]:
        return None
    return _(MSG_NOT_IN_DOSING) if kind == AppointmentKind.DOSING_SESSION else _(MSG_NOT_IN_PREPARE)


def _session_label(start: datetime, clinic: Clinic, number: int | None, total: int) -> str:
    when = local_when(start, clinic)
    if number is None or total == 1:
        return _("The session of %(when)s") % {"when": when}
    return _("Session %(number)s of %(total)s (%(when)s)") % {
        "number": number,
        "total": total,
        "when": when,
    }


def _interval_problems(
    *,
    clinic: Clinic,
    starts: Sequence[datetime],
    others: Sequence[datetime],
    min_days: int,
) -> list[str]:
    """Each new session against the other new ones and the series' sessions
    already booked or held: at least `min_days` of the clinic's local days
    apart, measured between the sessions' starts."""
    zone = clinic.zone
    problems = []
    for i, start in enumerate(starts):
        neighbours = [*others, *starts[:i]]
        for other in neighbours:
            days = local_days_apart(start, other, zone)
            if days < min_days:
                problems.append(
                    _(MSG_TOO_CLOSE)
                    % {
                        "session": _session_label(start, clinic, i + 1, len(starts)),
                        "days": ngettext("%(n)s day", "%(n)s days", days) % {"n": days},
                        "other": date_format(timezone.localtime(other, zone), "DATE_FORMAT"),
                        "min": min_days,
                    }
                )
                break
    return problems


def _busy_at(*, start, end, staff, room, room_buffer, client_id, exclude=None) -> list:
    """What the calendar finds in the way of a booking at these times (the
    room held for its cleaning too), as it would at save."""
    return calendar.calendar_conflicts(
        start=start,
        end=end,
        staff_ids=[person.pk for person in staff],
        room_id=room.pk if room else None,
        client_id=client_id,
        room_end=end + room_buffer if room_buffer is not None else None,
        exclude=exclude,
    )


def _conflict_message(label: str, conflicts, clinic: Clinic) -> str:
    busy = busy_descriptions(conflicts, clinic)
    if not busy:
        return _(calendar.MSG_TIME_TAKEN)
    return _(MSG_BUSY) % {"session": label, "busy": get_text_list(busy, _("and"))}


def _fresh_course(course: Course) -> Course:
    """The course as it is now (its stage may have moved since the page was read)."""
    return Course.objects.select_related("client__user", "clinic").get(pk=course.pk)


# --- The board's preview: what a save would say, without saving --------------------------


def booking_problems(
    *,
    clinic: Clinic,
    kind: str,
    starts: Sequence[datetime],
    minutes: int,
    room: Room | None,
    therapist: User | None,
    practitioner: User | None,
    course: Course | None,
    exclude: Appointment | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Everything the rules would refuse in this booking (or this move,
    `exclude` being the appointment moved), short of the calendar itself:
    what the board shows while the form is filled, and what each writer
    checks first. The writers check the course's stage and series again
    under the calendar's lock."""
    now = now or timezone.now()
    problems: list[str] = []
    if kind not in BOOKABLE_STAGES:
        return [_(MSG_WRONG_KIND)]
    dosing = kind == AppointmentKind.DOSING_SESSION
    settings = dosing_settings(clinic)
    if dosing and not 1 <= len(starts) <= settings.max_series_sessions:
        problems.append(_(MSG_SERIES_SIZE) % {"max": settings.max_series_sessions})
    if not dosing and not MIN_MINUTES <= minutes <= MAX_MINUTES:
        problems.append(_(MSG_LENGTH))
    if any(start < now for start in starts):
        problems.append(_(MSG_IN_THE_PAST))
    if (problem := _room_problem(room, clinic, dosing=dosing)) is not None:
        problems.append(problem)
    for role, person in _team(kind, therapist, practitioner):
        if (problem := _staff_problem(person, clinic, role)) is not None:
            problems.append(problem)
    if course is not None:
        if (problem := _stage_problem(course, kind)) is not None:
            problems.append(problem)
        elif dosing:
            problems += _series_problems(
                course=course, starts=starts, settings=settings, exclude=exclude
            )
    return problems


def _team(kind: str, therapist: User | None, practitioner: User | None):
    """The people this kind of appointment holds, with the role each needs."""
    if kind == AppointmentKind.MEDICAL_ASSESSMENT:
        return [(StaffRole.MEDICAL_PRACTITIONER, practitioner)]
    if kind == AppointmentKind.PREPARATORY_SESSION:
        return [(StaffRole.THERAPIST, therapist)]
    return [(StaffRole.THERAPIST, therapist), (StaffRole.MEDICAL_PRACTITIONER, practitioner)]


def booking_conflicts(
    *,
    clinic: Clinic,
    kind: str,
    starts: Sequence[datetime],
    minutes: int,
    room: Room | None,
    therapist: User | None,
    practitioner: User | None,
    course: Course | None,
    exclude: Appointment | None = None,
) -> tuple[list[str], list[Appointment]]:
    """Who or what is already busy at these times, in sentences (the room,
    each person, the client), as the calendar would find them at save; and
    the client's own appointments those sentences reveal (a read to log)."""
    dosing = kind == AppointmentKind.DOSING_SESSION
    settings = dosing_settings(clinic)
    length = timedelta(minutes=settings.session_minutes if dosing else minutes)
    cleaning = timedelta(minutes=settings.cleaning_buffer_minutes) if dosing else None
    staff = [person for _role, person in _team(kind, therapist, practitioner) if person]
    sentences: list[str] = []
    revealed: list[Appointment] = []
    for number, start in enumerate(sorted(starts), start=1):
        conflicts = _busy_at(
            start=start,
            end=start + length,
            staff=staff,
            room=room,
            room_buffer=cleaning,
            client_id=course.client_id if course else None,
            exclude=exclude,
        )
        if conflicts:
            label = _session_label(start, clinic, number, len(starts))
            sentences.append(_conflict_message(label, conflicts, clinic))
            revealed += [r.appointment for r in conflicts if r.client_id is not None]
    return sentences, revealed


def _series_problems(*, course: Course, starts, settings, exclude: Appointment | None) -> list[str]:
    series = DosingSeries.objects.filter(course=course).first()
    if series is None:
        others: list[datetime] = []
    else:
        if series.ended_at is not None:
            return [_(MSG_SERIES_ENDED)]
        others = [s.appointment.start for s in counting_sessions(series, exclude=exclude)]
        if exclude is None:
            count = max(series.planned_sessions, len(others) + len(starts))
            if count > settings.max_series_sessions:
                return [_(MSG_SERIES_FULL) % {"count": count, "max": settings.max_series_sessions}]
    return _interval_problems(
        clinic=course.clinic,
        starts=starts,
        others=others,
        min_days=settings.min_days_between_sessions,
    )


def series_starts(
    *, clinic: Clinic, first: datetime, count: int, every_days: int
) -> list[datetime]:
    """`count` starts from `first`, every `every_days` days at the same local
    time: the clinic's clock, whatever daylight saving time does between."""
    local = timezone.localtime(first, clinic.zone)
    return [
        datetime.combine(local.date() + timedelta(days=i * every_days), local.time(), clinic.zone)
        for i in range(count)
    ]


# --- Preparation appointments ---------------------------------------------------------------


def preparation_appointment_book(
    *,
    course: Course,
    kind: str,
    start: datetime,
    minutes: int = PREPARATION_MINUTES,
    staff_member: User,
    room: Room | None = None,
    actor: User,
    now: datetime | None = None,
) -> PreparationAppointment:
    """Book a medical assessment (with a medical practitioner) or a
    preparatory session (with a therapist), in a room when in person, for a
    client whose course is in prepare (or dosing: see BOOKABLE_STAGES)."""
    clinic = course.clinic
    _check_actor(actor, clinic)
    if kind not in PREPARATION_KINDS:
        raise SchedulingError(_(MSG_WRONG_KIND))
    assessment = kind == AppointmentKind.MEDICAL_ASSESSMENT
    problems = booking_problems(
        clinic=clinic,
        kind=kind,
        starts=[start],
        minutes=minutes,
        room=room,
        therapist=None if assessment else staff_member,
        practitioner=staff_member if assessment else None,
        course=None,  # checked below, under the lock
        now=now,
    )
    if problems:
        raise SchedulingError(" ".join(problems))
    end = start + timedelta(minutes=minutes)
    try:
        with transaction.atomic():
            calendar.calendar_lock(
                staff_ids=[staff_member.pk],
                room_id=room.pk if room else None,
                client_id=course.client_id,
            )
            fresh = _fresh_course(course)
            if (problem := _stage_problem(fresh, kind)) is not None:
                raise SchedulingError(problem)
            appointment = _book(
                clinic=clinic,
                kind=kind,
                start=start,
                end=end,
                staff=[staff_member],
                course=fresh,
                room=room,
                room_buffer=None,
                label=_session_label(start, clinic, None, 1),
            )
            preparation = PreparationAppointment(
                appointment=appointment, course=fresh, booked_by=actor
            )
            preparation.full_clean(exclude=["appointment", "course", "booked_by"])
            preparation.save()
            queue_messages(appointment, first=True)
    except IntegrityError as exc:
        raise SchedulingError(_(calendar.MSG_TIME_TAKEN)) from exc
    return preparation


def _book(
    *,
    clinic: Clinic,
    kind: str,
    start: datetime,
    end: datetime,
    staff: list[User],
    course: Course,
    room: Room | None,
    room_buffer: timedelta | None,
    label: str,
) -> Appointment:
    """One appointment on the calendar, the resources already locked; a
    conflict says which resource is busy, when, and for what."""
    try:
        return calendar.appointment_book(
            clinic=clinic,
            kind=kind,
            start=start,
            end=end,
            staff=staff,
            client=course.client,
            room=room,
            room_buffer=room_buffer,
            locked=True,
        )
    except calendar.CalendarConflict as exc:
        conflicts = _busy_at(
            start=start,
            end=end,
            staff=staff,
            room=room,
            room_buffer=room_buffer,
            client_id=course.client_id,
        )
        raise SchedulingError(_conflict_message(label, conflicts, clinic)) from exc


def _check_changeable(appointment: Appointment, version: int, now: datetime) -> Appointment:
    """The appointment as it is now, locked, if it is still the booked
    version the person saw and has not started."""
    current = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if current.status != Appointment.Status.BOOKED or current.version != version:
        raise SchedulingError(_(MSG_CHANGED))
    if current.start <= now:
        raise SchedulingError(_(MSG_STARTED))
    return current


def preparation_appointment_move(
    *,
    preparation: PreparationAppointment,
    start: datetime,
    minutes: int,
    staff_member: User,
    room: Room | None,
    actor: User,
    version: int,
    now: datetime | None = None,
) -> PreparationAppointment:
    """Move an assessment or a preparatory session to another time, person
    or room. The version the person saw must still be the current one, so a
    second click or someone else's change meanwhile moves nothing."""
    now = now or timezone.now()
    appointment = preparation.appointment
    clinic = appointment.clinic
    _check_actor(actor, clinic)
    kind = appointment.kind
    assessment = kind == AppointmentKind.MEDICAL_ASSESSMENT
    problems = booking_problems(
        clinic=clinic,
        kind=kind,
        starts=[start],
        minutes=minutes,
        room=room,
        therapist=None if assessment else staff_member,
        practitioner=staff_member if assessment else None,
        course=None,
        exclude=appointment,
        now=now,
    )
    if problems:
        raise SchedulingError(" ".join(problems))
    end = start + timedelta(minutes=minutes)
    try:
        with transaction.atomic():
            calendar.calendar_lock(
                staff_ids=[staff_member.pk],
                room_id=room.pk if room else None,
                client_id=appointment.client_id,
            )
            current = _check_changeable(appointment, version, now)
            fresh = _fresh_course(preparation.course)
            if (problem := _stage_problem(fresh, kind)) is not None:
                raise SchedulingError(problem)
            _move(
                appointment=current,
                start=start,
                end=end,
                staff=[staff_member],
                room=room,
                room_buffer=None,
                course=fresh,
            )
            queue_messages(current, first=False)
    except IntegrityError as exc:
        raise SchedulingError(_(calendar.MSG_TIME_TAKEN)) from exc
    preparation.appointment.refresh_from_db()
    return preparation


def _move(
    *,
    appointment: Appointment,
    start: datetime,
    end: datetime,
    staff: list[User],
    room: Room | None,
    room_buffer: timedelta | None,
    course: Course,
) -> None:
    try:
        calendar.appointment_reschedule(
            appointment=appointment,
            start=start,
            end=end,
            staff=staff,
            room=room,
            room_buffer=room_buffer,
        )
    except calendar.CalendarConflict as exc:
        conflicts = _busy_at(
            start=start,
            end=end,
            staff=staff,
            room=room,
            room_buffer=room_buffer,
            client_id=course.client_id,
            exclude=appointment,
        )
        label = _session_label(start, appointment.clinic, None, 1)
        raise SchedulingError(_conflict_message(label, conflicts, appointment.clinic)) from exc


def booking_cancel(
    *, appointment: Appointment, actor: User, version: int, now: datetime | None = None
) -> Appointment:
    """Cancel an assessment, a preparatory or a dosing session before it
    starts, whatever the course's stage (freeing a room is never blocked).
    Reminders still queued see the cancellation and send nothing; the client
    is told, with the invitation's cancellation."""
    now = now or timezone.now()
    _check_actor(actor, appointment.clinic)
    if appointment.kind not in BOOKABLE_STAGES:
        raise SchedulingError(_(MSG_WRONG_KIND))
    with transaction.atomic():
        _check_changeable(appointment, version, now)
        try:
            calendar.appointment_cancel(appointment=appointment, version=version)
        except calendar.CalendarConflict as exc:  # pragma: no cover - the row is locked above
            raise SchedulingError(_(MSG_CHANGED)) from exc
        outbox_enqueue(
            kind=CANCELLED,
            key=str(appointment.uuid),
            payload={"appointment": str(appointment.uuid), "version": version},
        )
    return appointment


# --- Dosing sessions ----------------------------------------------------------------------

BookedHook = Callable[[list[DosingSession]], None]
_booked_hooks: list[BookedHook] = []


def register_booked_hook(hook: BookedHook) -> None:
    """`hook(sessions)` runs inside the booking's transaction with the
    dosing sessions just booked: a later stage writes the rows a session
    brings (integration's questionnaire before each session) in the same
    commit, so a refused booking leaves none."""
    if hook not in _booked_hooks:
        _booked_hooks.append(hook)


def dosing_sessions_book(
    *,
    course: Course,
    starts: Sequence[datetime],
    team: DosingTeam,
    actor: User,
    now: datetime | None = None,
) -> list[DosingSession]:
    """Book dosing sessions for a client in the dosing stage: the first
    booking plans the series (its length is the number of sessions booked),
    a later one fills a place a cancelled or deferred session left, or adds
    an extra session (the series then plans one more), never beyond the
    clinic's most sessions in a series.

    Each session holds a dosing room, the client, a therapist and a medical
    practitioner for the clinic's session length, and the room alone for its
    cleaning after. Sessions are at least the clinic's fewest days apart,
    between each other and the series' sessions already booked or held.

    All or nothing, in one transaction: one session that cannot be booked
    refuses them all, and the message says which one and what is busy."""
    clinic = course.clinic
    _check_actor(actor, clinic)
    starts = sorted(starts)
    settings = dosing_settings(clinic)
    length = timedelta(minutes=settings.session_minutes)
    cleaning = timedelta(minutes=settings.cleaning_buffer_minutes)
    problems = booking_problems(
        clinic=clinic,
        kind=AppointmentKind.DOSING_SESSION,
        starts=starts,
        minutes=settings.session_minutes,
        room=team.room,
        therapist=team.therapist,
        practitioner=team.practitioner,
        course=None,  # the course's stage and series are read below, under the lock
        now=now,
    )
    if problems:
        raise SchedulingError(" ".join(problems))
    try:
        with transaction.atomic():
            # The client's lock also makes the series' interval rule safe:
            # two bookings for one client read the series one after the other.
            calendar.calendar_lock(
                staff_ids=[team.therapist.pk, team.practitioner.pk],
                room_id=team.room.pk,
                client_id=course.client_id,
            )
            fresh = _fresh_course(course)
            if (problem := _stage_problem(fresh, AppointmentKind.DOSING_SESSION)) is not None:
                raise SchedulingError(problem)
            # What is busy first: a form sent twice is told the client is
            # already booked then, not that the session is 0 days from itself.
            busy, _revealed = booking_conflicts(
                clinic=clinic,
                kind=AppointmentKind.DOSING_SESSION,
                starts=starts,
                minutes=settings.session_minutes,
                room=team.room,
                therapist=team.therapist,
                practitioner=team.practitioner,
                course=fresh,
            )
            if busy:
                raise SchedulingError(" ".join(busy))
            series_problems = _series_problems(
                course=fresh, starts=starts, settings=settings, exclude=None
            )
            if series_problems:
                raise SchedulingError(" ".join(series_problems))
            series = _series_for(fresh, added=len(starts), actor=actor)
            sessions = []
            for number, start in enumerate(starts, start=1):
                appointment = _book(
                    clinic=clinic,
                    kind=AppointmentKind.DOSING_SESSION,
                    start=start,
                    end=start + length,
                    staff=[team.therapist, team.practitioner],
                    course=fresh,
                    room=team.room,
                    room_buffer=cleaning,
                    label=_session_label(start, clinic, number, len(starts)),
                )
                session = DosingSession(appointment=appointment, series=series)
                session.full_clean(exclude=["appointment", "series"])
                session.save()
                sessions.append(session)
            for session in sessions:
                queue_messages(session.appointment, first=True)
            for hook in _booked_hooks:
                hook(sessions)
    except IntegrityError as exc:
        # Without the lock (a bug, or a path that skipped it) the database's
        # constraints are the last line: the person gets a sentence, not a 500.
        raise SchedulingError(_(calendar.MSG_TIME_TAKEN)) from exc
    return sessions


def _series_for(course: Course, *, added: int, actor: User) -> DosingSeries:
    """The course's series, planned now if it was not yet, its plan grown by
    the sessions that no cancelled or deferred place can take."""
    series = DosingSeries.objects.select_for_update().filter(course=course).first()
    if series is None:
        series = DosingSeries(course=course, planned_sessions=added, planned_by=actor)
        series.full_clean(exclude=["course", "planned_by"], validate_unique=False)
        series.save()
        return series
    counting = counting_sessions(series).count()
    needed = counting + added
    if needed > series.planned_sessions:
        DosingSeries.objects.filter(pk=series.pk).update(planned_sessions=needed)
        series.planned_sessions = needed
    return series


def dosing_session_move(
    *,
    session: DosingSession,
    start: datetime,
    team: DosingTeam,
    actor: User,
    version: int,
    now: datetime | None = None,
) -> DosingSession:
    """Move a dosing session to another time, room or team, keeping the
    series' interval with its neighbours; the client's course must still be
    in dosing (a session of a course that moved on can only be cancelled)."""
    now = now or timezone.now()
    appointment = session.appointment
    clinic = appointment.clinic
    _check_actor(actor, clinic)
    settings = dosing_settings(clinic)
    length = timedelta(minutes=settings.session_minutes)
    cleaning = timedelta(minutes=settings.cleaning_buffer_minutes)
    problems = booking_problems(
        clinic=clinic,
        kind=AppointmentKind.DOSING_SESSION,
        starts=[start],
        minutes=settings.session_minutes,
        room=team.room,
        therapist=team.therapist,
        practitioner=team.practitioner,
        course=None,
        exclude=appointment,
        now=now,
    )
    if problems:
        raise SchedulingError(" ".join(problems))
    try:
        with transaction.atomic():
            calendar.calendar_lock(
                staff_ids=[team.therapist.pk, team.practitioner.pk],
                room_id=team.room.pk,
                client_id=appointment.client_id,
            )
            current = _check_changeable(appointment, version, now)
            fresh = _fresh_course(session.series.course)
            if (problem := _stage_problem(fresh, AppointmentKind.DOSING_SESSION)) is not None:
                raise SchedulingError(problem)
            series_problems = _series_problems(
                course=fresh, starts=[start], settings=settings, exclude=current
            )
            if series_problems:
                raise SchedulingError(" ".join(series_problems))
            _move(
                appointment=current,
                start=start,
                end=start + length,
                staff=[team.therapist, team.practitioner],
                room=team.room,
                room_buffer=cleaning,
                course=fresh,
            )
            queue_messages(current, first=False)
            if _booked_hooks:
                moved = DosingSession.objects.select_related(
                    "appointment__clinic", "series__course"
                ).get(pk=session.pk)
                for hook in _booked_hooks:
                    hook([moved])
    except IntegrityError as exc:
        raise SchedulingError(_(calendar.MSG_TIME_TAKEN)) from exc
    session.appointment.refresh_from_db()
    return session


# --- The client's messages ------------------------------------------------------------------


def queue_messages(appointment: Appointment, *, first: bool, now: datetime | None = None) -> None:
    """The confirmation (with the calendar invitation) and the reminders two
    days and one day ahead for this version of the appointment, keyed by its
    uuid and version: each is sent once, and a move or a cancellation makes
    the ones queued before it stale. A reminder already due is not queued:
    the confirmation says it all."""
    now = now or timezone.now()
    version = appointment.version
    key = f"{appointment.uuid}:v{version}"
    payload = {"appointment": str(appointment.uuid), "version": version}
    messages: list[dict[str, object]] = [
        {"kind": CONFIRMATION, "key": key, "payload": {**payload, "first": first}}
    ]
    for kind, before in REMINDERS.items():
        due = appointment.start - before
        if due > now:
            messages.append({"kind": kind, "key": key, "payload": payload, "due_at": due})
    outbox_enqueue_many(messages)
