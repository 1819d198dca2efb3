from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from clinic.calendar import appointment_book
from clinic.models import Appointment, AppointmentKind, OutboxMessage, Stage
from clinic.outbox import outbox_sweep
from integration.individual import selectors, services
from integration.individual.models import IntegrationSessionSettings

from .individual_factories import MONDAY_TEN, MTL, NOW, TUESDAY_NINE, held_dosing

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def dosing(client_a, therapist, medical_practitioner, clock):
    return held_dosing(client_a, therapist, medical_practitioner)


def test_it_offers_the_therapists_free_hours_one_to_three_days_after(dosing, therapist):
    slots = selectors.free_slots(
        dosing_session=dosing,
        therapist=therapist,
        settings=selectors.session_settings(dosing.appointment.clinic),
        now=NOW,
    )
    local = [s.start.astimezone(MTL) for s in slots]
    assert local[0] == datetime(2026, 6, 1, 9, 0, tzinfo=MTL)
    assert local[-1] == datetime(2026, 6, 3, 16, 0, tzinfo=MTL)
    assert len(slots) == 24


def test_the_window_is_a_clinic_setting(dosing, therapist, clinic_qc):
    IntegrationSessionSettings.objects.create(
        clinic=clinic_qc, window_from_days=2, window_to_days=2, session_minutes=90
    )
    slots = selectors.free_slots(
        dosing_session=dosing,
        therapist=therapist,
        settings=selectors.session_settings(clinic_qc),
        now=NOW,
    )
    assert {s.start.astimezone(MTL).date() for s in slots} == {TUESDAY_NINE.date()}
    assert all(s.end - s.start == timedelta(minutes=90) for s in slots)


def test_a_time_the_therapist_holds_elsewhere_is_not_offered(dosing, therapist, clinic_qc):
    appointment_book(
        clinic=clinic_qc,
        kind=AppointmentKind.PREPARATORY_SESSION,
        start=MONDAY_TEN,
        end=MONDAY_TEN + timedelta(hours=1),
        staff=[therapist],
    )
    starts = [s.start for s in selectors.client_offers(client=dosing.appointment.client)[0].slots]
    assert MONDAY_TEN not in starts
    assert MONDAY_TEN + timedelta(hours=1) in starts


def test_the_client_books_with_the_therapist_of_the_dosing_session(dosing, client_a, therapist):
    session = services.integration_session_book(
        dosing_session=dosing, start=MONDAY_TEN, actor=client_a.user
    )
    appointment = session.appointment
    assert appointment.kind == AppointmentKind.INTEGRATION_SESSION
    assert appointment.start == MONDAY_TEN
    assert session.therapist == therapist
    assert set(appointment.reservations.values_list("staff_id", flat=True)) == {therapist.pk, None}
    kinds = set(OutboxMessage.objects.values_list("kind", flat=True))
    # Monday 10:00 is less than a day ahead: the confirmation says it all.
    assert kinds == {services.CONFIRMATION}


def test_a_time_outside_the_window_is_refused(dosing, client_a):
    with pytest.raises(services.IntegrationSessionError, match="not one of the times offered"):
        services.integration_session_book(
            dosing_session=dosing, start=MONDAY_TEN + timedelta(days=5), actor=client_a.user
        )
    with pytest.raises(services.IntegrationSessionError, match="not one of the times offered"):
        services.integration_session_book(
            dosing_session=dosing, start=MONDAY_TEN + timedelta(minutes=20), actor=client_a.user
        )
    assert not Appointment.objects.filter(kind=AppointmentKind.INTEGRATION_SESSION).exists()


def test_a_second_booking_after_the_same_dosing_session_is_refused(dosing, client_a):
    services.integration_session_book(dosing_session=dosing, start=MONDAY_TEN, actor=client_a.user)
    with pytest.raises(services.IntegrationSessionError, match="already booked"):
        services.integration_session_book(
            dosing_session=dosing, start=TUESDAY_NINE, actor=client_a.user
        )
    assert Appointment.objects.filter(kind=AppointmentKind.INTEGRATION_SESSION).count() == 1


