"""Writes of integration groups: schedule a group's meetings on the one
calendar, change a group, move or cancel one meeting, enrol a client or put
them on the waitlist, let them leave, and take attendance.

Capacity and the waitlist's order are kept by one lock: the group's row,
taken late inside a durable transaction (`_locked_group`). Every change of
who holds a place goes through it, so two clients can never take the last
place at once and a freed place always goes to the first in line."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic import calendar
from clinic.formatting import local_when
from clinic.models import (
    Appointment,
    AppointmentKind,
    ClientProfile,
    Clinic,
    Course,
    Reservation,
    Room,
    StaffRole,
    User,
)
from clinic.outbox import outbox_enqueue
from clinic.permissions import works_at

from .models import Attendance, Enrolment, GroupMeeting, IntegrationGroup
from .recurrence import Occurrence, occurrences

PROMOTED = "integration.group_promoted"
WAITLISTED = "integration.group_waitlisted"

MSG_ALREADY = gettext_noop("You are already in this group or on its waitlist.")
MSG_FULL = gettext_noop("This group is full. You can join its waitlist.")
MSG_NOT_ALLOWED = gettext_noop("This group is not open to you at this point of your journey.")
MSG_CLOSED = gettext_noop("This group is not taking enrolments.")
MSG_OVER = gettext_noop("This group has no meeting left.")
MSG_CLIENT_BUSY = gettext_noop(
    "You have another appointment at the time of the meeting on %(when)s. "
    "Please ask the clinic to move it first."
)
MSG_NOT_COORDINATOR = gettext_noop("Only a coordinator of this clinic can schedule groups.")
MSG_NOT_FACILITATOR = gettext_noop(
    "Only the group's facilitators and the clinic's coordinators take attendance."
)
MSG_NOT_STARTED = gettext_noop("Attendance is taken once the meeting has started.")
MSG_MEETING_CANCELLED = gettext_noop("This meeting was cancelled.")
MSG_ALREADY_LEFT = gettext_noop("You are no longer in this group.")
MSG_FACILITATOR_ROLE = gettext_noop("A facilitator must be a therapist of this clinic.")
MSG_ROOM_CLINIC = gettext_noop("The room must be one of this clinic's.")
MSG_CONFLICTS = gettext_noop(
    "%(count)s meetings conflict with the calendar; nothing was scheduled."
)


class GroupError(Exception):
    """A group change refused; `str()` is a sentence for the person."""


class ScheduleConflicts(GroupError):
    """Meetings of a new series that would take a busy room or person: each
    (local start, what is busy then). Nothing was scheduled."""

    def __init__(self, conflicts: list[tuple[datetime, list[str]]]):
        self.conflicts = conflicts
        super().__init__(_(MSG_CONFLICTS) % {"count": len(conflicts)})


# --- Who may -------------------------------------------------------------------------------


def is_coordinator_of(user: User, clinic_id: int) -> bool:
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return bool(user.is_superuser)
    return profile.role == StaffRole.COORDINATOR and works_at(user, clinic_id)


def may_take_attendance(user: User, group: IntegrationGroup) -> bool:
    if is_coordinator_of(user, group.clinic_id):
        return True
    return group.facilitators.filter(pk=user.pk).exists()


def _check_coordinator(actor: User, clinic: Clinic) -> None:
    if not is_coordinator_of(actor, clinic.pk):
        raise PermissionDenied(_(MSG_NOT_COORDINATOR))


# --- Scheduling a series ----------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    rule: str  # RFC 5545, e.g. FREQ=WEEKLY;INTERVAL=1;COUNT=8
    first_day: date  # local
    starts_at: time  # local wall clock
    ends_at: time


def _check_people(clinic: Clinic, facilitators: Sequence[User], room: Room | None) -> None:
    for person in facilitators:
        profile = getattr(person, "staff_profile", None)
        if profile is None or profile.role not in (StaffRole.THERAPIST,):
            raise GroupError(_(MSG_FACILITATOR_ROLE))
    if room is not None and room.clinic_id != clinic.pk:
        raise GroupError(_(MSG_ROOM_CLINIC))


def series_conflicts(
    *,
    clinic: Clinic,
    meetings: list[Occurrence],
    facilitators: Sequence[User],
    room: Room | None,
) -> list[tuple[datetime, list[str]]]:
    """Every meeting of the series whose room or facilitators are busy, with
    what is busy (one query per meeting: at most MAX_MEETINGS)."""
    from sessions.selectors.board import busy_descriptions

    found = []
    staff_ids = sorted(p.pk for p in facilitators)
    for meeting in meetings:
        busy = calendar.calendar_conflicts(
            start=meeting.start,
            end=meeting.end,
            staff_ids=staff_ids,
            room_id=room.pk if room else None,
        )
        if busy:
            found.append(
                (timezone.localtime(meeting.start, clinic.zone), busy_descriptions(busy, clinic))
            )
    return found


def group_create(
    *,
    clinic: Clinic,
    actor: User,
    name_en: str,
    name_fr: str,
    language: str,
    facilitators: Sequence[User],
    capacity: int,
    schedule: Schedule,
    room: Room | None = None,
    video_link: str = "",
    theme_en: str = "",
    theme_fr: str = "",
    allowed_stages: Iterable[str] | None = None,
    other_clinics_may_join: bool = False,
) -> IntegrationGroup:
    """Create a group and book every meeting of its schedule, or nothing.

    Every meeting holds the room and the facilitators; when any of them is
    busy at any meeting, ScheduleConflicts lists every such meeting and
    nothing is written (a series with holes would surprise the clients)."""
    _check_coordinator(actor, clinic)
    _check_people(clinic, facilitators, room)
    meetings = occurrences(
        rule=schedule.rule,
        first_day=schedule.first_day,
        starts_at=schedule.starts_at,
        ends_at=schedule.ends_at,
        zone=clinic.zone,
    )
    group = IntegrationGroup(
        clinic=clinic,
        name_en=name_en,
        name_fr=name_fr,
        theme_en=theme_en,
        theme_fr=theme_fr,
        language=language,
        room=room,
        video_link=video_link,
        capacity=capacity,
        other_clinics_may_join=other_clinics_may_join,
        recurrence=schedule.rule,
        created_by=actor,
    )
    if allowed_stages is not None:
        group.allowed_stages = sorted(set(allowed_stages))
    group.full_clean(exclude=["clinic", "room", "created_by"])
    staff_ids = sorted(p.pk for p in facilitators)
    try:
        with transaction.atomic(durable=True):
            calendar.calendar_lock(staff_ids=staff_ids, room_id=room.pk if room else None)
            conflicts = series_conflicts(
                clinic=clinic, meetings=meetings, facilitators=facilitators, room=room
            )
            if conflicts:
                raise ScheduleConflicts(conflicts)
            group.save()
            group.facilitators.set(facilitators)
            for number, meeting in enumerate(meetings, start=1):
                appointment = calendar.appointment_book(
                    clinic=clinic,
                    kind=AppointmentKind.GROUP_MEETING,
                    start=meeting.start,
                    end=meeting.end,
                    staff=list(facilitators),
                    room=room,
                    locked=True,
                )
                GroupMeeting.objects.create(group=group, appointment=appointment, number=number)
    except calendar.CalendarConflict as exc:
        raise GroupError(str(exc)) from exc
    return group


# --- Moving or cancelling one meeting ------------------------------------------------------------


def _enrolled(group: IntegrationGroup):
    return Enrolment.objects.filter(group=group, status=Enrolment.Status.ENROLLED)


def meeting_move(
    *, meeting: GroupMeeting, actor: User, start: datetime, end: datetime
) -> GroupMeeting:
    """Move one meeting (the others stay): the room and facilitators are
    checked at the new time, and every enrolled client is held there again
    (refused when one of them is busy then)."""
    group = meeting.group
    _check_coordinator(actor, group.clinic)
    facilitators = list(group.facilitators.all())
    try:
        with transaction.atomic(durable=True):
            locked = _locked_group(group)
            clients = list(_enrolled(locked).values_list("client_id", flat=True))
            calendar.appointment_reschedule(
                appointment=meeting.appointment, start=start, end=end, staff=facilitators
            )
            for client_id in clients:
                calendar.calendar_lock(client_id=client_id)
            busy = Reservation.objects.filter(
                client_id__in=clients, is_live=True, start__lt=end, end__gt=start
            ).exclude(appointment=meeting.appointment)
            if busy.exists():
                raise calendar.CalendarConflict(_(calendar.MSG_TIME_TAKEN))
            Reservation.objects.bulk_create(
                Reservation(appointment=meeting.appointment, client_id=c, start=start, end=end)
                for c in clients
            )
    except (calendar.CalendarConflict, IntegrityError) as exc:
        raise GroupError(_(calendar.MSG_TIME_TAKEN)) from exc
    meeting.appointment.refresh_from_db()
    return meeting


def meeting_cancel(*, meeting: GroupMeeting, actor: User) -> GroupMeeting:
    """Cancel one meeting (a holiday): it frees the room, the facilitators
    and every client it held; the other meetings stay."""
    _check_coordinator(actor, meeting.group.clinic)
    try:
        calendar.appointment_cancel(appointment=meeting.appointment)
    except calendar.CalendarConflict as exc:
        raise GroupError(str(exc)) from exc
    return meeting


# --- Places and the waitlist ---------------------------------------------------------------------


def _locked_group(group: IntegrationGroup) -> IntegrationGroup:
    """The one lock of every change of places: the group's row. Taken
    inside the caller's transaction, before counting anything."""
    return IntegrationGroup.objects.select_for_update().get(pk=group.pk)


