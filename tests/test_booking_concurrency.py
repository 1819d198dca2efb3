"""Twenty people take the same intake-call slot at the same moment, on
PostgreSQL with real threads and connections: exactly one gets it.

The controls show what each layer does: without the lock the exclusion
constraint still lets exactly one through (and the others get the friendly
message, not a 500); without the lock and the constraint, the race is real
and the slot is booked several times."""

import contextlib
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import translation

from clinic import calendar
from clinic.models import Appointment, Reservation, User
from clinic.tests.factories import staff_create
from intake import selectors, services
from intake.tests.factories import book_call, rules, weekly_availability
from tests import concurrency

pytestmark = pytest.mark.django_db(transaction=True)

MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)
SLOT = datetime(2026, 6, 4, 10, 0, tzinfo=MTL)
PEOPLE = 20


@pytest.fixture
def one_clinician_clinic(clinic_qc, therapist):
    rules(clinic_qc)
    weekly_availability(clinic_qc, therapist, days=range(5))
    return clinic_qc


def race(clinic, people=PEOPLE, before_check=None) -> dict[str, list]:
    """Start `people` bookings of SLOT together; return who got what."""
    assert connection.vendor == "postgresql"
    barrier = threading.Barrier(people)
    outcomes = {"booked": [], "refused": [], "crashed": []}
    lock = threading.Lock()

    def attempt(i):
        translation.activate("en")  # a new thread starts in the site's default, French
        try:
            barrier.wait(timeout=30)
            book_call(clinic, SLOT, email=f"person{i}@example.com")
            with lock:
                outcomes["booked"].append(i)
        except services.BookingError as exc:
            with lock:
                outcomes["refused"].append(str(exc))
        except Exception as exc:  # noqa: BLE001  (a crash is what the test looks for)
            with lock:
                outcomes["crashed"].append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(people)]
    # time-machine patches the clock for the whole process, threads included.
    with time_machine.travel(NOW, tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    return outcomes


def test_twenty_people_one_slot_exactly_one_booking(one_clinician_clinic):
    outcomes = race(one_clinician_clinic)
    assert outcomes["crashed"] == []
    assert len(outcomes["booked"]) == 1, outcomes
    assert len(outcomes["refused"]) == PEOPLE - 1
    assert set(outcomes["refused"]) == {
        "That time is not available any more. Please choose another time."
    }
    assert Appointment.objects.filter(status="booked").count() == 1


@pytest.fixture
def without_the_lock(monkeypatch):
    """Control: every booking reads the calendar at the same instant, unlocked."""
    gate = threading.Barrier(PEOPLE, timeout=30)
    # Each booking meets the others at its first clinician only: a booking
    # that falls back to the next one would otherwise wait for a second wave
    # that never comes (30 s of the barrier's timeout).
    met = threading.local()

    def no_staff_lock(staff_ids):
        if not getattr(met, "done", False):
            met.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                gate.wait()
        return User.objects.get(pk=min(staff_ids))

    monkeypatch.setattr(calendar, "staff_lock_first", no_staff_lock)
    monkeypatch.setattr(calendar, "calendar_lock", lambda **kwargs: None)


def test_control_without_the_lock_the_constraint_still_admits_one(
    one_clinician_clinic, without_the_lock
):
    outcomes = race(one_clinician_clinic)
    assert outcomes["crashed"] == [], outcomes["crashed"][:3]
    assert len(outcomes["booked"]) == 1
    assert Appointment.objects.filter(status="booked").count() == 1


@pytest.fixture
def without_the_constraint():
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE clinic_reservation DROP CONSTRAINT reservation_staff_no_overlap"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_reservation")
        cursor.execute(
            "ALTER TABLE clinic_reservation ADD CONSTRAINT reservation_staff_no_overlap "
            "EXCLUDE USING gist (staff_id WITH =, tstzrange(start, \"end\", '[)') WITH &&) "
            "WHERE (is_live AND staff_id IS NOT NULL)"
        )


def test_the_lock_alone_admits_exactly_one(one_clinician_clinic, without_the_constraint):
    """Without the database's constraint, the service's lock still holds."""
    outcomes = race(one_clinician_clinic)
    assert outcomes["crashed"] == []
    assert len(outcomes["booked"]) == 1, outcomes


