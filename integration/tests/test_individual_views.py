from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from clinic.models import AccessLogEntry, Appointment, AppointmentKind, Stage
from integration.individual import selectors
from sessions.tests.record_factories import session_at

from .individual_factories import HELD_AT, MONDAY_TEN, NOW, TUESDAY_NINE, held_dosing

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def dosing(client_a, therapist, medical_practitioner, clock):
    return held_dosing(client_a, therapist, medical_practitioner)


@pytest.fixture
def as_client_a(client, client_a):
    client.force_login(client_a.user)
    return client


def key(moment):
    return selectors.Slot(moment, moment).key


def booked():
    return Appointment.objects.filter(
        kind=AppointmentKind.INTEGRATION_SESSION, status=Appointment.Status.BOOKED
    )


def test_the_portal_lists_the_free_times_after_the_dosing_session(as_client_a, dosing):
    response = as_client_a.get(reverse("individual:portal"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="slot"') == 24
    assert "Monday June 1, 2026, 10:00 a.m." in page


def test_the_client_confirms_then_books_and_sees_it(as_client_a, dosing):
    url = reverse("individual:portal_book", args=[dosing.uuid])
    confirm = as_client_a.get(url, {"slot": key(MONDAY_TEN)})
    assert 'data-testid="confirm-booking"' in confirm.content.decode()
    assert not booked().exists()  # the confirm page books nothing
    response = as_client_a.post(url, {"slot": key(MONDAY_TEN)})
    assert response.status_code == 302
    assert booked().get().start == MONDAY_TEN
    portal = as_client_a.get(reverse("individual:portal")).content.decode()
    assert 'data-testid="booked-session"' in portal
    assert "Monday June 1, 2026, 10:00 a.m." in portal


def test_a_double_submit_books_once_and_says_so(as_client_a, dosing):
    url = reverse("individual:portal_book", args=[dosing.uuid])
    as_client_a.post(url, {"slot": key(MONDAY_TEN)})
    response = as_client_a.post(url, {"slot": key(TUESDAY_NINE)}, follow=True)
    assert booked().get().start == MONDAY_TEN
    assert "already booked" in response.content.decode()


@pytest.mark.parametrize(
    "slot", ["", "yesterday", "20260610T1400Z", "20260601T1420Z", "99991301T0000Z"]
)
def test_a_bad_or_outside_time_books_nothing(as_client_a, dosing, slot):
    url = reverse("individual:portal_book", args=[dosing.uuid])
    response = as_client_a.post(url, {"slot": slot}, follow=True)
    assert response.status_code == 200
    assert "not one of the times offered" in response.content.decode()
    assert not booked().exists()


def test_another_clients_dosing_session_is_a_404(client, client_b, dosing):
    client.force_login(client_b.user)
    url = reverse("individual:portal_book", args=[dosing.uuid])
    assert client.get(url).status_code == 404
    assert client.post(url, {"slot": key(MONDAY_TEN)}).status_code == 404
    assert client.post(reverse("individual:portal_cancel", args=[dosing.uuid])).status_code == 404
    assert not booked().exists()


def test_a_client_in_another_stage_is_told_and_books_nothing(
    client, client_a, therapist, medical_practitioner, clock
):
    dosing = held_dosing(client_a, therapist, medical_practitioner, stage=Stage.RECONNECT)
    client.force_login(client_a.user)
    url = reverse("individual:portal_book", args=[dosing.uuid])
    assert 'data-testid="not-in-stage"' in client.get(url).content.decode()
    response = client.post(url, {"slot": key(MONDAY_TEN)}, follow=True)
    assert "dosing or integrate stage" in response.content.decode()
    assert not booked().exists()


def test_move_and_cancel_ask_first_and_keep_the_version(as_client_a, dosing):
    book = reverse("individual:portal_book", args=[dosing.uuid])
    as_client_a.post(book, {"slot": key(MONDAY_TEN)})
    as_client_a.post(book, {"slot": key(TUESDAY_NINE), "version": "1"})
    assert booked().get().start == TUESDAY_NINE
    stale = as_client_a.post(book, {"slot": key(MONDAY_TEN), "version": "1"}, follow=True)
    assert "changed in the meantime" in stale.content.decode()
    assert booked().get().start == TUESDAY_NINE
    cancel = reverse("individual:portal_cancel", args=[dosing.uuid])
    assert 'data-testid="confirm-cancel"' in as_client_a.get(cancel).content.decode()
    assert booked().exists()  # asking cancels nothing
    as_client_a.post(cancel, {"version": "2"})
    assert not booked().exists()


def test_a_coordinator_books_for_the_client_and_the_read_is_logged(
    staff_login, coordinator, dosing
):
    browser = staff_login(coordinator)
    page = reverse("individual:staff_course", args=[dosing.series.course.uuid])
    assert browser.get(page).status_code == 200
    assert AccessLogEntry.objects.filter(actor=coordinator).count() == 1
    url = reverse("individual:staff_book", args=[dosing.uuid])
    browser.post(url, {"slot": key(MONDAY_TEN)})
    session = booked().get().integration_session
    assert session.booked_by == coordinator
    assert AccessLogEntry.objects.filter(actor=coordinator).count() == 2


def test_another_clinics_therapist_gets_a_404(staff_login, other_clinic_therapist, dosing):
    browser = staff_login(other_clinic_therapist)
    url = reverse("individual:staff_book", args=[dosing.uuid])
    assert browser.post(url, {"slot": key(MONDAY_TEN)}).status_code == 404
    assert not booked().exists()


def _more_sessions(course, therapist, practitioner, count):
    for n in range(1, count):
        session = session_at(
            course, therapist, practitioner, start=HELD_AT - timedelta(days=3 * n), planned=count
        )
        Appointment.objects.filter(pk=session.appointment_id).update(status=Appointment.Status.HELD)


@pytest.mark.parametrize("count", [1, 8])
def test_the_portal_and_staff_pages_cost_the_same_at_any_size(
    client,
    client_a,
    therapist,
    medical_practitioner,
    coordinator,
    staff_login,
    dosing,
    count,
    django_assert_max_num_queries,
):
    _more_sessions(dosing.series.course, therapist, medical_practitioner, count)
    client.force_login(client_a.user)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("individual:portal")).status_code == 200
    browser = staff_login(coordinator)
    with django_assert_max_num_queries(13):
        page = reverse("individual:staff_course", args=[dosing.series.course.uuid])
        assert browser.get(page).status_code == 200


def test_the_therapist_moves_then_cancels_for_the_client_after_confirming(
    staff_login, therapist, dosing, client_a
):
    from integration.individual import services

    services.integration_session_book(dosing_session=dosing, start=MONDAY_TEN, actor=client_a.user)
    browser = staff_login(therapist)
    book = reverse("individual:staff_book", args=[dosing.uuid])
    confirm = browser.get(book, {"slot": key(TUESDAY_NINE)}).content.decode()
    assert 'name="version" value="1"' in confirm
    browser.post(book, {"slot": key(TUESDAY_NINE), "version": "1"})
    assert booked().get().start == TUESDAY_NINE
    cancel = reverse("individual:staff_cancel", args=[dosing.uuid])
    assert 'data-testid="confirm-cancel"' in browser.get(cancel).content.decode()
    browser.post(cancel, {"version": "2"})
    assert not booked().exists()


@pytest.mark.parametrize("busy", [1, 10])
def test_the_booking_pages_cost_the_same_whatever_the_therapists_calendar_holds(
    client,
    client_a,
    therapist,
    coordinator,
    clinic_qc,
    staff_login,
    dosing,
    busy,
    django_assert_max_num_queries,
):
    """The free times a client (or the care team) chooses from, with one or
    ten of the therapist's hours already taken in the window."""
    from clinic.calendar import appointment_book
    from clinic.tests.factories import client_create

    for n in range(busy):
        start = TUESDAY_NINE + timedelta(hours=n % 8, days=n // 8)
        appointment_book(
            clinic=clinic_qc,
            kind=AppointmentKind.MEDICAL_ASSESSMENT,
            start=start,
            end=start + timedelta(hours=1),
            staff=[therapist],
            client=client_create(clinic=clinic_qc),
        )
    client.force_login(client_a.user)
    client.get(reverse("individual:portal"))  # warm the session
    url = reverse("individual:portal_book", args=[dosing.uuid])
    with django_assert_max_num_queries(9):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="slot"') == 24 - busy
    browser = staff_login(coordinator)
    browser.get(reverse("individual:staff_course", args=[dosing.series.course.uuid]))
    url = reverse("individual:staff_book", args=[dosing.uuid])
    with django_assert_max_num_queries(8):
        response = browser.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="slot"') == 24 - busy