def _take_ticket(group: IntegrationGroup) -> int:
    ticket = group.next_ticket
    group.next_ticket += 1
    IntegrationGroup.objects.filter(pk=group.pk).update(next_ticket=group.next_ticket)
    return ticket


def current_course(client: ClientProfile) -> Course | None:
    return Course.objects.filter(client=client).order_by("-opened_at", "-pk").first()


def enrolment_problem(
    group: IntegrationGroup, client: ClientProfile, course: Course | None
) -> str | None:
    """Why this client may not join this group, or None."""
    if not group.is_open:
        return _(MSG_CLOSED)
    if client.clinic_id != group.clinic_id and not group.other_clinics_may_join:
        return _(MSG_NOT_ALLOWED)
    if course is None or course.stage not in group.allowed_stages:
        return _(MSG_NOT_ALLOWED)
    return None


def _future_meetings(group: IntegrationGroup, now: datetime):
    return list(
        Appointment.objects.filter(
            group_meeting__group=group, status=Appointment.Status.BOOKED, start__gt=now
        ).order_by("start")
    )


def _hold(client_id: int, appointments: list[Appointment], *, strict: bool, clinic) -> None:
    """Hold the client in every future meeting (a Reservation each), so no
    other appointment can be booked over them. `strict`: refuse when the
    client is busy at one; otherwise (a promotion from the waitlist, which
    must not fail) hold the meetings where they are free."""
    if not appointments:
        return
    calendar.calendar_lock(client_id=client_id)
    busy = Q()
    for a in appointments:
        busy |= Q(start__lt=a.end, end__gt=a.start)
    taken = list(
        Reservation.objects.filter(busy, client_id=client_id, is_live=True)
        .exclude(appointment__in=appointments)
        .values_list("start", "end")
    )

    def is_free(a: Appointment) -> bool:
        return not any(start < a.end and end > a.start for start, end in taken)

    free = [a for a in appointments if is_free(a)]
    if strict and len(free) != len(appointments):
        first = next(a for a in appointments if not is_free(a))
        raise GroupError(_(MSG_CLIENT_BUSY) % {"when": local_when(first.start, clinic)})
    Reservation.objects.bulk_create(
        Reservation(appointment=a, client_id=client_id, start=a.start, end=a.end) for a in free
    )


