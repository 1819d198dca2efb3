"""Reads for intake booking. Slot generation runs three queries whatever the
number of clinicians, weeks or bookings, then works in memory."""

import bisect
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.db.models import BigIntegerField, Prefetch, Q
from django.db.models.functions import Cast, Extract
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from clinic.formatting import local_when
from clinic.journey import DEFAULT_NEXT_STEPS, NextStep, StageTask, TaskState
from clinic.models import Appointment, AppointmentKind, Clinic, JourneyEvent, Reservation, Stage
from clinic.selectors import staff_clinic_ids

from .models import (
    AvailabilityException,
    AvailabilityWindow,
    BookingRules,
    IntakeCall,
    IntakeCallOutcome,
    InterestRegistration,
)


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    staff_ids: tuple[int, ...]  # who is free to take it, in order of preference
    # The time the person already holds, shown in the grid on the manage page (not free).
    is_current: bool = False

    @property
    def key(self) -> str:
        """The slot as it travels in URLs: its UTC start, to the minute."""
        return self.start.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def parse_slot_key(key: str) -> datetime | None:
    try:
        moment = datetime.strptime(key, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None
    # Years far from now cannot be slots, and would overflow in zone arithmetic.
    return moment if 2000 <= moment.year <= 2100 else None


def booking_rules(clinic: Clinic) -> BookingRules:
    rules = BookingRules.objects.filter(clinic=clinic).first()
    return rules or BookingRules(clinic=clinic)


def clinic_with_rules(*, slug: str) -> tuple[Clinic, BookingRules] | None:
    """A clinic and its booking rules (or the defaults) in one query."""
    clinic = Clinic.objects.select_related("booking_rules").filter(slug=slug).first()
    if clinic is None:
        return None
    return clinic, getattr(clinic, "booking_rules", None) or BookingRules(clinic=clinic)


def booking_blockers(
    *, client_id: int, submission, now: datetime
) -> tuple[IntakeCall | None, IntakeCall | None]:
    """In one query, what stops a client's booking: their call booked by this
    same form (`submission`, sent before), and their upcoming intake call."""
    calls = IntakeCall.objects.filter(appointment__client_id=client_id).filter(
        Q(submission=submission)
        | Q(
            appointment__status=Appointment.Status.BOOKED,
            appointment__kind=AppointmentKind.INTAKE_CALL,
            appointment__start__gt=now,
        )
    )
    sent_before = upcoming = None
    for call in calls.select_related("appointment__clinic"):
        if call.submission == submission:
            sent_before = call
        else:
            upcoming = upcoming or call
    return sent_before, upcoming


class _Busy:
    """Each staff member's busy time as epoch seconds, merged into disjoint
    intervals sorted by start (starts and ends in two lists), so the busy
    intervals meeting a window are found with two bisects."""

    def __init__(self, intervals: dict[int, list[tuple[int, int]]]):
        self.starts: dict[int, list[int]] = {}
        self.ends: dict[int, list[int]] = {}
        for staff_id, items in intervals.items():
            items.sort()
            starts, ends = [items[0][0]], [items[0][1]]
            for s, e in items[1:]:
                # Overlapping or touching: one interval (a slot meets the
                # union exactly when it meets one of the two).
                if s <= ends[-1]:
                    if e > ends[-1]:
                        ends[-1] = e
                else:
                    starts.append(s)
                    ends.append(e)
            self.starts[staff_id], self.ends[staff_id] = starts, ends

    def taken(
        self, staff_id: int, starts: list[int], lo: int, hi: int, held_s: int
    ) -> Iterator[tuple[int, int]]:
        """The index ranges [i, j) of `starts[lo:hi]` (sorted epoch seconds)
        at which `staff_id` is not free for `held_s` seconds."""
        busy_starts = self.starts.get(staff_id)
        if not busy_starts:
            return
        busy_ends = self.ends[staff_id]
        # The busy intervals that end after the first start and begin before the last one's end.
        first = bisect.bisect_right(busy_ends, starts[lo])
        last = bisect.bisect_left(busy_starts, starts[hi - 1] + held_s, first)
        for k in range(first, last):
            # A start s is taken when s < busy end and s + held_s > busy start.
            i = bisect.bisect_right(starts, busy_starts[k] - held_s, lo, hi)
            j = bisect.bisect_left(starts, busy_ends[k], i, hi)
            if i < j:
                yield i, j
                lo = j


def _epochs(queryset, *fields):
    """(staff_id, start, end) rows with the times as epoch seconds. On
    PostgreSQL the database does the conversion, which spares parsing a
    thousand timestamps in Python."""
    if connection.vendor == "postgresql":
        annotated = queryset.annotate(
            _s=Cast(Extract("start", "epoch"), BigIntegerField()),
            _e=Cast(Extract("end", "epoch"), BigIntegerField()),
        )
        return annotated.values_list(*fields, "_s", "_e")
    return [
        (*rest, int(s.timestamp()), int(e.timestamp()))
        for *rest, s, e in queryset.values_list(*fields, "start", "end")
    ]


def _busy_map(clinic: Clinic, staff_ids: set[int], first: datetime, last: datetime) -> _Busy:
    """Bookings and closures in one read (two on SQLite): a closure of the
    whole clinic (no staff member) holds every clinician."""
    intervals: dict[int, list[tuple[int, int]]] = defaultdict(list)
    reservations = Reservation.objects.filter(
        is_live=True, staff_id__in=staff_ids, start__lt=last, end__gt=first
    )
    closures = AvailabilityException.objects.filter(
        clinic=clinic, start__lt=last, end__gt=first
    ).filter(Q(staff__isnull=True) | Q(staff_id__in=staff_ids))
    booked, closed = _epochs(reservations, "staff_id"), _epochs(closures, "staff_id")
    rows = (
        booked.union(closed, all=True) if connection.vendor == "postgresql" else [*booked, *closed]
    )
    for staff_id, start, end in rows:
        for person in [staff_id] if staff_id else staff_ids:
            intervals[person].append((start, end))
    return _Busy(intervals)


def _window_starts(day: date, start_time: time, end_time: time, zone, call_s: int) -> list[int]:
    """The epoch seconds at which calls can start in one local window."""
    window_start = datetime.combine(day, start_time, tzinfo=zone)
    window_end = datetime.combine(day, end_time, tzinfo=zone)
    if window_start.utcoffset() == window_end.utcoffset():
        # No clock change inside the window (every day but two a year): plain arithmetic.
        first = int(window_start.timestamp())
        span = int(window_end.timestamp()) - first
        return [first + k * call_s for k in range(span // call_s)] if span >= call_s else []
    starts = []
    local = window_start
    step = timedelta(seconds=call_s)
    while local + step <= window_end:
        moment = local.astimezone(UTC)
        # A wall-clock time in the spring-forward gap does not exist.
        if moment.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
            starts.append(int(moment.timestamp()))
        local += step
    return starts


def intake_slots(
    *,
    clinic: Clinic,
    now: datetime | None = None,
    first_day: date | None = None,
    days: int | None = None,
    rules: BookingRules | None = None,
) -> dict[date, list[Slot]]:
    """Free intake-call slots by local day, from the clinic's availability
    minus time off, closures and existing bookings (with their buffers), within
    the minimum notice and the booking horizon.

    Local windows are laid on each calendar day in the clinic's zone, so a
    9:00 window stays at 9:00 local across a daylight-saving change; a slot
    falling in the hour skipped in spring does not exist and is left out.
    """
    now = now or timezone.now()
    rules = rules or booking_rules(clinic)
    zone = clinic.zone
    earliest = int((now + timedelta(hours=rules.minimum_notice_hours)).timestamp())
    latest_moment = now + timedelta(days=rules.horizon_days)
    latest = int(latest_moment.timestamp())
    call_s = rules.call_minutes * 60
    held_s = call_s + rules.buffer_minutes * 60

    today = now.astimezone(zone).date()
    start_day = max(first_day or today, today)
    last_day = latest_moment.astimezone(zone).date()
    if days is not None:
        last_day = min(last_day, start_day + timedelta(days=days - 1))
    if start_day > last_day:
        return {}

    windows = list(
        AvailabilityWindow.objects.filter(clinic=clinic, staff__is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=start_day))
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=last_day))
        .values_list("staff_id", "weekday", "start_time", "end_time", "valid_from", "valid_until")
    )
    if not windows:
        return {}
    staff_ids = {w[0] for w in windows}
    range_start = datetime.combine(start_day, time.min, tzinfo=zone)
    range_end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
    busy = _busy_map(
        clinic, staff_ids, range_start - timedelta(days=1), range_end + timedelta(days=1)
    )

    # Clinicians mostly share their hours: the starts of each day's windows
    # are laid out once for all who work them, everyone is free at each
    # start but for the few times their bookings and closures take, and a
    # start's clinicians come out in order of preference (by id).
    by_weekday: dict[int, list[tuple]] = defaultdict(list)
    for window in sorted(windows, key=lambda w: w[0]):
        by_weekday[window[1]].append(window)

    result: dict[date, list[Slot]] = {}
    call = timedelta(seconds=call_s)
    day = start_day
    while day <= last_day:
        teams: dict[tuple[time, time], list[int]] = defaultdict(list)
        for staff_id, _weekday, start_time, end_time, valid_from, valid_until in by_weekday.get(
            day.weekday(), ()
        ):
            if (valid_from and day < valid_from) or (valid_until and day > valid_until):
                continue
            teams[(start_time, end_time)].append(staff_id)
        free_at: dict[int, tuple[int, ...]] = {}
        for (start_time, end_time), members in teams.items():
            starts = _window_starts(day, start_time, end_time, zone, call_s)
            lo, hi = bisect.bisect_left(starts, earliest), bisect.bisect_right(starts, latest)
            if lo >= hi:
                continue
            taken: dict[int, set[int]] = {}
            for staff_id in members:
                for i, j in busy.taken(staff_id, starts, lo, hi, held_s):
                    for index in range(i, j):
                        taken.setdefault(index, set()).add(staff_id)
            team = tuple(dict.fromkeys(members))  # a window entered twice counts once
            for index in range(lo, hi):
                out = taken.get(index)
                ids = team if out is None else tuple(s for s in team if s not in out)
                if ids:
                    ts = starts[index]
                    # Two teams' windows may share a start: their clinicians join, in order.
                    free_at[ts] = tuple(sorted({*free_at[ts], *ids})) if ts in free_at else ids
        if free_at:
            slots = []
            for ts in sorted(free_at):
                moment = datetime.fromtimestamp(ts, UTC)
                slots.append(Slot(moment, moment + call, free_at[ts]))
            result[day] = slots
        day += timedelta(days=1)
    return result


