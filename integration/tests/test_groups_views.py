from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from clinic import calendar
from clinic.models import AccessLogEntry, AppointmentKind, Stage
from clinic.tests.factories import client_create

from ..groups import services
from ..groups.models import Enrolment, IntegrationGroup
from .group_factories import group_room, in_stage, weekly_group

MTL = ZoneInfo("America/Toronto")
pytestmark = pytest.mark.usefixtures("clock")


def portal(user):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(user)
    return browser


def member(clinic):
    person = client_create(clinic=clinic)
    in_stage(person, Stage.INTEGRATE)
    return person


def new_group_form(the_room, therapist, **changes):
    data = {
        "name_en": "Tuesday circle",
        "name_fr": "Cercle du mardi",
        "language": "fr",
        "capacity": "8",
        "allowed_stages": ["integrate", "reconnect"],
        "facilitators": [str(therapist.pk)],
        "room": str(the_room.pk),
        "first_day": "2026-06-02",
        "starts_at": "18:00",
        "ends_at": "19:30",
        "interval": "1",
        "ends": "after",
        "count": "8",
    }
    data.update(changes)
    return data


def test_a_coordinator_schedules_a_weekly_group_from_the_staff_pages(
    clinic_qc, coordinator, therapist, staff_login
):
    room = group_room(clinic_qc)
    response = staff_login(coordinator).post("/staff/groups/new/", new_group_form(room, therapist))
    assert response.status_code == 302
    group = IntegrationGroup.objects.get()
    assert group.meetings.count() == 8 and group.recurrence == "FREQ=WEEKLY;INTERVAL=1;COUNT=8"