def _release(client_id: int, group: IntegrationGroup, now: datetime) -> None:
    Reservation.objects.filter(
        client_id=client_id, appointment__group_meeting__group=group, start__gt=now
    ).delete()


def _notify(enrolment: Enrolment, kind: str) -> None:
    outbox_enqueue(
        kind=kind,
        key=f"{enrolment.uuid}:{enrolment.status}:{enrolment.position}",
        payload={"enrolment": str(enrolment.uuid)},
    )


def _fill_places(group: IntegrationGroup, now: datetime) -> list[Enrolment]:
    """Under the group's lock: promote the first on the waitlist while a
    place is free, each told by e-mail; returns who was promoted."""
    enrolled = _enrolled(group).count()
    free = group.capacity - enrolled
    if free <= 0:
        return []
    waiting = list(
        Enrolment.objects.filter(group=group, status=Enrolment.Status.WAITLISTED).order_by(
            "position"
        )[:free]
    )
    meetings = _future_meetings(group, now)
    for enrolment in waiting:
        updated = Enrolment.objects.filter(
            pk=enrolment.pk, status=Enrolment.Status.WAITLISTED
        ).update(status=Enrolment.Status.ENROLLED, position=_take_ticket(group), changed_at=now)
        if updated != 1:  # cannot happen under the lock; never promote twice
            continue
        enrolment.refresh_from_db()
        _hold(enrolment.client_id, meetings, strict=False, clinic=group.clinic)
        _notify(enrolment, PROMOTED)
    return waiting


