"""No one in two places, for dosing sessions, on PostgreSQL with real
threads and connections: two bookings that want the same room, the same
therapist, the same medical practitioner or the same client at the same
moment (across kinds: a dosing session against another, an intake call, a
medical assessment, a preparatory session) end with exactly one booked.

Each case has its controls: without the calendar's lock the exclusion
constraint alone still admits exactly one (and the other person gets a
sentence, not a 500); without the constraint the lock alone admits one;
without both, the race is real and the resource is booked twice (so the
test can fail)."""

import contextlib
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import translation

from clinic import calendar
from clinic.models import Appointment, AppointmentKind, StaffRole, Stage
from clinic.tests.factories import RoomFactory, client_create, staff_create
from intake import services as intake_services
from intake.tests.factories import book_call, rules, weekly_availability
from sessions.services import scheduling
from sessions.tests.factories import in_stage

pytestmark = pytest.mark.django_db(transaction=True)

MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)
NINE = datetime(2026, 6, 4, 9, 0, tzinfo=MTL)
TEN = datetime(2026, 6, 4, 10, 0, tzinfo=MTL)
REFUSALS = (scheduling.SchedulingError, intake_services.BookingError)


def race(*attempts, refusals=REFUSALS) -> dict[str, list]:
    """Start every attempt at the same moment, each in its own thread and
    database connection; return who booked, who was refused (with one of
    `refusals`), who crashed."""
    assert connection.vendor == "postgresql"
    barrier = threading.Barrier(len(attempts))
    outcomes: dict[str, list] = {"booked": [], "refused": [], "crashed": []}
    lock = threading.Lock()

    def run(i, attempt):
        translation.activate("en")  # a new thread starts in the site's default, French
        try:
            barrier.wait(timeout=30)
            attempt()
            with lock:
                outcomes["booked"].append(i)
        except refusals as exc:
            with lock:
                outcomes["refused"].append(str(exc))
        except Exception as exc:  # noqa: BLE001  (a crash is what the test looks for)
            with lock:
                outcomes["crashed"].append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(attempts)]
    # time-machine patches the clock for the whole process, threads included.
    with time_machine.travel(NOW, tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    return outcomes


# --- The four cases: what two people try at once ---------------------------------------------


def dosing(course, room, therapist, practitioner, coordinator, start=NINE):
    return lambda: scheduling.dosing_sessions_book(
        course=course,
        starts=[start],
        team=scheduling.DosingTeam(room=room, therapist=therapist, practitioner=practitioner),
        actor=coordinator,
    )


def clinic_people(clinic, n):
    return [
        (
            staff_create(role=StaffRole.THERAPIST, clinics=[clinic]),
            staff_create(role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic]),
        )
        for _ in range(n)
    ]


@pytest.fixture
def room_case(clinic_qc, coordinator):
    """Two clients, two teams, one dosing room, the same hour."""
    room = RoomFactory(clinic=clinic_qc, name="Salle Fleuve")
    (t1, m1), (t2, m2) = clinic_people(clinic_qc, 2)
    a = in_stage(client_create(clinic=clinic_qc), Stage.DOSING)
    b = in_stage(client_create(clinic=clinic_qc), Stage.DOSING)
    return "room", [
        dosing(a, room, t1, m1, coordinator),
        dosing(b, room, t2, m2, coordinator, start=NINE + timedelta(hours=2)),
    ]


@pytest.fixture
def therapist_case(clinic_qc, coordinator, therapist):
    """A dosing session with the therapist, and a visitor's intake call with
    the same therapist (the clinic's one intake clinician), the same hour."""
    rules(clinic_qc)
    weekly_availability(clinic_qc, therapist, days=range(5))
    room = RoomFactory(clinic=clinic_qc, name="Salle Fleuve")
    [(_t, md)] = clinic_people(clinic_qc, 1)
    course = in_stage(client_create(clinic=clinic_qc), Stage.DOSING)
    return "staff", [
        dosing(course, room, therapist, md, coordinator),
        lambda: book_call(clinic_qc, TEN, email="visitor@example.com"),
    ]