def slot_week(
    *,
    clinic: Clinic,
    asked: date | None,
    now: datetime | None = None,
    current: Appointment | None = None,
) -> dict:
    """A week of free slots for the booking page: the week asked for, kept
    between today and the booking horizon, with the weeks either side when
    they hold bookable days. With `current` (the manage page), the time that
    appointment holds is placed among the free ones, marked as the current one."""
    now = now or timezone.now()
    rules = booking_rules(clinic)
    today = now.astimezone(clinic.zone).date()
    last_day = (now + timedelta(days=rules.horizon_days)).astimezone(clinic.zone).date()
    start = min(max(asked or today, today), last_day)
    slots = intake_slots(clinic=clinic, now=now, first_day=start, days=7, rules=rules)
    if current is not None:
        held = Slot(current.start, current.end, (), is_current=True)
        held_day = current.start.astimezone(clinic.zone).date()
        if start <= held_day < start + timedelta(days=7):
            slots[held_day] = sorted([*slots.get(held_day, []), held], key=lambda s: s.start)
    days = [(start + timedelta(days=i), slots.get(start + timedelta(days=i), [])) for i in range(7)]
    week = timedelta(days=7)
    return {
        "days": days,
        "week_start": start,
        "previous_week": start - week if start > today else None,
        "next_week": start + week if start + week <= last_day else None,
        "has_slots": any(not s.is_current for _day, day_slots in days for s in day_slots),
        "rules": rules,
    }


