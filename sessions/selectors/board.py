"""Reads of the room board and of scheduling: a clinic's rooms over a day or
a week, who may be booked for what, and what is busy when. Each read has a
fixed number of queries whatever the number of rooms and bookings."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from math import ceil
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from clinic.formatting import choice_label
from clinic.models import (
    Appointment,
    AppointmentKind,
    Clinic,
    Course,
    Reservation,
    Room,
    StaffProfile,
    StaffRole,
    Stage,
    User,
)
from clinic.selectors import staff_clinic_ids, staff_clinics

from ..models import DosingSeries, DosingSession

# One read of a clinic's settings for the whole app (prepare's).
from .prepare import dosing_settings  # noqa: F401  (scheduling and its e-mails read it here)

# Which appointments the board books, and the stages a client's course may be
# in for each. Dosing sessions: dosing only (the clinic's protocol; the gate
# into dosing checks consent and the medical assessment). Assessments and
# preparatory sessions: prepare, and dosing too, because a session deferred
# for blood pressure needs a medical re-assessment, and a client may need
# another preparatory session between two doses. Not later: integration
# sessions are their own kind, booked by the integrate stage.
BOOKABLE_STAGES: dict[str, tuple[str, ...]] = {
    AppointmentKind.DOSING_SESSION: (Stage.DOSING,),
    AppointmentKind.MEDICAL_ASSESSMENT: (Stage.PREPARE, Stage.DOSING),
    AppointmentKind.PREPARATORY_SESSION: (Stage.PREPARE, Stage.DOSING),
}
# The staff role each kind needs (a dosing session needs both).
KIND_ROLES: dict[str, tuple[str, ...]] = {
    AppointmentKind.DOSING_SESSION: (StaffRole.THERAPIST, StaffRole.MEDICAL_PRACTITIONER),
    AppointmentKind.MEDICAL_ASSESSMENT: (StaffRole.MEDICAL_PRACTITIONER,),
    AppointmentKind.PREPARATORY_SESSION: (StaffRole.THERAPIST,),
}

# The board's time axis: quarter-hour columns, 7:00 to 21:00 unless a
# booking reaches outside; free time offered in half-hours.
COLUMN_MINUTES = 15
CELL_MINUTES = 30
DAY_OPENS = time(7)
DAY_CLOSES = time(21)


def local_days_apart(a: datetime, b: datetime, zone) -> int:
    """Days between two moments counted on the clinic's calendar (its local
    dates), so a series at 9:00 every fifth day stays five days apart across
    a change to or from daylight saving time (a 23- or 25-hour day)."""
    return abs((timezone.localtime(b, zone).date() - timezone.localtime(a, zone).date()).days)


def counting_sessions(series: DosingSeries, *, exclude: Appointment | None = None):
    """The sessions of a series that count towards it: booked or held, not
    deferred (a deferred session gave no dose: its place is booked again)."""
    sessions = DosingSession.objects.filter(
        series=series,
        appointment__status__in=[Appointment.Status.BOOKED, Appointment.Status.HELD],
    ).exclude(outcome=DosingSession.Outcome.DEFERRED)
    if exclude is not None:
        sessions = sessions.exclude(appointment=exclude)
    return sessions.select_related("appointment").order_by("appointment__start")


# --- Who and what can be booked ------------------------------------------------------------


def board_clinics(*, user: User, clinic_slug: str | None) -> tuple[Clinic, list[Clinic]] | None:
    """The clinic asked for when the person works there, else their first;
    with the list of their clinics. None when they work at none."""
    clinics = list(staff_clinics(user=user).order_by("name"))
    if not clinics:
        return None
    return next((c for c in clinics if c.slug == clinic_slug), clinics[0]), clinics


def clinic_rooms(*, clinic: Clinic) -> QuerySet[Room]:
    """The clinic's rooms in use, dosing rooms first."""
    return Room.objects.filter(clinic=clinic, is_active=True).order_by("-is_dosing_room", "name")


