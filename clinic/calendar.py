"""The clinic's one calendar: every kind of appointment, and the people and
room each one holds (its reservations), so that nobody is in two places at
once across kinds. Stage apps book, move, cancel and mark appointments only
through these services."""

import uuid
from datetime import datetime, timedelta

from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .models import Appointment, ClientProfile, Clinic, Reservation, Room, StaffProfile, User


class CalendarConflict(Exception):
    """The time asked for is taken for one of the people or the room, or the
    appointment changed in the meantime; `str()` is a sentence for the person."""


MSG_TIME_TAKEN = gettext_noop("This time is no longer free. Please choose another time.")
MSG_ALREADY_CHANGED = gettext_noop(
    "This appointment has changed in the meantime. Please reload the page."
)
MSG_NOT_STARTED = gettext_noop(
    "This appointment has not started yet: record what happened once it has taken place."
)

CALENDAR_VERSION_KEY = "calendar-version"
_ENDS_AFTER_START = next(
    c for c in Appointment._meta.constraints if c.name == "appointment_ends_after_start"
)


def calendar_version() -> str:
    """A token that changes whenever the calendar or availability does
    (`calendar_changed`): part of the key of any cached free-time list.
    Kept in the "calendar" cache (settings: Redis when there is one), so
    that neither reading it nor changing it after each booking costs a
    database transaction."""
    version = caches["calendar"].get_or_set(
        CALENDAR_VERSION_KEY, lambda: uuid.uuid4().hex, timeout=None
    )
    return str(version)


def calendar_changed() -> None:
    """Something on the calendar, or in who is available when, has changed:
    pages that keep a rendered list of free times must not use it again.

    The new version is written after the commit, so a page that read the
    calendar before the change can only have been kept under the old one."""
    transaction.on_commit(
        lambda: caches["calendar"].set(CALENDAR_VERSION_KEY, uuid.uuid4().hex, timeout=None)
    )


def _deadlock(exc: OperationalError) -> bool:
    """PostgreSQL broke a deadlock by failing this transaction's statement.

    Two bookings that skipped the calendar's lock (a bug, or a path that
    forgot it) can each write a reservation the other's exclusion constraint
    then waits on; PostgreSQL fails one of them after a second. For the
    person that one is the same as a time taken: the other booking goes on."""
    return getattr(exc.__cause__, "sqlstate", None) == "40P01"


def calendar_lock(*, staff_ids=(), room_id=None, client_id=None) -> None:
    """Lock the rows of the people and the room a booking will hold, always
    in the same order (staff by id, then room, then client), so concurrent
    bookings queue behind each other instead of deadlocking. Call it inside
    the booking's transaction, before checking who is free."""
    if staff_ids:
        list(
            StaffProfile.objects.select_for_update()
            .filter(user_id__in=staff_ids)
            .order_by("user_id")
            .values_list("pk")
        )
    if room_id is not None:
        # No ordering: Room's default one joins Clinic, and FOR UPDATE would
        # then lock the clinic's row too, queueing every booking of a room
        # behind every other in the clinic.
        list(Room.objects.select_for_update().filter(pk=room_id).order_by().values_list("pk"))
    if client_id is not None:
        list(ClientProfile.objects.select_for_update().filter(pk=client_id).values_list("pk"))


def staff_lock_first(staff_ids) -> User:
    """Lock the row of one of these staff members, for a booking that needs
    any one of them (the first free intake clinician): the first by id whose
    row no other booking holds at this moment, else the first by id, waiting
    for it. Returns the person whose row is locked.

    Only that person is locked, so bookings that could each take any of
    several people take different ones at once instead of queueing behind
    one another. Call it inside a savepoint of the booking's transaction,
    before locking anything else (calendar_lock's order, staff first): when
    the person turns out to be taken, rolling the savepoint back lets their
    row go before the next one is tried, so no booking ever waits for a row
    while holding another."""
    staff_ids = sorted(staff_ids)
    # `of`: the profile's row only, not the user's the join reads.
    profiles = StaffProfile.objects.select_related("user").order_by("user_id")
    for profile in profiles.select_for_update(of=("self",), skip_locked=True).filter(
        user_id__in=staff_ids
    )[:1]:
        return profile.user
    return profiles.select_for_update(of=("self",)).get(user_id=staff_ids[0]).user