def _shed_places(group: IntegrationGroup, now: datetime) -> list[Enrolment]:
    """Under the group's lock, after capacity went down: the last enrolled
    go back to the head of the waitlist, in their order, each told by e-mail."""
    enrolled = list(_enrolled(group).order_by("position"))
    extra = len(enrolled) - group.capacity
    if extra <= 0:
        return []
    moved = enrolled[-extra:]
    # Before everyone waiting (they had a place), in their enrolment order:
    # positions below every live one keep them unique.
    low = (
        Enrolment.objects.filter(group=group)
        .exclude(status=Enrolment.Status.LEFT)
        .aggregate(low=Min("position"))["low"]
        or 1
    )
    for offset, enrolment in enumerate(moved):
        position = low - len(moved) + offset
        Enrolment.objects.filter(pk=enrolment.pk).update(
            status=Enrolment.Status.WAITLISTED, position=position, changed_at=now
        )
        enrolment.status, enrolment.position = Enrolment.Status.WAITLISTED, position
        _release(enrolment.client_id, group, now)
        _notify(enrolment, WAITLISTED)
    return moved


def group_enrol(
    *,
    group: IntegrationGroup,
    client: ClientProfile,
    waitlist: bool = False,
    now: datetime | None = None,
) -> Enrolment:
    """Enrol a client, or put them on the waitlist when the group is full
    and they asked for it (`waitlist`); GroupError otherwise.

    Rules: the group is open and has meetings to come; the client's clinic
    and current stage are ones the group takes; one place (or waitlist
    place) per client; never more enrolled than places. An enrolled client
    is held in every future meeting on the calendar."""
    now = now or timezone.now()
    course = current_course(client)
    try:
        with transaction.atomic(durable=True):
            locked = _locked_group(group)
            problem = enrolment_problem(locked, client, course)
            if problem:
                raise GroupError(problem)
            if (
                Enrolment.objects.filter(group=locked, client=client)
                .exclude(status=Enrolment.Status.LEFT)
                .exists()
            ):
                raise GroupError(_(MSG_ALREADY))
            meetings = _future_meetings(locked, now)
            if not meetings:
                raise GroupError(_(MSG_OVER))
            full = _enrolled(locked).count() >= locked.capacity
            if full and not waitlist:
                raise GroupError(_(MSG_FULL))
            status = Enrolment.Status.WAITLISTED if full else Enrolment.Status.ENROLLED
            if not full:
                _hold(client.pk, meetings, strict=True, clinic=locked.clinic)
            enrolment = Enrolment.objects.create(
                group=locked,
                client=client,
                status=status,
                position=_take_ticket(locked),
                created_at=now,
                changed_at=now,
            )
    except IntegrityError as exc:  # a double submit racing past the check
        raise GroupError(_(MSG_ALREADY)) from exc
    return enrolment