def test_a_room_conflict_is_listed_and_nothing_is_scheduled(
    clinic_qc, coordinator, therapist, medical_practitioner, staff_login
):
    room = group_room(clinic_qc)
    start = datetime(2026, 6, 16, 18, 30, tzinfo=MTL)
    calendar.appointment_book(
        clinic=clinic_qc,
        kind=AppointmentKind.PREPARATORY_SESSION,
        start=start,
        end=start + timedelta(hours=1),
        staff=[medical_practitioner],
        room=room,
    )
    response = staff_login(coordinator).post("/staff/groups/new/", new_group_form(room, therapist))
    assert response.status_code == 409
    assert "Salle Cercle is taken" in response.content.decode()
    assert not IntegrationGroup.objects.exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"ends": "never"}, "must end"),
        ({"count": "101"}, "more than 100"),
        ({"capacity": "zero"}, "whole number"),
        ({"first_day": "2020-01-01"}, "in the past"),
        ({"ends_at": "17:00"}, "end after it starts"),
        ({"room": "", "video_link": ""}, "Choose a room"),
    ],
)
def test_the_group_form_refuses_bad_input_with_a_message(
    clinic_qc, coordinator, therapist, staff_login, changes, message
):
    room = group_room(clinic_qc)
    response = staff_login(coordinator).post(
        "/staff/groups/new/", new_group_form(room, therapist, **changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not IntegrationGroup.objects.exists()


def test_a_client_enrols_then_a_full_group_offers_only_the_waitlist(
    clinic_qc, coordinator, therapist
):
    group = weekly_group(
        clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist], capacity=1
    )
    first, second = member(clinic_qc), member(clinic_qc)
    assert portal(first.user).post(f"/portal/groups/{group.uuid}/enrol/").status_code == 302
    browser = portal(second.user)
    page = browser.get("/portal/groups/").content.decode()
    assert "Join the waitlist" in page and "Full" in page
    # Enrolling in the full group without taking the waitlist: refused, nothing saved.
    response = browser.post(f"/portal/groups/{group.uuid}/enrol/", follow=True)
    assert "This group is full" in response.content.decode()
    assert not Enrolment.objects.filter(client=second).exists()
    response = browser.post(f"/portal/groups/{group.uuid}/enrol/", {"waitlist": "1"}, follow=True)
    assert "at position 1" in response.content.decode()
    # A double submit: one row, a clear message.
    response = browser.post(f"/portal/groups/{group.uuid}/enrol/", {"waitlist": "1"}, follow=True)
    assert "already in this group" in response.content.decode()
    assert Enrolment.objects.filter(client=second).count() == 1


def test_another_clients_enrolment_is_a_404_and_stays(clinic_qc, coordinator, therapist):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    a, b = member(clinic_qc), member(clinic_qc)
    enrolment = services.group_enrol(group=group, client=a)
    response = portal(b.user).post(f"/portal/groups/enrolments/{enrolment.uuid}/leave/")
    assert response.status_code == 404
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ENROLLED


def test_a_group_of_another_clinic_is_a_404_in_the_portal(
    clinic_qc, clinic_bc, coordinator, therapist
):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    outsider = member(clinic_bc)
    assert portal(outsider.user).post(f"/portal/groups/{group.uuid}/enrol/").status_code == 404
    assert not Enrolment.objects.exists()


def test_the_group_page_and_the_attendance_sheet_are_logged_reads(
    clinic_qc, coordinator, therapist, staff_login, clock
):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    people = [member(clinic_qc) for _ in range(2)]
    for person in people:
        services.group_enrol(group=group, client=person)
    browser = staff_login(therapist)
    assert browser.get(f"/staff/groups/{group.uuid}/").status_code == 200
    logged = AccessLogEntry.objects.filter(actor=therapist, object_type="integration.enrolment")
    assert {e.client_id for e in logged.all()} == {p.pk for p in people}
    meeting = group.meetings.get(number=1)
    clock.move_to(datetime(2026, 6, 2, 18, 5, tzinfo=MTL))
    before = logged.all().count()
    browser = staff_login(therapist)
    response = browser.get(f"/staff/groups/meetings/{meeting.uuid}/attendance/")
    assert "Save attendance" in response.content.decode(), response.content.decode()[:3000]
    assert logged.all().count() == before + 2


def test_a_facilitator_takes_attendance_on_the_sheet(
    clinic_qc, coordinator, therapist, staff_login, clock
):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    a = member(clinic_qc)
    enrolment = services.group_enrol(group=group, client=a)
    meeting = group.meetings.get(number=1)
    clock.move_to(datetime(2026, 6, 2, 18, 5, tzinfo=MTL))
    browser = staff_login(therapist)
    url = f"/staff/groups/meetings/{meeting.uuid}/attendance/"
    assert browser.post(url, {f"e{enrolment.pk}": "present"}).status_code == 302
    assert browser.post(url, {f"e{enrolment.pk}": "maybe"}).status_code == 400
    assert enrolment.attendance.get().mark == "present"


def _groups(clinic, coordinator, therapist, n):
    for i in range(n):
        group = weekly_group(
            clinic=clinic,
            coordinator=coordinator,
            facilitators=[therapist],
            room=group_room(clinic, f"Salle {i}"),
            count=2,
            starts_at=time(8 + i),
            ends_at=time(8 + i, 50),
            name=f"Group {i}",
        )
        services.group_enrol(group=group, client=member(clinic))


@pytest.mark.parametrize("groups", [1, 10])
def test_the_staff_group_list_costs_the_same_queries_whatever_the_number_of_groups(
    clinic_qc, coordinator, therapist, staff_login, django_assert_max_num_queries, groups
):
    _groups(clinic_qc, coordinator, therapist, groups)
    browser = staff_login(coordinator)
    with django_assert_max_num_queries(8):
        response = browser.get("/staff/groups/")
    assert response.content.decode().count("Group ") >= groups


@pytest.mark.parametrize("groups", [1, 10])
def test_the_portal_group_list_costs_the_same_queries_whatever_the_number_of_groups(
    clinic_qc, coordinator, therapist, django_assert_max_num_queries, groups
):
    _groups(clinic_qc, coordinator, therapist, groups)
    person = member(clinic_qc)
    services.group_enrol(group=IntegrationGroup.objects.first(), client=person)
    browser = portal(person.user)
    with django_assert_max_num_queries(12):
        response = browser.get("/portal/groups/")
    assert response.status_code == 200


@pytest.mark.parametrize("members", [1, 10])
def test_the_group_page_costs_the_same_queries_whatever_the_number_of_members(
    clinic_qc, coordinator, therapist, staff_login, django_assert_max_num_queries, members
):
    group = weekly_group(
        clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist], capacity=20
    )
    for _ in range(members):
        services.group_enrol(group=group, client=member(clinic_qc))
    browser = staff_login(coordinator)
    with django_assert_max_num_queries(13):
        assert browser.get(f"/staff/groups/{group.uuid}/").status_code == 200


def test_first_day_is_a_date(clinic_qc):
    assert date(2026, 6, 2).weekday() == 1  # the factories' first meeting is a Tuesday