def clinic_staff(*, clinic: Clinic, role: str) -> QuerySet[User]:
    """The active staff of this clinic in this role, by name."""
    return (
        User.objects.filter(is_active=True, staff_profile__role=role, staff_profile__clinics=clinic)
        .select_related("staff_profile")
        .order_by("last_name", "first_name", "pk")
    )


def bookable_courses(*, clinic: Clinic, kind: str) -> QuerySet[Course]:
    """The clinic's courses whose stage lets this kind be booked."""
    return (
        Course.objects.filter(clinic=clinic, stage__in=BOOKABLE_STAGES.get(kind, ()))
        .select_related("client__user")
        .order_by("client__user__last_name", "client__user__first_name", "pk")
    )


def bookable_clients(
    *, clinic: Clinic, kind: str, query: str = "", limit: int = 30
) -> list[Course]:
    """The courses a search shows: name or e-mail containing every word typed."""
    courses = bookable_courses(clinic=clinic, kind=kind)
    for word in query.split()[:4]:
        courses = courses.filter(
            Q(client__user__first_name__icontains=word)
            | Q(client__user__last_name__icontains=word)
            | Q(client__user__email__icontains=word)
        )
    return list(courses[:limit])


def client_series(*, course: Course) -> tuple[DosingSeries | None, int]:
    """The course's series (if planned) and how many of its sessions count."""
    series = DosingSeries.objects.filter(course=course).first()
    if series is None:
        return None, 0
    return series, counting_sessions(series).count()


def initials(user: User) -> str:
    """What the board shows of a client: initials only (who, not what)."""
    letters = [part[:1].upper() for part in (user.first_name, user.last_name) if part]
    return " ".join(f"{letter}." for letter in letters) or "—"


# --- What is busy, in words ------------------------------------------------------------------


def _span(reservation: Reservation, zone) -> str:
    start = timezone.localtime(reservation.start, zone)
    end = timezone.localtime(reservation.end, zone)
    # "9:00 a.m.–12:30 p.m." / "de 9 h 00 à 12 h 30"
    return _("%(start)s–%(end)s") % {
        "start": time_format(start, "TIME_FORMAT"),
        "end": time_format(end, "TIME_FORMAT"),
    }


def busy_descriptions(conflicts: list[Reservation], clinic: Clinic) -> list[str]:
    """One sentence per busy resource: who or what, when, and doing what.
    The client's other appointment is named by its kind only."""
    zone = clinic.zone
    sentences = []
    for reservation in conflicts:
        values = {
            "span": _span(reservation, zone),
            "kind": reservation.appointment.get_kind_display().lower(),
        }
        if reservation.room is not None:
            sentences.append(
                _("%(room)s is taken %(span)s (%(kind)s, cleaning included)")
                % {**values, "room": reservation.room.name}
            )
        elif reservation.staff_id:
            sentences.append(
                _("%(person)s is busy %(span)s (%(kind)s)")
                % {**values, "person": reservation.staff}
            )
        else:
            sentences.append(_("the client has another appointment %(span)s (%(kind)s)") % values)
    return sentences


# --- The board ---------------------------------------------------------------------------


@dataclass
class Block:
    """A booking in a room: the appointment and where it sits on the axis."""

    appointment: Appointment
    start: datetime  # local
    end: datetime  # local
    buffer_end: datetime | None  # local end of the room's cleaning, when it has one
    column: int
    span: int
    buffer_span: int
    initials: str
    staff: list[User]

    is_free = False

    @cached_property
    def kind_label(self) -> str:
        return choice_label(Appointment, "kind", self.appointment.kind)

    # Formatted once here rather than through filters in the template: the
    # day view shows each booking twice (the grid and the list).
    @cached_property
    def times(self) -> str:
        return f"{_clock(self.start)}–{_clock(self.end)}"

    @cached_property
    def buffer_until(self) -> str:
        return _clock(self.buffer_end) if self.buffer_end else ""

    @cached_property
    def staff_names(self) -> str:
        return ", ".join(person.get_full_name() or person.email for person in self.staff)


