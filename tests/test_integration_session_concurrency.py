"""Integration sessions under concurrency, on PostgreSQL with real threads
and connections: two clients grabbing the same hour of one therapist, and
one client sending the booking twice (two tabs) for two different hours
after the same dosing session. Each ends with exactly one booked.

The control proves the lock is what does it: both bookings, their checks
done, meet just before the calendar's write. With the lock the second is
still waiting for it and then sees the first; without it, the same client
ends with two integration sessions after one dosing session (no database
constraint can say "one live session per dosing session": the status is
on the appointment)."""

import contextlib
import threading

import pytest
import time_machine

from clinic import calendar
from clinic.models import Appointment, AppointmentKind
from integration.individual import services
from integration.tests.individual_factories import MONDAY_TEN, NOW, TUESDAY_NINE, held_dosing
from tests.concurrency import race as run_race

pytestmark = pytest.mark.django_db(transaction=True)


def race(*attempts) -> dict[str, list]:
    return run_race(attempts, refusal=services.IntegrationSessionError, at=NOW)


@pytest.fixture
def meet_before_the_write(monkeypatch):
    """Both bookings wait for each other just before the calendar's write.
    With the lock the second is still waiting for it: the first goes on
    alone after a few seconds. Without it, both meet here unaware."""
    gate = threading.Barrier(2, timeout=5)
    book = calendar.appointment_book

    def book_together(**kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        return book(**kwargs)

    monkeypatch.setattr(calendar, "appointment_book", book_together)


@pytest.fixture
def without_the_lock(monkeypatch):
    monkeypatch.setattr(calendar, "calendar_lock", lambda **kwargs: None)


def booking(dosing, start, actor):
    return lambda: services.integration_session_book(
        dosing_session=dosing, start=start, actor=actor
    )


def live_sessions():
    return Appointment.objects.filter(
        kind=AppointmentKind.INTEGRATION_SESSION, status=Appointment.Status.BOOKED
    ).count()


@pytest.fixture
def two_dosings(client_a, client_b, therapist, medical_practitioner):
    with time_machine.travel(NOW, tick=False):
        first = held_dosing(client_a, therapist, medical_practitioner)
        second = held_dosing(client_b, therapist, medical_practitioner, start=first.appointment.end)
    return first, second


def test_two_clients_grabbing_one_hour_of_the_therapist_end_with_one(
    two_dosings, meet_before_the_write
):
    first, second = two_dosings
    outcomes = race(
        booking(first, MONDAY_TEN, first.appointment.client.user),
        booking(second, MONDAY_TEN, second.appointment.client.user),
    )
    assert outcomes["crashed"] == []
    assert len(outcomes["done"]) == 1
    assert len(outcomes["refused"]) == 1
    assert live_sessions() == 1


def test_a_double_submit_of_two_hours_books_one(two_dosings, meet_before_the_write):
    first, _second = two_dosings
    user = first.appointment.client.user
    outcomes = race(booking(first, MONDAY_TEN, user), booking(first, TUESDAY_NINE, user))
    assert outcomes["crashed"] == []
    assert len(outcomes["done"]) == 1
    assert outcomes["refused"] == [
        "An integration session is already booked after this dosing session."
    ]
    assert live_sessions() == 1


def test_control_without_the_lock_a_double_submit_books_two(
    two_dosings, meet_before_the_write, without_the_lock
):
    first, _second = two_dosings
    user = first.appointment.client.user
    outcomes = race(booking(first, MONDAY_TEN, user), booking(first, TUESDAY_NINE, user))
    assert outcomes["crashed"] == []
    assert len(outcomes["done"]) == 2  # the race is real: the lock is what prevents it
    assert live_sessions() == 2


def test_without_the_lock_the_constraint_still_refuses_one_hour_twice(
    two_dosings, meet_before_the_write, without_the_lock
):
    first, second = two_dosings
    outcomes = race(
        booking(first, MONDAY_TEN, first.appointment.client.user),
        booking(second, MONDAY_TEN, second.appointment.client.user),
    )
    assert outcomes["crashed"] == []
    assert len(outcomes["done"]) == 1
    assert outcomes["refused"] == ["This time is no longer free. Please choose another time."]
