"""The room board: rooms as rows over the clinic's day, bookings as blocks
(who and where, never clinical content), free time to click, the booking
form and its preview, details with move and cancel. Every client shown is a
logged read, and the page's query count does not grow with the data."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.models import AccessLogEntry, Appointment, AppointmentKind, StaffRole, Stage
from clinic.tests.factories import client_create, staff_create
from sessions.models import DosingSession
from sessions.services import scheduling
from sessions.tests.conftest import THURSDAY_9
from sessions.tests.factories import book_dosing, dosing_room, in_stage, team

pytestmark = pytest.mark.usefixtures("clock")
BOARD = reverse("dosing:board")
NEW = reverse("dosing:booking_new")
CHECK = reverse("dosing:booking_check")
HTMX = {"HTTP_HX_REQUEST": "true"}


def board_day(web, day="2026-06-04", **params):
    return web.get(BOARD, {"day": day, **params})


@pytest.fixture
def booked(course_in_dosing, dosing_team, coordinator):
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    return session


def test_the_board_shows_each_room_as_a_row_and_each_booking_as_a_block(
    staff_login, coordinator, booked, room, room_2, consult_room, client_a, therapist
):
    client_a.user.first_name, client_a.user.last_name = "Élodie", "Côté"
    client_a.user.save()
    body = board_day(staff_login(coordinator)).content.decode()
    # Dosing rooms first, then the others, each a labelled section.
    names = re.findall(r'<h2 class="board-room-label" id="room-\d+">([^<]+)<', body)
    assert names == ["Salle Fleuve", "Salle Mont-Royal", "Bureau 2"]
    block = re.search(r'<a class="board-block kind-dosing_session.*?</a>', body, re.S).group(0)
    # Kind, time in the clinic's zone, the client's initials and the staff.
    assert "Dosing session" in block
    assert "9:00 a.m.–12:00 p.m. · É. C." in block
    assert therapist.get_full_name() in block
    assert "Côté" not in body  # initials only on the board
    # The cleaning after it is shaded, and says until when.
    assert "Cleaning until 12:30 p.m." in body
    # Free time is there to click: the room is free from 12:30, not before.
    assert "Book Salle Fleuve at 12:30 p.m." in body
    assert "Book Salle Fleuve at 12:00 p.m." not in body
    assert "Book Salle Mont-Royal at 9:00 a.m." in body


def test_names_on_the_board_are_shown_as_text_never_as_markup(
    staff_login, coordinator, booked, room, therapist
):
    """The board's cells are built in Python (board_cells): a room or a
    person named with markup shows as the text typed, escaped."""
    room.name = 'Salle <img src=x onerror="alert(1)">'
    room.save()
    therapist.first_name = "<b>Jo</b>"
    therapist.save()
    body = board_day(staff_login(coordinator)).content.decode()
    assert "<img src=x" not in body and "<b>Jo</b>" not in body
    assert "Book Salle &lt;img src=x onerror=&quot;alert(1)&quot;&gt; at 12:30 p.m." in body
    assert "&lt;b&gt;Jo&lt;/b&gt;" in body


def test_the_board_is_in_the_clinic_s_time_zone_whatever_the_server_s(
    staff_login, other_clinic_therapist, clinic_bc
):
    course = in_stage(client_create(clinic=clinic_bc, email="van@example.com"), Stage.DOSING)
    md = staff_create(role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic_bc])
    cedar = dosing_room(clinic_bc, "Cedar Room")
    from zoneinfo import ZoneInfo

    start = THURSDAY_9.replace(tzinfo=ZoneInfo("America/Vancouver"))
    book_dosing(course, [start], team(cedar, other_clinic_therapist, md), other_clinic_therapist)
    body = board_day(staff_login(other_clinic_therapist)).content.decode()
    assert "Rooms in Vancouver, Thursday 4 June 2026" in body or "Rooms in Vancouver" in body
    assert "9:00 a.m.–12:00 p.m." in body


def test_every_client_the_board_shows_is_a_logged_read(
    staff_login, coordinator, booked, client_b, medical_practitioner, room_2, clinic_qc
):
    other = in_stage(client_b, Stage.DOSING)
    book_dosing(
        other,
        [THURSDAY_9 + timedelta(hours=4)],
        team(
            room_2,
            staff_create(role=StaffRole.THERAPIST, clinics=[clinic_qc]),
            medical_practitioner,
        ),
        coordinator,
    )
    web = staff_login(coordinator)
    board_day(web)
    logged = AccessLogEntry.objects.filter(actor=coordinator, object_type="clinic.appointment")
    assert set(logged.values_list("client", flat=True)) == {
        booked.appointment.client_id,
        other.client_id,
    }
    AccessLogEntry.objects.all()  # the week view logs the same way
    web.get(reverse("dosing:board_week"), {"day": "2026-06-04"})
    assert logged.count() == 4


def grow(clinic, coordinator, rooms: int, sessions_per_room: int):
    """Rooms full of sessions on Thursday: each with its own client and team."""
    for r in range(rooms):
        room = dosing_room(clinic, f"Room {rooms}-{r:02}")
        for s in range(sessions_per_room):
            client = client_create(clinic=clinic)
            course = in_stage(client, Stage.DOSING)
            crew = team(
                room,
                staff_create(role=StaffRole.THERAPIST, clinics=[clinic]),
                staff_create(role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic]),
            )
            book_dosing(course, [THURSDAY_9 + timedelta(hours=3.5 * s - 2)], crew, coordinator)


@pytest.mark.parametrize("url_name", ["dosing:board", "dosing:board_week"])
def test_the_board_s_query_count_does_not_grow_with_rooms_or_sessions(
    staff_login, coordinator, clinic_qc, url_name, django_assert_max_num_queries
):
    web = staff_login(coordinator)
    web.get(reverse(url_name))  # the session's first request records it (usersessions)
    counts = []
    for rooms, sessions in ((1, 1), (5, 3)):
        grow(clinic_qc, coordinator, rooms, sessions)
        with CaptureQueriesContext(connection) as queries:
            response = web.get(reverse(url_name), {"day": "2026-06-04"})
        assert response.status_code == 200
        counts.append(len(queries))
    assert Appointment.objects.count() == 16
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(counts[1]):
        web.get(reverse(url_name), {"day": "2026-06-04"})


def test_a_free_cell_opens_the_form_with_its_room_and_time(staff_login, coordinator, room):
    web = staff_login(coordinator)
    params = {"clinic": "montreal", "room": room.pk, "date": "2026-06-04", "time": "13:30"}
    panel = web.get(NEW, params, **HTMX).content.decode()
    assert "<html" not in panel  # a fragment for the panel, not a page
    assert re.search(rf'<option value="{room.pk}" selected>Salle Fleuve', panel)
    assert 'value="2026-06-04"' in panel and 'value="13:30"' in panel
    page = web.get(NEW, params).content.decode()
    assert "<html" in page and "Back to the room board" in page  # without JavaScript


def form(room, course, therapist, practitioner, **extra):
    return {
        "clinic": "montreal",
        "kind": AppointmentKind.DOSING_SESSION,
        "room": room.pk,
        "date": "2026-06-04",
        "time": "09:00",
        "client": str(course.uuid),
        "therapist": therapist.pk,
        "practitioner": practitioner.pk,
        "sessions": 1,
        "every_days": 5,
        **extra,
    }


def test_booking_from_the_board_puts_a_block_on_it(
    staff_login, coordinator, room, course_in_dosing, therapist, medical_practitioner
):
    web = staff_login(coordinator)
    response = web.post(NEW, form(room, course_in_dosing, therapist, medical_practitioner), **HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"board-changed": True}
    assert "Booked: dosing session for" in response.content.decode()
    session = DosingSession.objects.get()
    assert session.appointment.start == THURSDAY_9
    assert AccessLogEntry.objects.filter(actor=coordinator, action="change").count() == 1
    assert "board-block kind-dosing_session" in board_day(web).content.decode()


def test_without_javascript_a_booking_returns_to_the_board_s_day(
    staff_login, coordinator, room, course_in_dosing, therapist, medical_practitioner
):
    response = staff_login(coordinator).post(
        NEW, form(room, course_in_dosing, therapist, medical_practitioner), follow=True
    )
    assert response.redirect_chain[-1][0] == f"{BOARD}?clinic=montreal&day=2026-06-04"
    assert "Booked: dosing session for" in response.content.decode()


def test_a_series_is_booked_from_the_board(
    staff_login, coordinator, room, course_in_dosing, therapist, medical_practitioner
):
    response = staff_login(coordinator).post(
        NEW,
        form(room, course_in_dosing, therapist, medical_practitioner, sessions=4, every_days=7),
        **HTMX,
    )
    assert "Booked: 4 sessions for" in response.content.decode()
    assert sorted(a.start for a in Appointment.objects.all()) == [
        THURSDAY_9 + timedelta(days=7 * i) for i in range(4)
    ]


def test_a_double_submit_books_once(
    staff_login, coordinator, room, course_in_dosing, therapist, medical_practitioner
):
    web = staff_login(coordinator)
    data = form(room, course_in_dosing, therapist, medical_practitioner)
    web.post(NEW, data, **HTMX)
    second = web.post(NEW, data, **HTMX)
    assert second.status_code == 200
    assert "the client has another appointment 9:00 a.m.–12:00 p.m." in second.content.decode()
    assert Appointment.objects.count() == 1


def test_the_preview_says_who_is_busy_and_a_forced_save_is_refused(
    staff_login, coordinator, booked, client_b, room_2, therapist, clinic_qc
):
    other = in_stage(client_b, Stage.DOSING)
    md = staff_create(role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic_qc])
    data = form(room_2, other, therapist, md, time="10:00")
    web = staff_login(coordinator)
    preview = web.get(CHECK, data, **HTMX).content.decode()
    assert f"{therapist.get_full_name()} is busy 9:00 a.m.–12:00 p.m. (dosing session)" in preview
    refused = web.post(NEW, data, **HTMX).content.decode()
    assert "cannot be booked" in refused and therapist.get_full_name() in refused
    assert Appointment.objects.count() == 1


def test_the_preview_names_a_client_who_cannot_have_this_kind(
    staff_login, coordinator, room, course_in_prepare, therapist, medical_practitioner
):
    preview = staff_login(coordinator).get(
        CHECK, form(room, course_in_prepare, therapist, medical_practitioner), **HTMX
    )
    # The client is not among those bookable for a dosing session.
    assert "Choose a client." in preview.content.decode()


def test_the_preview_says_all_is_free(
    staff_login, coordinator, room, course_in_dosing, therapist, medical_practitioner
):
    preview = staff_login(coordinator).get(
        CHECK, form(room, course_in_dosing, therapist, medical_practitioner), **HTMX
    )
    assert "Free: the room, the people and the client are all free" in preview.content.decode()


def test_the_client_list_shows_only_the_clinic_s_clients_at_the_right_stage(
    staff_login, coordinator, course_in_dosing, course_in_prepare, clinic_bc
):
    in_stage(client_create(clinic=clinic_bc, email="bc@example.com"), Stage.DOSING)
    web = staff_login(coordinator)
    url = reverse("dosing:client_options")
    dosing = web.get(url, {"clinic": "montreal", "kind": "dosing_session"}, **HTMX)
    options = re.findall(r'<option value="([0-9a-f-]{36})"', dosing.content.decode())
    assert options == [str(course_in_dosing.uuid)]
    prepare = web.get(url, {"clinic": "montreal", "kind": "medical_assessment"}, **HTMX)
    assert set(re.findall(r'<option value="([0-9a-f-]{36})"', prepare.content.decode())) == {
        str(course_in_dosing.uuid),
        str(course_in_prepare.uuid),
    }
    name = course_in_prepare.client.user.last_name
    searched = web.get(
        url, {"clinic": "montreal", "kind": "medical_assessment", "q": name[:4]}, **HTMX
    ).content.decode()
    assert str(course_in_prepare.uuid) in searched
    # Each client listed is a logged read.
    assert AccessLogEntry.objects.filter(actor=coordinator, object_type="clinic.course").exists()


def test_a_client_of_another_clinic_or_stage_is_refused_at_save(
    staff_login, coordinator, room, course_in_prepare, therapist, medical_practitioner, clinic_bc
):
    stranger = in_stage(client_create(clinic=clinic_bc, email="bc@example.com"), Stage.DOSING)
    web = staff_login(coordinator)
    for course in (course_in_prepare, stranger):
        response = web.post(NEW, form(room, course, therapist, medical_practitioner), **HTMX)
        assert "cannot have this kind of appointment at their stage" in response.content.decode()
    assert not Appointment.objects.exists()


def test_garbage_in_the_form_is_a_message_not_an_error(staff_login, coordinator, room):
    web = staff_login(coordinator)
    for data in (
        {"clinic": "montreal", "kind": "nonsense", "date": "2026-02-31", "time": "25:99"},
        {"clinic": "nowhere", "room": "abc", "client": "not-a-uuid", "sessions": "-3"},
        {},
    ):
        assert web.post(NEW, data, **HTMX).status_code == 200
        assert web.get(CHECK, data, **HTMX).status_code == 200
        assert web.get(NEW, data).status_code == 200
    assert not Appointment.objects.exists()


def test_a_block_opens_its_details_without_clinical_content(staff_login, coordinator, booked):
    web = staff_login(coordinator)
    url = reverse("dosing:appointment", args=[booked.appointment.uuid])
    body = web.get(url, **HTMX).content.decode()
    assert "Dosing session" in body and "Move" in body and "Cancel…" in body
    assert str(booked.appointment.client) in body  # who
    assert "Salle Fleuve" in body  # where
    assert AccessLogEntry.objects.filter(
        actor=coordinator, object_id=str(booked.appointment.uuid)
    ).exists()


def test_another_clinic_s_booking_is_not_found(staff_login, other_clinic_therapist, booked):
    web = staff_login(other_clinic_therapist)
    for name in ("dosing:appointment", "dosing:appointment_move", "dosing:appointment_cancel"):
        url = reverse(name, args=[booked.appointment.uuid])
        assert web.get(url).status_code == 404
        if name != "dosing:appointment":
            assert web.post(url, {"version": 1}).status_code == 404
    booked.appointment.refresh_from_db()
    assert booked.appointment.status == "booked"


def test_moving_from_the_board(
    staff_login, coordinator, booked, therapist, medical_practitioner, room
):
    web = staff_login(coordinator)
    url = reverse("dosing:appointment_move", args=[booked.appointment.uuid])
    page = web.get(url, **HTMX).content.decode()
    assert 'value="09:00"' in page and 'name="version" value="1"' in page
    data = {
        "date": "2026-06-05",
        "time": "10:15",
        "room": room.pk,
        "therapist": therapist.pk,
        "practitioner": medical_practitioner.pk,
        "version": 1,
    }
    response = web.post(url, data, **HTMX)
    assert "Moved to Friday June 5, 2026, 10:15 a.m." in response.content.decode()
    assert response["HX-Trigger"]
    # The same form sent again is refused: the booking changed since.
    again = web.post(url, {**data, "time": "11:00"}, **HTMX).content.decode()
    assert "changed in the meantime" in again
    booked.appointment.refresh_from_db()
    assert booked.appointment.version == 2 and booked.appointment.start.hour == 14  # 10:15 EDT


def test_cancelling_asks_first_then_cancels_once(staff_login, coordinator, booked):
    web = staff_login(coordinator)
    url = reverse("dosing:appointment_cancel", args=[booked.appointment.uuid])
    confirm = web.get(url, **HTMX).content.decode()
    assert "Cancel the dosing session?" in confirm and "Yes, cancel it" in confirm
    booked.appointment.refresh_from_db()
    assert booked.appointment.status == "booked"  # asking changes nothing
    done = web.post(url, {"version": 1}, **HTMX).content.decode()
    assert "Cancelled: dosing session of Thursday June 4, 2026, 9:00 a.m." in done
    again = web.post(url, {"version": 1}, **HTMX)
    assert again.status_code == 200 and "This appointment is cancelled." in again.content.decode()
    assert Appointment.objects.get().status == "cancelled"
    assert "board-block" not in board_day(web).content.decode()


@pytest.mark.parametrize("who", ["privacy_officer", "client_a"])
def test_the_privacy_officer_and_clients_never_reach_the_board(
    request, client, staff_login, who, booked
):
    person = request.getfixturevalue(who)
    if who == "client_a":
        client.force_login(person.user)
        web = client
    else:
        web = staff_login(person)
    assert web.get(BOARD).status_code == 403
    url = reverse("dosing:appointment_cancel", args=[booked.appointment.uuid])
    assert web.post(url, {"version": 1}).status_code == 403
    assert Appointment.objects.get().status == "booked"


def test_a_clinic_without_rooms_or_staff_still_shows_a_page(staff_login, coordinator):
    assert board_day(staff_login(coordinator)).status_code == 200


def test_garbage_days_show_today(staff_login, coordinator):
    web = staff_login(coordinator)
    for day in ("garbage", "1900-01-01", "9999-12-31", ""):
        assert web.get(BOARD, {"day": day}).status_code == 200
        assert web.get(reverse("dosing:board_week"), {"day": day}).status_code == 200


def test_the_dosing_session_admin_adds_nothing(staff_login, booked):
    """The guard holds from the admin too: no booking is made there."""
    from clinic.tests.factories import UserFactory

    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    web = staff_login(root)
    assert web.get("/admin/dosing/dosingsession/add/").status_code == 403
    assert web.post("/admin/dosing/dosingsession/add/", {}).status_code == 403
    assert web.get("/admin/dosing/dosingsession/").status_code == 200
    assert DosingSession.objects.count() == 1


def test_a_superuser_without_a_clinic_role_reads_but_does_not_book(
    staff_login, room, course_in_dosing, therapist, medical_practitioner
):
    from clinic.tests.factories import UserFactory

    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    web = staff_login(root)
    assert board_day(web).status_code == 200
    response = web.post(NEW, form(room, course_in_dosing, therapist, medical_practitioner), **HTMX)
    assert scheduling.MSG_NOT_PERMITTED in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_free_cell_of_a_room_that_is_not_for_dosing_proposes_a_preparatory_session(
    staff_login, coordinator, consult_room
):
    body = board_day(staff_login(coordinator)).content.decode()
    assert f"kind=preparatory_session&amp;room={consult_room.pk}&amp;" in body
    panel = staff_login(coordinator).get(
        NEW,
        {"clinic": "montreal", "kind": "preparatory_session", "room": consult_room.pk},
        **HTMX,
    )
    assert '<option value="preparatory_session" selected>' in panel.content.decode()


@pytest.mark.parametrize("day", ["2026-11-01", "2027-03-14"])
def test_the_board_of_a_daylight_saving_change_day_keeps_its_hours(
    staff_login, coordinator, course_in_dosing, dosing_team, clock, day
):
    """On the 25-hour and the 23-hour day, 9:00 is still 9:00 and the axis
    still runs 7:00 to 21:00 (the change happens at 2:00, before the day)."""
    from datetime import date, datetime

    from sessions.tests.conftest import MTL

    local = date.fromisoformat(day)
    start = datetime(local.year, local.month, local.day, 9, 0, tzinfo=MTL)
    book_dosing(course_in_dosing, [start], dosing_team, coordinator)
    body = board_day(staff_login(coordinator), day=day).content.decode()
    assert "board-cols-56" in body
    ticks = re.findall(r'<span class="board-tick gs-(\d+) gn-4">([^<]+)</span>', body)
    assert ticks[0] == ("1", "7:00 a.m.") and ticks[-1] == ("53", "8:00 p.m.")
    assert "9:00 a.m.–12:00 p.m. · " in body
    assert 'class="board-block kind-dosing_session status-booked gs-9 gn-12"' in body


@pytest.mark.parametrize(("rooms", "sessions"), [(1, 1), (5, 2)])
def test_the_booking_and_appointment_panels_cost_the_same_queries_at_two_sizes(
    staff_login,
    coordinator,
    clinic_qc,
    booked,
    room,
    course_in_dosing,
    therapist,
    medical_practitioner,
    rooms,
    sessions,
    django_assert_max_num_queries,
):
    """More rooms, staff, dosing clients and bookings that Thursday: the
    booking form (its client, room and staff choices), the client list, the
    preview of who is busy when, a booking's details and its move and cancel
    forms keep their budget."""
    grow(clinic_qc, coordinator, rooms, sessions)
    clients = rooms * sessions + 1
    web = staff_login(coordinator)
    web.get(BOARD)  # the session's first request records it (usersessions)
    with django_assert_max_num_queries(9):
        response = web.get(NEW, {"clinic": "montreal", "kind": "dosing_session"})
    assert response.status_code == 200
    options = re.findall(r'<option value="([0-9a-f-]{36})"', response.content.decode())
    assert len(options) == clients
    with django_assert_max_num_queries(6):
        response = web.get(
            reverse("dosing:client_options"),
            {"clinic": "montreal", "kind": "dosing_session"},
            **HTMX,
        )
    options = re.findall(r'<option value="([0-9a-f-]{36})"', response.content.decode())
    assert len(options) == clients
    with django_assert_max_num_queries(17):
        response = web.get(
            CHECK, form(room, course_in_dosing, therapist, medical_practitioner), **HTMX
        )
    busy = f"{therapist.get_full_name()} is busy 9:00 a.m.–12:00 p.m. (dosing session)"
    assert busy in response.content.decode()
    with django_assert_max_num_queries(7):
        response = web.get(reverse("dosing:appointment", args=[booked.appointment.uuid]), **HTMX)
    assert "Salle Fleuve" in response.content.decode()
    move = reverse("dosing:appointment_move", args=[booked.appointment.uuid])
    with django_assert_max_num_queries(10):
        response = web.get(move, **HTMX)
    assert response.status_code == 200
    assert len(re.findall(r'<option value="\d+"[^>]*>Room ', response.content.decode())) == rooms
    cancel = reverse("dosing:appointment_cancel", args=[booked.appointment.uuid])
    with django_assert_max_num_queries(7):
        response = web.get(cancel, **HTMX)
    assert response.status_code == 200