@pytest.fixture
def practitioner_case(clinic_qc, coordinator, medical_practitioner):
    """A dosing session and another client's medical assessment, both with
    the same medical practitioner, in two rooms, the same hour."""
    room = RoomFactory(clinic=clinic_qc, name="Salle Fleuve")
    office = RoomFactory(clinic=clinic_qc, name="Bureau 2", is_dosing_room=False)
    [(t1, _m)] = clinic_people(clinic_qc, 1)
    dosed = in_stage(client_create(clinic=clinic_qc), Stage.DOSING)
    preparing = in_stage(client_create(clinic=clinic_qc), Stage.PREPARE)
    return "staff", [
        dosing(dosed, room, t1, medical_practitioner, coordinator),
        lambda: scheduling.preparation_appointment_book(
            course=preparing,
            kind=AppointmentKind.MEDICAL_ASSESSMENT,
            start=TEN,
            staff_member=medical_practitioner,
            room=office,
            actor=coordinator,
        ),
    ]


@pytest.fixture
def client_case(clinic_qc, coordinator):
    """One client: a dosing session in one room and a preparatory session in
    another, each with its own people, the same hour (two coordinators)."""
    room = RoomFactory(clinic=clinic_qc, name="Salle Fleuve")
    office = RoomFactory(clinic=clinic_qc, name="Bureau 2", is_dosing_room=False)
    (t1, m1), (t2, _m2) = clinic_people(clinic_qc, 2)
    course = in_stage(client_create(clinic=clinic_qc), Stage.DOSING)
    return "client", [
        dosing(course, room, t1, m1, coordinator),
        lambda: scheduling.preparation_appointment_book(
            course=course,
            kind=AppointmentKind.PREPARATORY_SESSION,
            start=TEN,
            staff_member=t2,
            room=office,
            actor=coordinator,
        ),
    ]


CASES = ["room_case", "therapist_case", "practitioner_case", "client_case"]


# --- The protections and their controls ------------------------------------------------------