def group_leave(*, enrolment: Enrolment, now: datetime | None = None) -> list[Enrolment]:
    """The client leaves the group or its waitlist; a place freed goes to
    the first on the waitlist at once. Returns who was promoted."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = _locked_group(enrolment.group)
        was = Enrolment.objects.filter(pk=enrolment.pk).values_list("status", flat=True).first()
        updated = (
            Enrolment.objects.filter(pk=enrolment.pk)
            .exclude(status=Enrolment.Status.LEFT)
            .update(status=Enrolment.Status.LEFT, changed_at=now)
        )
        if updated != 1:
            raise GroupError(_(MSG_ALREADY_LEFT))
        if was == Enrolment.Status.ENROLLED:
            _release(enrolment.client_id, locked, now)
        promoted = _fill_places(locked, now)
    enrolment.refresh_from_db()
    return promoted


def waitlist_position(enrolment: Enrolment) -> int | None:
    """1 for the first in line; None when not waiting."""
    if enrolment.status != Enrolment.Status.WAITLISTED:
        return None
    return (
        Enrolment.objects.filter(
            group_id=enrolment.group_id,
            status=Enrolment.Status.WAITLISTED,
            position__lt=enrolment.position,
        ).count()
        + 1
    )


# --- Changing a group ----------------------------------------------------------------------------


def group_update(
    *,
    group: IntegrationGroup,
    actor: User,
    now: datetime | None = None,
    **changes,
) -> IntegrationGroup:
    """Change a group's description, places or who may join. More places
    promote from the waitlist at once; fewer move the last enrolled to the
    head of the waitlist, in order; each person moved is told by e-mail."""
    allowed = {
        "name_en",
        "name_fr",
        "theme_en",
        "theme_fr",
        "language",
        "video_link",
        "capacity",
        "allowed_stages",
        "other_clinics_may_join",
        "is_open",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    _check_coordinator(actor, group.clinic)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = _locked_group(group)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=["clinic", "room", "created_by"])
        locked.save(update_fields=sorted(changes) or None)
        _shed_places(locked, now)
        _fill_places(locked, now)
    group.refresh_from_db()
    return group


# --- Attendance ------------------------------------------------------------------------------------


def attendance_take(
    *, meeting: GroupMeeting, actor: User, marks: dict[int, str], now: datetime | None = None
) -> list[Attendance]:
    """Record present, absent or excused for enrolled clients of a meeting
    that has started (a second submit records the same marks again)."""
    now = now or timezone.now()
    group = meeting.group
    if not may_take_attendance(actor, group):
        raise PermissionDenied(_(MSG_NOT_FACILITATOR))
    if meeting.appointment.status == Appointment.Status.CANCELLED:
        raise GroupError(_(MSG_MEETING_CANCELLED))
    if meeting.appointment.start > now:
        raise GroupError(_(MSG_NOT_STARTED))
    valid = set(Attendance.Mark.values)
    if any(mark not in valid for mark in marks.values()):
        raise ValueError("unknown attendance mark")
    enrolments = set(
        Enrolment.objects.filter(group=group, pk__in=list(marks)).values_list("pk", flat=True)
    )
    rows = []
    with transaction.atomic():
        for enrolment_id, mark in marks.items():
            if enrolment_id not in enrolments:
                continue  # not this group's: ignored, nothing of another group changes
            row, _created = Attendance.objects.update_or_create(
                meeting=meeting,
                enrolment_id=enrolment_id,
                defaults={"mark": mark, "recorded_by": actor, "recorded_at": now},
            )
            rows.append(row)
    return rows