def intake_slot_at(
    *,
    clinic: Clinic,
    start: datetime,
    now: datetime | None = None,
    rules: BookingRules | None = None,
) -> Slot | None:
    """The free slot starting exactly at `start`, or None (taken, outside
    availability, too soon, too far, or not a slot boundary)."""
    day = start.astimezone(clinic.zone).date()
    for slot in intake_slots(clinic=clinic, now=now, first_day=day, days=1, rules=rules).get(
        day, []
    ):
        if slot.start == start:
            return slot
    return None


def upcoming_intake_call(*, client_id: int, now: datetime | None = None) -> IntakeCall | None:
    return (
        IntakeCall.objects.filter(
            appointment__client_id=client_id,
            appointment__status=Appointment.Status.BOOKED,
            appointment__kind=AppointmentKind.INTAKE_CALL,
            appointment__start__gt=now or timezone.now(),
        )
        .select_related("appointment__clinic")
        .first()
    )


def staff_day_calls(*, clinic: Clinic, day: date) -> list[IntakeCall]:
    """A clinic's intake calls on one local day, with their clinician and client."""
    zone = clinic.zone
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    # Led by the day's intake-call appointments (their kind named: a call's
    # appointment is always one), each call is then one lookup by its unique
    # appointment. Without the kind, the planner guesses that most of the
    # day's appointments have a call and reads every call ever booked (a hash
    # join over a sequential scan of the calls).
    return list(
        IntakeCall.objects.filter(
            appointment__clinic=clinic,
            appointment__kind=AppointmentKind.INTAKE_CALL,
            appointment__start__gte=start,
            appointment__start__lt=end,
        )
        .select_related("appointment", "course__client__user")
        .prefetch_related("appointment__staff")
        .order_by("appointment__start")
    )