@dataclass
class FreeCell:
    start: datetime  # local
    column: int
    span: int
    bookable: bool  # ahead of now

    @cached_property
    def query(self) -> str:
        """The booking form's day and time for this cell."""
        return f"date={self.start:%Y-%m-%d}&time={self.start:%H:%M}"

    @cached_property
    def clock(self) -> str:
        return _clock(self.start)


@dataclass
class FreeRange:
    start: datetime  # local
    end: datetime  # local
    bookable_from: datetime | None  # local first half-hour still ahead, if any
    is_free = True

    @cached_property
    def times(self) -> str:
        return f"{_clock(self.start)}–{_clock(self.end)}"

    @cached_property
    def query(self) -> str:
        moment = self.bookable_from
        return f"date={moment:%Y-%m-%d}&time={moment:%H:%M}" if moment else ""

    @cached_property
    def clock(self) -> str:
        return _clock(self.bookable_from) if self.bookable_from else ""


def _clock(moment: datetime) -> str:
    """A local time as the person's language writes it: 9:30 a.m., 9 h 30.
    A day's board writes a few dozen distinct times some two hundred times
    (cells, blocks, the list): each is formatted once per language."""
    return _clock_at(get_language(), moment.hour, moment.minute)


@lru_cache(maxsize=4096)
def _clock_at(language: str | None, hour: int, minute: int) -> str:
    # The clinic formats' TIME_FORMAT reads the wall clock's hour and
    # minute only (no seconds, no zone): the time alone gives the same text.
    return time_format(time(hour, minute), "TIME_FORMAT")


@dataclass
class RoomRow:
    room: Room
    blocks: list[Block] = field(default_factory=list)
    cells: list[FreeCell] = field(default_factory=list)
    # The list view (small screens, the printed day sheet): blocks and free
    # ranges in time order.
    items: list[Block | FreeRange] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """What a free cell of this room proposes to book."""
        if self.room.is_dosing_room:
            return AppointmentKind.DOSING_SESSION
        return AppointmentKind.PREPARATORY_SESSION

    @property
    def room_id(self) -> str:
        return str(self.room.pk)


@dataclass
class Tick:
    label: str
    column: int


@dataclass
class BoardDay:
    clinic: Clinic
    day: date
    rows: list[RoomRow]
    ticks: list[Tick]
    columns: int
    previous_day: date
    next_day: date
    week_start: date

    @property
    def appointments(self) -> list[Appointment]:
        return [block.appointment for row in self.rows for block in row.blocks]


def _day_bounds(day: date, zone) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def _room_reservations(
    *, rooms: list[Room], start: datetime, end: datetime
) -> tuple[list[Reservation], dict[int, list[User]]]:
    """The rooms' live reservations overlapping [start, end), each with its
    appointment and client, and each appointment's staff (by appointment
    id): two queries whatever their number. Only the columns the board
    shows are read: of the client, the name (the board shows initials,
    never the profile's health data), of the staff, the names and e-mail;
    thirty bookings' unused columns made into model fields were a tenth of
    the page's time (issue 15)."""
    reservations = list(
        Reservation.objects.filter(
            room_id__in=[room.pk for room in rooms], is_live=True, start__lt=end, end__gt=start
        )
        .select_related("appointment__client__user")
        .only(
            "appointment_id",
            "room_id",
            "start",
            "end",
            *(f"appointment__{name}" for name in BOARD_APPOINTMENT_FIELDS),
            "appointment__client__user__first_name",
            "appointment__client__user__last_name",
        )
        .order_by("start", "pk")
    )
    # The appointments' staff (Appointment.staff, through their
    # reservations) read as prefetch_related("appointment__staff") reads
    # them, without its related manager and queryset per appointment.
    staff: dict[int, list[User]] = {r.appointment_id: [] for r in reservations}
    if staff:
        for held in (
            Reservation.objects.filter(appointment_id__in=list(staff), staff__isnull=False)
            .select_related("staff")
            .only("appointment_id", *(f"staff__{name}" for name in BOARD_STAFF_FIELDS))
        ):
            if held.staff is not None:  # always, by the filter: for the type checker
                staff[held.appointment_id].append(held.staff)
    return reservations, staff