def test_a_taken_time_is_refused(dosing, client_a, client_b, therapist, clinic_qc):
    appointment_book(
        clinic=clinic_qc,
        kind=AppointmentKind.INTEGRATION_SESSION,
        start=MONDAY_TEN,
        end=MONDAY_TEN + timedelta(hours=1),
        staff=[therapist],
        client=client_b,
    )
    with pytest.raises(services.IntegrationSessionError):
        services.integration_session_book(
            dosing_session=dosing, start=MONDAY_TEN, actor=client_a.user
        )


@pytest.mark.parametrize("stage", [Stage.PREPARE, Stage.RECONNECT])
def test_a_client_in_another_stage_is_refused(
    client_a, therapist, medical_practitioner, clock, stage
):
    dosing = held_dosing(client_a, therapist, medical_practitioner, stage=stage)
    with pytest.raises(services.IntegrationSessionError, match="dosing or integrate"):
        services.integration_session_book(
            dosing_session=dosing, start=MONDAY_TEN, actor=client_a.user
        )


def test_a_client_in_integrate_can_book(client_a, therapist, medical_practitioner, clock):
    dosing = held_dosing(client_a, therapist, medical_practitioner, stage=Stage.INTEGRATE)
    services.integration_session_book(dosing_session=dosing, start=MONDAY_TEN, actor=client_a.user)


def test_another_client_or_another_clinic_cannot_book(dosing, client_b, other_clinic_therapist):
    for actor in (client_b.user, other_clinic_therapist):
        with pytest.raises(services.IntegrationSessionError, match="Only the client"):
            services.integration_session_book(dosing_session=dosing, start=MONDAY_TEN, actor=actor)


def test_a_coordinator_books_moves_and_cancels_for_the_client(dosing, coordinator):
    session = services.integration_session_book(
        dosing_session=dosing, start=MONDAY_TEN, actor=coordinator
    )
    assert session.booked_by == coordinator
    services.integration_session_move(
        session=session, start=TUESDAY_NINE, actor=coordinator, version=1
    )
    assert session.appointment.start == TUESDAY_NINE
    with pytest.raises(services.IntegrationSessionError, match="changed in the meantime"):
        services.integration_session_move(
            session=session, start=MONDAY_TEN, actor=coordinator, version=1
        )
    services.integration_session_cancel(session=session, actor=coordinator, version=2)
    assert session.appointment.status == Appointment.Status.CANCELLED
    assert not session.appointment.reservations.filter(is_live=True).exists()
    assert OutboxMessage.objects.filter(kind=services.CANCELLED).count() == 1
    # The time is free again, and a new one can be booked after the cancel.
    services.integration_session_book(dosing_session=dosing, start=MONDAY_TEN, actor=coordinator)


def test_the_reminder_goes_out_in_the_clients_language(dosing, client_a, mailoutbox, clock):
    client_a.user.preferred_language = "fr"
    client_a.user.save()
    services.integration_session_book(
        dosing_session=dosing, start=TUESDAY_NINE, actor=client_a.user
    )
    clock.move_to(TUESDAY_NINE - timedelta(hours=23))
    outbox_sweep()
    subjects = [m.subject for m in mailoutbox]
    assert any(s.startswith("Rappel\xa0: votre rendez-vous du mardi") for s in subjects), subjects


def test_times_stay_on_the_clinics_clock_across_the_autumn_change(
    client_a, therapist, medical_practitioner
):
    # Toronto leaves daylight saving time on Sunday November 1, 2026.
    with time_machine.travel(datetime(2026, 10, 31, 12, 0, tzinfo=MTL), tick=False):
        dosing = held_dosing(
            client_a, therapist, medical_practitioner, start=datetime(2026, 10, 31, 9, tzinfo=MTL)
        )
        slots = selectors.client_offers(client=client_a)[0].slots
    local = [s.start.astimezone(MTL) for s in slots]
    assert local[0] == datetime(2026, 11, 1, 9, 0, tzinfo=MTL)
    assert {t.hour for t in local} == set(range(9, 17))
    assert len(slots) == 24
    # 9:00 on November 1 is 14:00 UTC (EST); the dosing session's 9:00 was 13:00 UTC (EDT).
    assert slots[0].start.astimezone(UTC).hour == 14
    assert dosing.appointment.start.astimezone(UTC).hour == 13
