"""The demo data's appointments, booked through the scheduling services."""

from django.core.management import call_command
from django.utils import timezone

from clinic.models import Appointment, AppointmentKind, Course, Stage
from sessions.models import DosingSeries, DosingSession, PreparationAppointment


def test_the_demo_has_a_series_ahead_held_sessions_behind_and_a_client_preparing(db):
    """The dosing client's series is booked ahead and the prepare client's
    assessment and preparatory session (scheduling); those past dosing have
    their sessions held (the session record's seed)."""
    call_command("seed_demo", quiet=True)
    now = timezone.now()
    for clinic in ("montreal", "vancouver"):
        dosing = Course.objects.get(clinic__slug=clinic, stage=Stage.DOSING)
        series = DosingSeries.objects.get(course=dosing)
        ahead = DosingSession.objects.filter(series=series, appointment__status="booked")
        assert series.planned_sessions == ahead.count() == 6
        assert all(s.appointment.start > now for s in ahead)
        for stage in (Stage.INTEGRATE, Stage.RECONNECT):
            course = Course.objects.get(clinic__slug=clinic, stage=stage)
            held = DosingSession.objects.filter(series__course=course)
            assert held.exists()
            assert {s.appointment.status for s in held} == {Appointment.Status.HELD}
        preparing = Course.objects.get(clinic__slug=clinic, stage=Stage.PREPARE)
        kinds = set(
            PreparationAppointment.objects.filter(course=preparing).values_list(
                "appointment__kind", flat=True
            )
        )
        assert kinds == {AppointmentKind.MEDICAL_ASSESSMENT, AppointmentKind.PREPARATORY_SESSION}
    before = Appointment.objects.count()
    call_command("seed_demo", quiet=True)
    assert Appointment.objects.count() == before
