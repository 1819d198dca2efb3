import pytest
from django.core.management import call_command

from clinic.models import Appointment, AppointmentKind, Stage
from integration.individual.models import IndividualSession

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_held_integration_session_after_each_finished_series_once(db):
    call_command("seed_demo", quiet=True)
    sessions = IndividualSession.objects.select_related("appointment", "course")
    assert sessions.count() >= 2
    for session in sessions:
        assert session.course.stage in (Stage.INTEGRATE, Stage.RECONNECT)
        assert session.appointment.kind == AppointmentKind.INTEGRATION_SESSION
        assert session.appointment.status == Appointment.Status.HELD
        assert session.appointment.start > session.dosing_session.appointment.start
    count = sessions.count()
    call_command("seed_demo", quiet=True)
    assert IndividualSession.objects.count() == count


def test_seed_scale_holds_integration_sessions_after_the_board_sessions(db):
    import io

    out = io.StringIO()
    call_command("seed_scale", clients=80, appointments_per_client=1, stdout=out)
    made = IndividualSession.objects.count()
    assert made > 0
    assert f"{made} integration sessions" in out.getvalue()
    assert not IndividualSession.objects.exclude(
        course__stage__in=[Stage.INTEGRATE, Stage.RECONNECT]
    ).exists()