@pytest.fixture
def without_the_lock(monkeypatch):
    """Control: no lock, and both bookings, their checks done, reach the
    calendar's write at the same instant (so neither has committed when the
    other checks again: the race a lock exists to prevent)."""
    gate = threading.Barrier(2, timeout=30)
    book = calendar.appointment_book

    def no_lock(**kwargs):
        pass

    def book_together(**kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        return book(**kwargs)

    monkeypatch.setattr(calendar, "calendar_lock", no_lock)
    monkeypatch.setattr(calendar, "appointment_book", book_together)


@pytest.fixture
def meet_before_the_write(monkeypatch):
    """Both bookings wait for each other just before the calendar's write,
    their checks done. When the lock works, the second is still waiting for
    it: the first goes on alone after a few seconds and commits, and the
    second then finds the time taken. When a booking skips a lock it
    needed, both meet here, neither sees the other, and the test fails."""
    gate = threading.Barrier(2, timeout=5)
    book = calendar.appointment_book

    def meet_then_book(**kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        return book(**kwargs)

    monkeypatch.setattr(calendar, "appointment_book", meet_then_book)


@contextlib.contextmanager
def without_the_constraint(resource: str):
    name = f"reservation_{resource}_no_overlap"
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE clinic_reservation DROP CONSTRAINT {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM clinic_reservation")
            cursor.execute(
                f"ALTER TABLE clinic_reservation ADD CONSTRAINT {name} "
                f"EXCLUDE USING gist ({resource}_id WITH =, tstzrange(start, \"end\", '[)') WITH &&) "
                f"WHERE (is_live AND {resource}_id IS NOT NULL)"
            )


def booked_appointments():
    return Appointment.objects.filter(status="booked").count()


@pytest.mark.parametrize("case", CASES)
def test_two_bookings_of_one_resource_at_once_exactly_one_is_made(
    request, case, meet_before_the_write
):
    _resource, attempts = request.getfixturevalue(case)
    outcomes = race(*attempts)
    assert outcomes["crashed"] == []
    assert len(outcomes["booked"]) == 1, outcomes
    assert len(outcomes["refused"]) == 1
    assert booked_appointments() == 1


@pytest.mark.parametrize("case", CASES)
def test_control_without_the_lock_the_constraint_still_admits_one(request, case, without_the_lock):
    _resource, attempts = request.getfixturevalue(case)
    outcomes = race(*attempts)
    # The database refused the second: the person read a sentence, nothing crashed.
    assert outcomes["crashed"] == [], outcomes["crashed"]
    assert len(outcomes["booked"]) == 1, outcomes
    assert booked_appointments() == 1


@pytest.mark.parametrize("case", CASES)
def test_the_lock_alone_admits_exactly_one(request, case, meet_before_the_write):
    resource, attempts = request.getfixturevalue(case)
    with without_the_constraint(resource):
        outcomes = race(*attempts)
        assert outcomes["crashed"] == []
        assert len(outcomes["booked"]) == 1, outcomes
        assert booked_appointments() == 1


@pytest.mark.parametrize("case", CASES)
def test_control_without_lock_or_constraint_the_resource_is_booked_twice(
    request, case, without_the_lock
):
    resource, attempts = request.getfixturevalue(case)
    with without_the_constraint(resource):
        outcomes = race(*attempts)
        assert len(outcomes["booked"]) == 2, (
            f"the race did not show: the control proves nothing {outcomes}"
        )


def test_two_first_bookings_of_one_client_s_series_at_once_plan_one_series(
    clinic_qc, coordinator, monkeypatch
):
    """Two coordinators start the same client's series at the same moment, in
    two rooms with two teams, the lock gone: the database's one series per
    course refuses the second, and its person reads a sentence, not a 500."""
    from sessions.models import DosingSeries

    gate = threading.Barrier(2, timeout=30)

    def no_lock(**kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()  # both read "no series yet" before either writes one

    monkeypatch.setattr(calendar, "calendar_lock", no_lock)
    rooms = [RoomFactory(clinic=clinic_qc, name=f"Salle {i}") for i in range(2)]
    (t1, m1), (t2, m2) = clinic_people(clinic_qc, 2)
    course = in_stage(client_create(clinic=clinic_qc), Stage.DOSING)
    outcomes = race(
        dosing(course, rooms[0], t1, m1, coordinator),
        dosing(course, rooms[1], t2, m2, coordinator, start=NINE + timedelta(days=7)),
    )
    assert outcomes["crashed"] == [], outcomes["crashed"]
    assert len(outcomes["booked"]) == 1, outcomes
    assert outcomes["refused"] == ["This time is no longer free. Please choose another time."]
    assert DosingSeries.objects.filter(course=course).count() == 1
    assert booked_appointments() == 1


def test_bookings_of_different_rooms_and_people_do_not_wait_for_each_other(
    clinic_qc, coordinator, monkeypatch
):
    """The lock holds the people, the room and the client a booking needs,
    nothing wider: two sessions in two rooms with two teams and two clients
    both reach the calendar's write while the other is still open."""
    gate = threading.Barrier(2, timeout=10)
    book = calendar.appointment_book

    def meet_then_book(**kwargs):
        gate.wait()  # raises if the other booking never comes
        return book(**kwargs)

    monkeypatch.setattr(calendar, "appointment_book", meet_then_book)
    rooms = [RoomFactory(clinic=clinic_qc, name=f"Salle {i}") for i in range(2)]
    (t1, m1), (t2, m2) = clinic_people(clinic_qc, 2)
    a = in_stage(client_create(clinic=clinic_qc), Stage.DOSING)
    b = in_stage(client_create(clinic=clinic_qc), Stage.DOSING)
    outcomes = race(
        dosing(a, rooms[0], t1, m1, coordinator), dosing(b, rooms[1], t2, m2, coordinator)
    )
    assert sorted(outcomes["booked"]) == [0, 1], outcomes
    assert booked_appointments() == 2


def test_two_bookings_that_deadlock_without_the_lock_one_is_told_the_time_is_taken(clinic_qc):
    """Without the lock, two bookings of a room for the same two hours, in
    opposite orders: each writes its first hour, then wants the hour the
    other holds, and each one's reservation waits on the other's. PostgreSQL
    breaks the deadlock by failing one after a second; its person reads the
    sentence a taken time gives, not a 500, and the other is booked whole."""
    room = RoomFactory(clinic=clinic_qc, name="Salle Fleuve")
    gate = threading.Barrier(2, timeout=30)

    def both_hours(first, second):
        def attempt():
            with transaction.atomic():
                for start in (first, second):
                    calendar.appointment_book(
                        clinic=clinic_qc,
                        kind=AppointmentKind.DOSING_SESSION,
                        start=start,
                        end=start + timedelta(hours=1),
                        staff=[],
                        room=room,
                        locked=True,  # the lock skipped: the bug this protects against
                    )
                    if start == first:
                        gate.wait()  # both hold their first hour before either asks for the second

        return attempt

    outcomes = race(
        both_hours(NINE, TEN),
        both_hours(TEN, NINE),
        refusals=(calendar.CalendarConflict,),
    )
    assert outcomes["crashed"] == [], outcomes["crashed"]
    assert outcomes["refused"] == ["This time is no longer free. Please choose another time."]
    assert booked_appointments() == 2  # the other booking's two hours, whole