def staff_intake_day(*, user, clinic_slug: str | None, day: date | None) -> dict | None:
    """A staff member's day of intake calls: at the clinic asked for when it
    is one of theirs, else their first; on the day asked for, else today
    there. None when they work at no clinic."""
    clinics = list(Clinic.objects.filter(pk__in=staff_clinic_ids(user=user)))
    if not clinics:
        return None
    clinic = next((c for c in clinics if c.slug == clinic_slug), clinics[0])
    today = timezone.localdate(timezone=clinic.zone)
    if day is None or abs((day - today).days) > 3650:  # ten years either way: a typo
        day = today
    return {
        "clinic": clinic,
        "clinics": clinics,
        "day": day,
        "calls": staff_day_calls(clinic=clinic, day=day),
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
    }


def staff_day_url(appointment: Appointment) -> str:
    """The staff page of the clinic's intake calls on the appointment's local day."""
    clinic = appointment.clinic
    day = timezone.localtime(appointment.start, clinic.zone).date()
    return f"{reverse('intake:staff_day')}?{urlencode({'clinic': clinic.slug, 'day': day.isoformat()})}"


def staff_intake_call(*, user, call_uuid) -> IntakeCall | None:
    return (
        IntakeCall.objects.filter(
            uuid=call_uuid, appointment__clinic_id__in=staff_clinic_ids(user=user)
        )
        .select_related("appointment__clinic", "course__client__user")
        .first()
    )


