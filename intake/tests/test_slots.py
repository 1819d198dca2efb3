"""Slot generation: availability minus bookings, time off and closures,
within notice and horizon, in the clinic's local time across DST changes."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from clinic.calendar import appointment_book
from clinic.models import AppointmentKind
from clinic.tests.factories import client_create, staff_create
from intake.models import AvailabilityException, AvailabilityWindow
from intake.selectors import intake_slot_at, intake_slots, parse_slot_key
from intake.tests.conftest import MTL, NOW
from intake.tests.factories import rules, weekly_availability


def local_times(slots, day):
    return [s.start.astimezone(MTL).strftime("%H:%M") for s in slots.get(day, [])]


def test_a_day_of_availability_gives_one_slot_per_call_length(intake_clinic):
    now = NOW - timedelta(days=3)
    slots = intake_slots(clinic=intake_clinic, now=now, first_day=date(2026, 6, 1), days=1)
    times = local_times(slots, date(2026, 6, 1))
    assert times[0] == "09:00" and times[-1] == "16:30"
    assert len(times) == 16


def test_the_minimum_notice_and_the_horizon_bound_the_slots(intake_clinic):
    now = NOW.replace(hour=12)  # Monday noon: nothing before Tuesday noon
    slots = intake_slots(clinic=intake_clinic, now=now)
    first = min(s.start for day in slots.values() for s in day)
    last = max(s.start for day in slots.values() for s in day)
    assert first == datetime(2026, 6, 2, 12, 0, tzinfo=MTL)
    assert last <= now + timedelta(days=42)
    assert last.date() >= (now + timedelta(days=41)).date()


def test_a_booking_takes_its_slot_and_its_buffer(intake_clinic, therapist, client_a):
    now = NOW - timedelta(days=3)
    start = datetime(2026, 6, 1, 10, 0, tzinfo=MTL)
    appointment_book(
        clinic=intake_clinic,
        kind=AppointmentKind.INTAKE_CALL,
        start=start,
        end=start + timedelta(minutes=30),
        staff=[therapist],
        client=client_a,
        buffer=timedelta(minutes=10),
    )
    times = local_times(
        intake_slots(clinic=intake_clinic, now=now, first_day=date(2026, 6, 1), days=1),
        date(2026, 6, 1),
    )
    # 9:30 would run into the 10:00 call; 10:00 is taken; 10:30 falls in its 10-minute buffer.
    assert (
        "09:00" in times and "09:30" not in times and "10:00" not in times and "10:30" not in times
    )
    assert "11:00" in times


def test_time_off_and_clinic_closures_remove_slots(intake_clinic, therapist):
    now = NOW - timedelta(days=3)
    AvailabilityException.objects.create(
        clinic=intake_clinic,
        staff=therapist,
        start=datetime(2026, 6, 1, 9, 0, tzinfo=MTL),
        end=datetime(2026, 6, 1, 12, 0, tzinfo=MTL),
        reason="dentist",
    )
    AvailabilityException.objects.create(
        clinic=intake_clinic,
        start=datetime(2026, 6, 24, 0, 0, tzinfo=MTL),
        end=datetime(2026, 6, 25, 0, 0, tzinfo=MTL),
        reason="Fête nationale",
    )
    slots = intake_slots(clinic=intake_clinic, now=now)
    assert local_times(slots, date(2026, 6, 1))[0] == "12:00"
    assert date(2026, 6, 24) not in slots
    assert date(2026, 6, 23) in slots


def test_windows_respect_their_validity_dates(intake_clinic, therapist):
    AvailabilityWindow.objects.filter(staff=therapist).update(valid_until=date(2026, 6, 2))
    slots = intake_slots(clinic=intake_clinic, now=NOW - timedelta(days=3))
    assert max(slots) == date(2026, 6, 2)


def test_slots_of_several_clinicians_at_one_time_are_one_slot_with_both(
    intake_clinic, therapist, clinic_qc
):
    second = staff_create(clinics=[clinic_qc], email="second@example.com")
    weekly_availability(clinic_qc, second, days=[0], start=time(9), end=time(10))
    slots = intake_slots(
        clinic=intake_clinic, now=NOW - timedelta(days=3), first_day=date(2026, 6, 1), days=1
    )
    nine = slots[date(2026, 6, 1)][0]
    assert nine.staff_ids == tuple(sorted([therapist.pk, second.pk]))


@pytest.mark.parametrize(
    ("monday", "utc_hour"),
    [
        (date(2026, 3, 2), 14),  # EST before the change on Sunday 8 March
        (date(2026, 3, 9), 13),  # EDT after it
        (date(2026, 10, 26), 13),  # EDT before the change on Sunday 1 November
        (date(2026, 11, 2), 14),  # EST after it
    ],
)
def test_nine_oclock_stays_nine_oclock_local_across_daylight_saving(
    intake_clinic, monday, utc_hour
):
    now = datetime.combine(monday - timedelta(days=5), time(8), tzinfo=MTL)
    slots = intake_slots(clinic=intake_clinic, now=now, first_day=monday, days=1)
    first = slots[monday][0].start
    assert first.astimezone(UTC).hour == utc_hour
    assert first.astimezone(MTL).hour == 9


def test_the_hour_skipped_in_spring_has_no_slot(clinic_qc, therapist):
    rules(clinic_qc, minimum_notice_hours=0)
    sunday = date(2026, 3, 8)
    weekly_availability(clinic_qc, therapist, days=[6], start=time(1), end=time(4))
    slots = intake_slots(
        clinic=clinic_qc, now=datetime(2026, 3, 1, tzinfo=UTC), first_day=sunday, days=1
    )
    times = local_times(slots, sunday)
    assert "02:00" not in times and "02:30" not in times
    assert "01:30" in times and "03:00" in times
    # Every slot is a distinct instant.
    assert len({s.start for s in slots[sunday]}) == len(slots[sunday])


def test_a_slot_at_an_odd_minute_or_outside_availability_does_not_exist(intake_clinic):
    now = NOW - timedelta(days=3)
    assert (
        intake_slot_at(clinic=intake_clinic, start=datetime(2026, 6, 1, 9, 0, tzinfo=MTL), now=now)
        is not None
    )
    assert (
        intake_slot_at(clinic=intake_clinic, start=datetime(2026, 6, 1, 9, 10, tzinfo=MTL), now=now)
        is None
    )
    assert (
        intake_slot_at(clinic=intake_clinic, start=datetime(2026, 6, 1, 20, 0, tzinfo=MTL), now=now)
        is None
    )
    assert (
        intake_slot_at(clinic=intake_clinic, start=datetime(2026, 6, 6, 9, 0, tzinfo=MTL), now=now)
        is None
    )  # Saturday


def test_slot_keys_round_trip_and_garbage_is_refused():
    start = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
    from intake.selectors import Slot

    assert parse_slot_key(Slot(start, start, ()).key) == start
    for bad in ["", "x", "20261301T1300Z", "2026-06-01", None, "20260601T1300Z' OR 1=1"]:
        assert parse_slot_key(bad) is None


def test_slot_generation_uses_a_fixed_number_of_queries(clinic_qc, django_assert_num_queries):
    """6 weeks x 10 clinicians with 1,000 bookings: the same three queries (the rules,
    the availability, the bookings with the closures)."""
    rules(clinic_qc, minimum_notice_hours=0)
    clinicians = [staff_create(clinics=[clinic_qc]) for _ in range(10)]
    for person in clinicians:
        weekly_availability(clinic_qc, person, days=range(5))
    client = client_create(clinic=clinic_qc)
    now = datetime(2026, 6, 1, 6, 0, tzinfo=MTL)
    from clinic.models import Appointment, Reservation

    appointments = []
    for i in range(1000):
        k = i // 10  # each clinician (i % 10) gets 100 bookings that do not overlap
        start = now + timedelta(days=k % 40, hours=3 + k // 40)

        appointments.append(
            Appointment(
                clinic=clinic_qc, kind="intake_call", start=start, end=start + timedelta(minutes=30)
            )
        )
    Appointment.objects.bulk_create(appointments)
    Reservation.objects.bulk_create(
        Reservation(
            appointment=a,
            staff=clinicians[i % 10],
            start=a.start,
            end=a.end + timedelta(minutes=10),
        )
        for i, a in enumerate(appointments)
    )
    assert client
    with django_assert_num_queries(3):
        slots = intake_slots(clinic=clinic_qc, now=now)
    assert sum(len(v) for v in slots.values()) > 100
    # No slot lies on a clinician's booking (or its buffer).
    booked = {(r.staff_id, r.start) for r in Reservation.objects.all()}
    for day in slots.values():
        for slot in day:
            for staff_id in slot.staff_ids:
                assert (staff_id, slot.start) not in booked