def _overlapping(
    *,
    start,
    end,
    staff_ids=(),
    room_id=None,
    client_id=None,
    room_end=None,
    exclude: Appointment | None = None,
):
    """The live reservations of these resources that overlap their window:
    [start, end) for the people, [start, room_end) for the room (a room's
    cleaning buffer can be longer than the people's), None when nothing is asked."""
    room_end = end if room_end is None else room_end
    held = Q()
    if staff_ids:
        held |= Q(staff_id__in=list(staff_ids), start__lt=end)
    if room_id is not None:
        held |= Q(room_id=room_id, start__lt=room_end)
    if client_id is not None:
        held |= Q(client_id=client_id, start__lt=end)
    if not held:
        return None
    overlapping = Reservation.objects.filter(held, is_live=True, end__gt=start)
    if exclude is not None:
        overlapping = overlapping.exclude(appointment=exclude)
    return overlapping


def calendar_busy(
    *,
    start,
    end,
    staff_ids=(),
    room_id=None,
    client_id=None,
    exclude: Appointment | None = None,
    room_end=None,
) -> bool:
    """Whether any of these resources holds a live reservation overlapping
    [start, end) (the room: [start, room_end) when given)."""
    overlapping = _overlapping(
        start=start,
        end=end,
        staff_ids=staff_ids,
        room_id=room_id,
        client_id=client_id,
        room_end=room_end,
        exclude=exclude,
    )
    return overlapping is not None and overlapping.exists()


def calendar_conflicts(
    *,
    start,
    end,
    staff_ids=(),
    room_id=None,
    client_id=None,
    exclude: Appointment | None = None,
    room_end=None,
) -> list[Reservation]:
    """What calendar_busy finds, to say who or what is busy and when: each
    overlapping reservation with its appointment, person and room, in time order."""
    overlapping = _overlapping(
        start=start,
        end=end,
        staff_ids=staff_ids,
        room_id=room_id,
        client_id=client_id,
        room_end=room_end,
        exclude=exclude,
    )
    if overlapping is None:
        return []
    return list(overlapping.select_related("appointment", "staff", "room").order_by("start", "pk"))


def _reservations(
    appointment: Appointment,
    staff: list[User],
    buffer: timedelta,
    room_buffer: timedelta | None = None,
) -> list[Reservation]:
    # The buffer follows the appointment (time to write notes, reset the room):
    # back-to-back bookings then meet exactly at the buffer's end. A room may
    # have a buffer of its own (cleaning after a dosing session holds the
    # room, not the people, who are free for their next appointment).
    start, end = appointment.start, appointment.end + buffer
    room_end = end if room_buffer is None else appointment.end + room_buffer
    rows = [
        Reservation(appointment=appointment, staff=person, start=start, end=end) for person in staff
    ]
    if appointment.room_id:
        rows.append(
            Reservation(
                appointment=appointment, room_id=appointment.room_id, start=start, end=room_end
            )
        )
    if appointment.client_id:
        rows.append(
            Reservation(
                appointment=appointment,
                client_id=appointment.client_id,
                start=start,
                end=appointment.end,
            )
        )
    return rows


def appointment_book(
    *,
    clinic: Clinic,
    kind: str,
    start: datetime,
    end: datetime,
    staff: list[User],
    client: ClientProfile | None = None,
    room: Room | None = None,
    buffer: timedelta = timedelta(0),
    room_buffer: timedelta | None = None,
    locked: bool = False,
    savepoint: bool = True,
) -> Appointment:
    """Put an appointment on the calendar, or raise CalendarConflict.

    Locks the resources (unless the caller already did, `locked=True`),
    checks that none is busy, and writes the appointment and one reservation
    per resource. `buffer` follows the appointment for the people and the
    room; `room_buffer`, when given, replaces it for the room alone. On
    PostgreSQL an exclusion constraint backs the check; its IntegrityError
    becomes the same CalendarConflict. `savepoint=False` spares the
    savepoint of its own when the caller's savepoint holds the call and is
    rolled back on CalendarConflict (the transaction is unusable until then).
    """
    staff_ids = sorted(person.pk for person in staff)
    try:
        with transaction.atomic(savepoint=savepoint):
            if not locked:
                calendar_lock(
                    staff_ids=staff_ids,
                    room_id=room.pk if room else None,
                    client_id=client.pk if client else None,
                )
            if calendar_busy(
                start=start,
                end=end + buffer,
                staff_ids=staff_ids,
                room_id=room.pk if room else None,
                client_id=client.pk if client else None,
                room_end=end + room_buffer if room_buffer is not None else None,
            ):
                raise CalendarConflict(_(MSG_TIME_TAKEN))
            appointment = Appointment(
                clinic=clinic, kind=kind, start=start, end=end, client=client, room=room
            )
            # The clinic, client and room were handed in as rows and the uuid is
            # fresh: checking that they exist would cost a query each for nothing.
            # The one check constraint is asked here rather than of the database
            # (Django validates a CheckConstraint with a query); the database
            # still enforces it.
            if end <= start:
                raise ValidationError(_ENDS_AFTER_START.get_violation_error_message())
            appointment.full_clean(
                exclude=["clinic", "client", "room"],
                validate_unique=False,
                validate_constraints=False,
            )
            appointment.save()
            Reservation.objects.bulk_create(_reservations(appointment, staff, buffer, room_buffer))
            calendar_changed()
    except IntegrityError as exc:
        raise CalendarConflict(_(MSG_TIME_TAKEN)) from exc
    except OperationalError as exc:
        if not _deadlock(exc):
            raise
        raise CalendarConflict(_(MSG_TIME_TAKEN)) from exc
    return appointment