def connect_tasks(course) -> list[StageTask]:
    """The intake call's part of connect, as the client reads it in the
    portal: to book, booked (with the link to change it), or held. Two queries."""
    # services imports this module: the one import that has to wait.
    from .services import manage_token

    label = _("Intake call")
    held = (
        IntakeCall.objects.filter(course=course, appointment__status=Appointment.Status.HELD)
        .select_related("appointment__clinic")
        .order_by("-appointment__start")
        .first()
    )
    if held is not None:
        day = timezone.localtime(held.appointment.start, held.appointment.clinic.zone)
        return [
            StageTask(
                label,
                _("Held on %(day)s") % {"day": date_format(day, "DATE_FORMAT")},
                TaskState.DONE,
            )
        ]
    call = upcoming_intake_call(client_id=course.client_id)
    if call is not None:
        when = {
            "when": local_when(call.appointment.start, call.appointment.clinic),
            "clinic": call.appointment.clinic.name,
        }
        return [
            StageTask(
                label,
                _("Booked for %(when)s (%(clinic)s time)") % when,
                TaskState.WAITING,
                NextStep(
                    _("Your intake call is booked"),
                    _("We will call you on %(when)s (%(clinic)s time).") % when,
                    reverse("intake:manage", args=[manage_token(call)]),
                    _("Change or cancel"),
                ),
                urgency=40,
            )
        ]
    return [
        StageTask(
            label,
            _("Not booked yet"),
            TaskState.TODO,
            DEFAULT_NEXT_STEPS[Stage.CONNECT],
            urgency=20,
        )
    ]


def has_held_intake_call(course, *, other_than: IntakeCall | None = None) -> bool:
    """Whether an intake call of the course took place (`other_than` one):
    a condition for leaving connect."""
    calls = IntakeCall.objects.filter(course=course, appointment__status=Appointment.Status.HELD)
    if other_than is not None:
        calls = calls.exclude(pk=other_than.pk)
    return calls.exists()


# Stages a course reaches only through the connect -> prepare gate.
PAST_CONNECT = frozenset({Stage.PREPARE, Stage.DOSING, Stage.INTEGRATE, Stage.RECONNECT})


def course_left_connect(course) -> bool:
    """Whether the course went through the connect -> prepare gate: it is in
    prepare or later, on hold from there, or ended (withdrawn) after it. The
    journey has no step back, so what let it through stays spent."""
    if course.stage in PAST_CONNECT or course.stage_before_hold in PAST_CONNECT:
        return True
    if course.stage != Stage.WITHDRAWN:
        return False
    return JourneyEvent.objects.filter(course=course, to_stage=Stage.PREPARE).exists()


def intake_call_outcomes(call) -> list[IntakeCallOutcome]:
    """The call's outcome records in the order they were made: the first
    record, then each correction. The last one is the current outcome."""
    return list(IntakeCallOutcome.objects.filter(call=call).select_related("by").order_by("pk"))


def current_outcome(call) -> IntakeCallOutcome | None:
    """The record no correction replaced (the chain's end), or None."""
    return (
        IntakeCallOutcome.objects.filter(call=call, correction__isnull=True)
        .select_related("by")
        .first()
    )


def client_export(client) -> list[dict]:
    """The client's intake calls, for their own data export: each with its
    outcome and every correction of it (when, what, the notes, and why)."""
    calls = (
        IntakeCall.objects.filter(course__client=client)
        .select_related("appointment__clinic")
        .prefetch_related(Prefetch("outcomes", queryset=IntakeCallOutcome.objects.order_by("pk")))
        .order_by("appointment__start")
    )
    return [
        {
            "start": call.appointment.start.isoformat(),
            "clinic": call.appointment.clinic.name,
            "status": call.appointment.status,
            "concern": call.concern,
            "language": call.language,
            "phone": call.phone,
            "consent_to_contact": call.consent_to_contact,
            "booked_at": call.created_at.isoformat(),
            "outcomes": [
                {
                    "recorded_at": record.at.isoformat(),
                    "outcome": record.outcome,
                    "notes": record.notes,
                    "correction_reason": record.reason if record.corrects_id else None,
                }
                for record in call.outcomes.all()
            ],
        }
        for call in calls
    ]


def interest_contacts(*, concern: str, clinic: Clinic | None = None) -> list[InterestRegistration]:
    """The people to write to when a program opens: confirmed registrations
    only (double opt-in), for this clinic or either clinic."""
    registrations = InterestRegistration.objects.confirmed().filter(concern=concern)
    if clinic is not None:
        registrations = registrations.filter(Q(clinic=clinic) | Q(clinic__isnull=True))
    return list(registrations.order_by("confirmed_at", "pk"))
