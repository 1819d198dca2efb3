"""The demo data (seed_demo). The command takes seconds, so the module seeds
once (the `demo` fixture) and every test reads that one database, each in
its own transaction rolled back after it; one test runs the command a
second time and checks it changes nothing."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import CatalogueItem, Invoice, Payment, StatementJob
from clinic.models import (
    Appointment,
    AppointmentKind,
    ClientProfile,
    Clinic,
    Course,
    JourneyEvent,
    Room,
    StaffProfile,
    StaffRole,
    Stage,
    User,
)
from eligibility.models import QuestionnaireResponse
from intake.models import AvailabilityWindow, IntakeCall, IntakeCallOutcome
from intake.selectors import intake_slots
from integration.groups.models import Attendance, Enrolment, IntegrationGroup
from integration.individual.models import IndividualSession
from integration.measures.models import MeasureInvitation
from integration.measures.selectors import worsened_scores
from sessions.models import DosingSeries, DosingSession, PreparationAppointment

MODELS = (
    Clinic,
    Room,
    User,
    StaffProfile,
    ClientProfile,
    Course,
    JourneyEvent,
    IntakeCall,
    IntakeCallOutcome,
    AvailabilityWindow,
    CatalogueItem,
    Invoice,
    Payment,
    StatementJob,
    IndividualSession,
    QuestionnaireResponse,
    MeasureInvitation,
    Appointment,
    IntegrationGroup,
    Enrolment,
    Attendance,
)


def counts():
    return [m.objects.count() for m in MODELS]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """seed_demo run once for the module, in a transaction rolled back after
    its last test (marked as a test case's own, as Django's TestCase marks
    its class-wide one, so the command's durable blocks may nest in it).
    Gives what the run printed."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic._from_testcase = True
        atomic.__enter__()
        try:
            out = StringIO()
            call_command("seed_demo", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_a_second_run_changes_nothing(demo, db):
    before = counts()
    call_command("seed_demo", quiet=True)
    assert counts() == before


def test_demo_data_has_every_role_and_every_stage(demo, db):
    assert set(Clinic.objects.values_list("province", flat=True)) == {"QC", "BC"}
    assert set(StaffProfile.objects.values_list("role", flat=True)) == set(StaffRole.values)
    for clinic in Clinic.objects.all():
        assert set(Course.objects.filter(clinic=clinic).values_list("stage", flat=True)) == set(
            Stage.values
        )
        assert intake_slots(clinic=clinic), "each clinic has intake times to book"
        # The review queue has screenings waiting, one with a risk of self-harm.
        from eligibility.models import Screening

        waiting = (
            Screening.objects.filter(clinic=clinic)
            .with_decided()
            .filter(status="submitted", decided=False)
        )
        assert waiting.filter(crisis_flag=True).exists() and waiting.count() >= 2
    # Every course got where it is through the journey service, guards included:
    # everyone past connect had their intake call held.
    for course in Course.objects.all():
        assert course.events.order_by("-at", "-pk").first().to_stage == course.stage
    past_connect = Course.objects.exclude(stage__in=["connect", "declined"]).count()
    assert IntakeCall.objects.filter(appointment__status="held").count() >= past_connect
    # Every held call has its outcome record, and one shows a correction with its reason.
    held = IntakeCall.objects.filter(appointment__status="held")
    assert held.filter(outcomes__isnull=True).count() == 0
    assert IntakeCallOutcome.objects.exclude(corrects=None).exclude(reason="").exists()
    # The medical practitioners may watch session recordings; no one else is granted it.
    watchers = User.objects.filter(user_permissions__codename="download_recording")
    assert set(watchers.values_list("staff_profile__role", flat=True)) == {
        StaffRole.MEDICAL_PRACTITIONER
    }
    assert watchers.count() == StaffProfile.objects.filter(role="medical_practitioner").count()
    # Billing: each clinic has its catalogue, issued invoices, payments and a
    # credit note; the coordinators may bill (their group), clinicians may not.
    for clinic in Clinic.objects.all():
        assert CatalogueItem.objects.filter(clinic=clinic).exists()
        invoices = Invoice.objects.filter(clinic=clinic)
        assert invoices.filter(kind="invoice").exclude(number="").exists()
        assert Payment.objects.filter(invoice__clinic=clinic).exists()
        assert invoices.filter(kind="credit_note").exists()
        # This year's statements are asked for, once; the worker builds them.
        assert StatementJob.objects.filter(clinic=clinic, client=None).count() == 1
    for profile in StaffProfile.objects.select_related("user"):
        may = profile.user.has_perm("billing.issue_invoice")
        assert may == (profile.role == StaffRole.COORDINATOR), profile


def test_each_demo_staff_member_gets_an_invitation_link_printed_beside_their_login(demo, db):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from clinic.models import StaffInvitation
    from demo.management.commands.seed_demo import STAFF

    printed = demo  # what the first run printed
    for email in [spec[0] for spec in STAFF] + ["admin@clinic.example"]:
        line = printed[printed.index(email) :].splitlines()[1]
        assert "http://testserver/accounts/invitation/" in line, email
    assert StaffInvitation.objects.filter(used_at=None, replaced_at=None).count() == len(STAFF) + 1
    # Someone who set up their authenticator gets no new link on the next run.
    therapist = User.objects.get(email=STAFF[0][0])
    TOTP.activate(therapist, generate_totp_secret())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert Authenticator.objects.filter(user=therapist).count() == 1
    line = out.getvalue()[out.getvalue().index(therapist.email) :].splitlines()[1]
    assert "already set up" in line


def test_the_demo_has_a_held_integration_session_after_each_finished_series_once(demo, db):
    sessions = IndividualSession.objects.select_related("appointment", "course")
    assert sessions.count() >= 2
    for session in sessions:
        assert session.course.stage in (Stage.INTEGRATE, Stage.RECONNECT)
        assert session.appointment.kind == AppointmentKind.INTEGRATION_SESSION
        assert session.appointment.status == Appointment.Status.HELD
        assert session.appointment.start > session.dosing_session.appointment.start


def test_the_demo_has_months_of_scores(demo, db):
    client = ClientProfile.objects.get(user__email="client.reconnect.montreal@example.com")
    at = list(
        QuestionnaireResponse.objects.filter(client=client, questionnaire="phq9")
        .order_by("at")
        .values_list("at", flat=True)
    )
    assert len(at) == 4 and at[-1] - at[0] > timedelta(days=120)  # baseline and 3 follow-ups
    vancouver = ClientProfile.objects.get(user__email="client.reconnect.vancouver@example.com")
    assert {r.client_id for r in worsened_scores(clinic_ids=[vancouver.clinic_id])} == {
        vancouver.pk
    }
    due = MeasureInvitation.objects.filter(
        client__user__email="client.integrate.montreal@example.com", answered_at__isnull=True
    )
    assert due.count() == 2  # the month's (open now) and the three months' (ahead)


def test_the_demo_has_a_series_ahead_held_sessions_behind_and_a_client_preparing(demo, db):
    """The dosing client's series is booked ahead and the prepare client's
    assessment and preparatory session (scheduling); those past dosing have
    their sessions held (the session record's seed)."""
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


def test_seed_demo_gives_each_clinic_a_group_with_members_a_waitlist_and_attendance(demo, db):
    assert IntegrationGroup.objects.count() == 2
    for group in IntegrationGroup.objects.all():
        statuses = list(group.enrolments.values_list("status", flat=True))
        assert statuses.count(Enrolment.Status.ENROLLED) == group.capacity
        assert Enrolment.Status.WAITLISTED in statuses
        assert Attendance.objects.filter(meeting__group=group).exists()