def test_control_without_lock_or_constraint_the_slot_is_double_booked(
    one_clinician_clinic, without_the_lock, without_the_constraint
):
    outcomes = race(one_clinician_clinic)
    assert len(outcomes["booked"]) > 1, "the race did not show: the control proves nothing"


# --- Two clinicians: each booking locks only the one it takes -----------------------------


@pytest.fixture
def two_clinician_clinic(one_clinician_clinic, clinic_qc):
    weekly_availability(clinic_qc, staff_create(clinics=[clinic_qc]), days=range(5))
    return clinic_qc


def _attempts(clinic, people=PEOPLE):
    return [
        lambda i=i: book_call(clinic, SLOT, email=f"racer{i}@example.com") for i in range(people)
    ]


def test_twenty_people_two_clinicians_one_booking_each(two_clinician_clinic):
    outcomes = concurrency.race(
        _attempts(two_clinician_clinic), refusal=services.BookingError, at=NOW
    )
    assert outcomes["crashed"] == []
    assert len(outcomes["done"]) == 2, outcomes
    assert set(outcomes["refused"]) == {
        "That time is not available any more. Please choose another time."
    }
    held = Reservation.objects.filter(is_live=True, staff__isnull=False)
    assert sorted(held.values_list("staff_id", flat=True)) == sorted(
        two_clinician_clinic.staff.values_list("user_id", flat=True)
    )


def test_the_one_clinician_lock_alone_admits_one_booking_each(
    two_clinician_clinic, without_the_constraint
):
    """Without the database's constraint, locking only the clinician taken still holds."""
    outcomes = concurrency.race(
        _attempts(two_clinician_clinic), refusal=services.BookingError, at=NOW
    )
    assert outcomes["crashed"] == []
    assert len(outcomes["done"]) == 2, outcomes


def test_control_two_clinicians_without_lock_or_constraint_a_clinician_is_double_booked(
    two_clinician_clinic, without_the_lock, without_the_constraint
):
    outcomes = concurrency.race(
        _attempts(two_clinician_clinic), refusal=services.BookingError, at=NOW
    )
    assert len(outcomes["done"]) > 2, "the race did not show: the control proves nothing"


# --- The clinician taken between the read of the free slots and the lock -------------------


@pytest.fixture
def first_clinician_taken_after_the_read(two_clinician_clinic, monkeypatch):
    """Someone else books the first clinician at SLOT just after this
    booking read the free slots (which still show both clinicians)."""
    read = selectors.intake_slot_at

    def read_then_taken(**kwargs):
        slot = read(**kwargs)
        if slot is not None and len(slot.staff_ids) == 2:
            first = User.objects.get(pk=slot.staff_ids[0])
            calendar.appointment_book(
                clinic=two_clinician_clinic,
                kind="intake_call",
                start=slot.start,
                end=slot.end,
                staff=[first],
            )
        return slot

    monkeypatch.setattr(selectors, "intake_slot_at", read_then_taken)
    return two_clinician_clinic


def test_a_clinician_taken_after_the_read_passes_the_booking_to_the_next(
    first_clinician_taken_after_the_read, clock_at_now
):
    clinic = first_clinician_taken_after_the_read
    call = book_call(clinic, SLOT)
    first, second = sorted(clinic.staff.values_list("user_id", flat=True))
    assert list(
        call.appointment.reservations.filter(staff__isnull=False).values_list("staff_id", flat=True)
    ) == [second]
    assert Reservation.objects.filter(staff_id=first, is_live=True).count() == 1


def test_control_without_the_check_under_the_lock_the_first_clinician_is_double_booked(
    first_clinician_taken_after_the_read, clock_at_now, without_the_constraint, monkeypatch
):
    monkeypatch.setattr(calendar, "calendar_busy", lambda **kwargs: False)
    clinic = first_clinician_taken_after_the_read
    book_call(clinic, SLOT)
    first, _second = sorted(clinic.staff.values_list("user_id", flat=True))
    assert Reservation.objects.filter(staff_id=first, is_live=True).count() == 2


@pytest.fixture
def clock_at_now():
    with time_machine.travel(NOW, tick=False):
        yield
