from django.core.management import call_command

from billing.models import CatalogueItem, Invoice, Payment, StatementJob
from clinic.models import (
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
from intake.models import AvailabilityWindow, IntakeCall, IntakeCallOutcome
from intake.selectors import intake_slots

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
)


def counts():
    return [m.objects.count() for m in MODELS]


def test_demo_data_has_every_role_and_every_stage_and_a_second_run_changes_nothing(db):
    call_command("seed_demo", quiet=True)
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
    before = counts()
    call_command("seed_demo", quiet=True)
    assert counts() == before


def test_each_demo_staff_member_gets_an_invitation_link_printed_beside_their_login(db):
    from io import StringIO

    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from clinic.models import StaffInvitation
    from demo.management.commands.seed_demo import STAFF

    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
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