# What the board (its blocks, its list, the access log of what it shows) reads
# of a booking and of its staff.
BOARD_APPOINTMENT_FIELDS = ("uuid", "clinic_id", "kind", "start", "end", "status", "client_id")
BOARD_STAFF_FIELDS = ("first_name", "last_name", "email")


def _minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def _block(reservation: Reservation, opens: datetime, zone, staff: list[User]) -> Block:
    appointment = reservation.appointment
    start = max(appointment.start, opens)
    column = 1 + int(_minutes(opens, start) // COLUMN_MINUTES)
    end_column = 1 + ceil(_minutes(opens, appointment.end) / COLUMN_MINUTES)
    buffer_end = reservation.end if reservation.end > appointment.end else None
    buffer_column = (
        1 + ceil(_minutes(opens, reservation.end) / COLUMN_MINUTES) if buffer_end else end_column
    )
    client = appointment.client
    return Block(
        appointment=appointment,
        start=timezone.localtime(appointment.start, zone),
        end=timezone.localtime(appointment.end, zone),
        buffer_end=timezone.localtime(buffer_end, zone) if buffer_end else None,
        column=column,
        span=max(1, end_column - column),
        buffer_span=max(0, buffer_column - max(end_column, column + 1)),
        initials=initials(client.user) if client else "",
        staff=sorted(staff, key=lambda u: (u.last_name, u.first_name, u.pk)),
    )


def room_day(*, clinic: Clinic, day: date, now: datetime | None = None) -> BoardDay:
    """The clinic's rooms as rows over one local day: each booking a block
    (with the room's cleaning after it), and the free half-hours between."""
    now = now or timezone.now()
    zone = clinic.zone
    rooms = list(clinic_rooms(clinic=clinic))
    day_start, day_end = _day_bounds(day, zone)
    reservations, staff = _room_reservations(rooms=rooms, start=day_start, end=day_end)

    # The axis: opening to closing, stretched to whole hours around any
    # booking outside them, never beyond the day.
    opens = datetime.combine(day, DAY_OPENS, tzinfo=zone)
    closes = datetime.combine(day, DAY_CLOSES, tzinfo=zone)
    for reservation in reservations:
        opens = min(opens, max(day_start, reservation.start))
        closes = max(closes, min(day_end, reservation.end))
    opens = timezone.localtime(opens, zone).replace(minute=0, second=0, microsecond=0)
    local_close = timezone.localtime(closes, zone)
    if (local_close.minute, local_close.second, local_close.microsecond) != (0, 0, 0):
        top_of_hour = local_close.replace(minute=0, second=0, microsecond=0)
        closes = min(day_end, top_of_hour + timedelta(hours=1))
    columns = ceil(_minutes(opens, closes) / COLUMN_MINUTES)

    ticks = []
    moment = opens
    while moment < closes:
        local = timezone.localtime(moment, zone)
        ticks.append(
            Tick(
                _clock(local),
                1 + int(_minutes(opens, moment) // COLUMN_MINUTES),
            )
        )
        moment += timedelta(hours=1)

    by_room: dict[int | None, list[Reservation]] = {room.pk: [] for room in rooms}
    for reservation in reservations:
        by_room[reservation.room_id].append(reservation)

    rows = []
    for room in rooms:
        row = RoomRow(room=room)
        held = by_room[room.pk]
        row.blocks = [
            _block(reservation, opens, zone, staff[reservation.appointment_id])
            for reservation in held
        ]
        cell = opens
        free_start: datetime | None = None
        bookable_from: datetime | None = None
        timeline: list[tuple[datetime, Block | FreeRange]] = [
            (block.appointment.start, block) for block in row.blocks
        ]
        while cell < closes:
            cell_end = cell + timedelta(minutes=CELL_MINUTES)
            busy = any(r.start < cell_end and r.end > cell for r in held)
            if not busy:
                row.cells.append(
                    FreeCell(
                        start=timezone.localtime(cell, zone),
                        column=1 + int(_minutes(opens, cell) // COLUMN_MINUTES),
                        span=CELL_MINUTES // COLUMN_MINUTES,
                        bookable=cell >= now,
                    )
                )
                if free_start is None:
                    free_start = cell
                if bookable_from is None and cell >= now:
                    bookable_from = cell
            if (busy or cell_end >= closes) and free_start is not None:
                end = cell if busy else cell_end
                timeline.append(
                    (
                        free_start,
                        FreeRange(
                            start=timezone.localtime(free_start, zone),
                            end=timezone.localtime(end, zone),
                            bookable_from=timezone.localtime(bookable_from, zone)
                            if bookable_from
                            else None,
                        ),
                    )
                )
                free_start = bookable_from = None
            cell = cell_end
        row.items = [item for _moment, item in sorted(timeline, key=lambda pair: pair[0])]
        rows.append(row)
    return BoardDay(
        clinic=clinic,
        day=day,
        rows=rows,
        ticks=ticks,
        columns=columns,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        week_start=day - timedelta(days=day.weekday()),
    )


@dataclass
class WeekCell:
    day: date
    blocks: list[Block]


@dataclass
class WeekRow:
    room: Room
    cells: list[WeekCell]

    @property
    def has_blocks(self) -> bool:
        return any(cell.blocks for cell in self.cells)


@dataclass
class BoardWeek:
    clinic: Clinic
    week_start: date
    days: list[date]
    rows: list[WeekRow]
    previous_week: date
    next_week: date

    @property
    def appointments(self) -> list[Appointment]:
        return [block.appointment for row in self.rows for c in row.cells for block in c.blocks]


def room_week(*, clinic: Clinic, week_start: date) -> BoardWeek:
    """The clinic's rooms over the seven days from Monday `week_start`: each
    day's bookings in each room, in time order."""
    zone = clinic.zone
    rooms = list(clinic_rooms(clinic=clinic))
    days = [week_start + timedelta(days=i) for i in range(7)]
    start, _first_end = _day_bounds(days[0], zone)
    _last_start, end = _day_bounds(days[-1], zone)
    reservations, staff = _room_reservations(rooms=rooms, start=start, end=end)
    cells: dict[tuple[int | None, date], list[Block]] = {}
    for reservation in reservations:
        day = timezone.localtime(reservation.appointment.start, zone).date()
        opens, _closes = _day_bounds(day, zone)
        cells.setdefault((reservation.room_id, day), []).append(
            _block(reservation, opens, zone, staff[reservation.appointment_id])
        )
    rows = [
        WeekRow(room=room, cells=[WeekCell(day, cells.get((room.pk, day), [])) for day in days])
        for room in rooms
    ]
    return BoardWeek(
        clinic=clinic,
        week_start=week_start,
        days=days,
        rows=rows,
        previous_week=week_start - timedelta(days=7),
        next_week=week_start + timedelta(days=7),
    )


def board_url(clinic: Clinic, day: date) -> str:
    return f"{reverse('dosing:board')}?{urlencode({'clinic': clinic.slug, 'day': day.isoformat()})}"


def board_appointment(*, user: User, appointment_uuid) -> Appointment | None:
    """A booking the board shows, at one of the person's clinics, with its
    room, client, staff and the prepare or dosing row that points to it."""
    return (
        Appointment.objects.filter(uuid=appointment_uuid, clinic_id__in=staff_clinic_ids(user=user))
        .select_related(
            "clinic", "room", "client__user", "preparation__course", "dosing_session__series"
        )
        .prefetch_related("staff__staff_profile")
        .first()
    )


def staff_roles(users) -> dict[int, str]:
    """Each staff member's role, from profiles already read."""
    roles = {}
    for user in users:
        profile: StaffProfile | None = getattr(user, "staff_profile", None)
        if profile is not None:
            roles[user.pk] = profile.role
    return roles