def test_a_coordinator_lowers_the_places_and_the_last_enrolled_wait_again(
    clinic_qc, coordinator, therapist, staff_login
):
    group = weekly_group(
        clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist], capacity=2
    )
    a, b = member(clinic_qc), member(clinic_qc)
    services.group_enrol(group=group, client=a)
    services.group_enrol(group=group, client=b)
    form = {
        "name_en": group.name_en,
        "name_fr": group.name_fr,
        "language": group.language,
        "capacity": "1",
        "allowed_stages": group.allowed_stages,
        "is_open": "on",
    }
    assert staff_login(therapist).post(f"/staff/groups/{group.uuid}/edit/", form).status_code == 403
    response = staff_login(coordinator).post(f"/staff/groups/{group.uuid}/edit/", form)
    assert response.status_code == 302
    statuses = dict(Enrolment.objects.values_list("client_id", "status"))
    assert statuses == {a.pk: "enrolled", b.pk: "waitlisted"}
    response = staff_login(coordinator).post(
        f"/staff/groups/{group.uuid}/edit/", {**form, "capacity": "-3"}
    )
    assert response.status_code == 400
    group.refresh_from_db()
    assert group.capacity == 1


def test_a_coordinator_moves_one_meeting_and_cancels_another_from_its_page(
    clinic_qc, coordinator, therapist, staff_login
):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    first, second = group.meetings.order_by("number")[:2]
    url = f"/staff/groups/meetings/{first.uuid}/"
    # A therapist reads the meeting but cannot change it.
    assert staff_login(therapist).get(url).status_code == 200
    assert staff_login(therapist).post(url, {"action": "cancel"}).status_code == 403
    browser = staff_login(coordinator)
    response = browser.post(
        url, {"action": "move", "day": "2026-06-03", "starts_at": "18:00", "ends_at": "17:00"}
    )
    assert response.status_code == 400
    response = browser.post(
        url, {"action": "move", "day": "2026-06-03", "starts_at": "18:00", "ends_at": "19:00"}
    )
    assert response.status_code == 302
    first.appointment.refresh_from_db()
    assert first.appointment.start == datetime(2026, 6, 3, 18, 0, tzinfo=MTL)
    browser.post(f"/staff/groups/meetings/{second.uuid}/", {"action": "cancel"})
    second.appointment.refresh_from_db()
    assert second.appointment.status == "cancelled"
    # Cancelling twice: a message, nothing else changes.
    response = browser.post(f"/staff/groups/meetings/{second.uuid}/", {"action": "cancel"})
    assert response.status_code == 400
    assert group.meetings.filter(appointment__status="booked").count() == 7


def test_a_client_in_integrate_is_offered_the_groups_as_their_next_step(clinic_qc):
    person = member(clinic_qc)
    page = portal(person.user).get("/portal/").content.decode()
    assert "Join an integration group" in page and "/portal/groups/" in page


@pytest.mark.parametrize("members", [1, 10])
def test_the_attendance_sheet_costs_the_same_queries_at_two_sizes(
    clinic_qc, coordinator, therapist, staff_login, clock, django_assert_max_num_queries, members
):
    group = weekly_group(
        clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist], capacity=20
    )
    people = [member(clinic_qc) for _ in range(members)]
    for person in people:
        services.group_enrol(group=group, client=person)
    meeting = group.meetings.get(number=1)
    clock.move_to(datetime(2026, 6, 2, 18, 5, tzinfo=MTL))
    browser = staff_login(therapist)
    browser.get("/staff/groups/")  # warm the session and permissions
    with django_assert_max_num_queries(7):
        response = browser.get(f"/staff/groups/meetings/{meeting.uuid}/attendance/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Save attendance" in page
    assert all(person.user.get_full_name() in page for person in people)


@pytest.mark.parametrize("size", [1, 10])
def test_the_new_group_form_costs_the_same_queries_whatever_the_staff_and_rooms(
    clinic_qc, coordinator, therapist, staff_login, django_assert_max_num_queries, size
):
    """The form's choices (facilitators, rooms) at one and at ten of each."""
    from clinic.models import StaffRole
    from clinic.tests.factories import staff_create

    facilitators = [
        staff_create(role=StaffRole.THERAPIST, clinics=[clinic_qc]) for _ in range(size)
    ]
    for n in range(size):
        group_room(clinic_qc, name=f"Room {n}")
    browser = staff_login(coordinator)
    browser.get("/staff/groups/")  # warm the session and permissions
    with django_assert_max_num_queries(6):
        response = browser.get("/staff/groups/new/")
    assert response.status_code == 200
    page = response.content.decode()
    assert all(f">Room {n}<" in page for n in range(size))
    assert all(person.get_full_name() in page for person in facilitators)