def appointment_cancel(*, appointment: Appointment, version: int | None = None) -> Appointment:
    """Cancel a booked appointment and free everything it held. With
    `version`, only that version: a cancel from a stale link cannot cancel
    the time it was moved to since."""
    with transaction.atomic():
        booked = Appointment.objects.filter(pk=appointment.pk, status=Appointment.Status.BOOKED)
        if version is not None:
            booked = booked.filter(version=version)
        updated = booked.update(status=Appointment.Status.CANCELLED)
        if updated != 1:
            raise CalendarConflict(_(MSG_ALREADY_CHANGED))
        Reservation.objects.filter(appointment=appointment).update(is_live=False)
        calendar_changed()
    appointment.refresh_from_db()
    return appointment


class _Keep:
    """The appointment keeps its room (appointment_reschedule's default)."""


KEEP_ROOM = _Keep()


def appointment_reschedule(
    *,
    appointment: Appointment,
    start: datetime,
    end: datetime,
    staff: list[User],
    buffer: timedelta = timedelta(0),
    room: Room | None | _Keep = KEEP_ROOM,
    room_buffer: timedelta | None = None,
) -> Appointment:
    """Move a booked appointment to another time (and possibly other staff,
    another room); its version goes up so reminders and links for the old
    time go stale."""
    staff_ids = sorted(person.pk for person in staff)
    room_id = appointment.room_id if isinstance(room, _Keep) else (room.pk if room else None)
    try:
        with transaction.atomic():
            calendar_lock(staff_ids=staff_ids, room_id=room_id, client_id=appointment.client_id)
            current = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if (
                current.status != Appointment.Status.BOOKED
                or current.version != appointment.version
            ):
                raise CalendarConflict(_(MSG_ALREADY_CHANGED))
            if calendar_busy(
                start=start,
                end=end + buffer,
                staff_ids=staff_ids,
                room_id=room_id,
                client_id=current.client_id,
                exclude=current,
                room_end=end + room_buffer if room_buffer is not None else None,
            ):
                raise CalendarConflict(_(MSG_TIME_TAKEN))
            Reservation.objects.filter(appointment=current).delete()
            current.start, current.end, current.version = start, end, current.version + 1
            current.room_id = room_id
            current.full_clean()
            current.save(update_fields=["start", "end", "version", "room"])
            Reservation.objects.bulk_create(_reservations(current, staff, buffer, room_buffer))
            calendar_changed()
    except IntegrityError as exc:
        raise CalendarConflict(_(MSG_TIME_TAKEN)) from exc
    except OperationalError as exc:
        if not _deadlock(exc):
            raise
        raise CalendarConflict(_(MSG_TIME_TAKEN)) from exc
    appointment.refresh_from_db()
    return appointment


# What an appointment that took place, or did not, may be marked as.
MARKS = frozenset({Appointment.Status.HELD, Appointment.Status.NO_SHOW})


def appointment_mark(
    *,
    appointment: Appointment,
    status: str,
    now: datetime,
    was: str = Appointment.Status.BOOKED,
) -> Appointment:
    """Record that a booked appointment took place (held) or that the client
    did not come (no-show), or raise CalendarConflict. `was` is the status
    the caller saw: a mark is recorded once, and a correction (a held call
    that was in fact a no-show) names the status it corrects, so two people
    marking at once cannot silently overwrite each other. The time it held
    stays held: it was spent either way."""
    if status not in MARKS or was not in MARKS | {Appointment.Status.BOOKED}:
        raise ValueError(f"cannot mark an appointment {was} -> {status}")
    if appointment.start > now:
        raise CalendarConflict(_(MSG_NOT_STARTED))
    with transaction.atomic():
        updated = Appointment.objects.filter(pk=appointment.pk, status=was).update(status=status)
        if updated != 1:
            raise CalendarConflict(_(MSG_ALREADY_CHANGED))
    appointment.status = status
    return appointment
