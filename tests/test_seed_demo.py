from django.core.management import call_command

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
from intake.models import AvailabilityWindow, IntakeCall
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
    AvailabilityWindow,
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
    # Every course got where it is through the journey service, guards included:
    # everyone past connect had their intake call held.
    for course in Course.objects.all():
        assert course.events.order_by("-at", "-pk").first().to_stage == course.stage
    past_connect = Course.objects.exclude(stage__in=["connect", "declined"]).count()
    assert IntakeCall.objects.filter(appointment__status="held").count() >= past_connect
    # The medical practitioners may watch session recordings; no one else is granted it.
    watchers = User.objects.filter(user_permissions__codename="download_recording")
    assert set(watchers.values_list("staff_profile__role", flat=True)) == {
        StaffRole.MEDICAL_PRACTITIONER
    }
    assert watchers.count() == StaffProfile.objects.filter(role="medical_practitioner").count()
    before = counts()
    call_command("seed_demo", quiet=True)
    assert counts() == before
