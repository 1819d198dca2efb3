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


def counts():
    return [
        m.objects.count()
        for m in (Clinic, Room, User, StaffProfile, ClientProfile, Course, JourneyEvent)
    ]


def test_demo_data_has_every_role_and_every_stage_and_a_second_run_changes_nothing(db):
    call_command("seed_demo", quiet=True)
    assert set(Clinic.objects.values_list("province", flat=True)) == {"QC", "BC"}
    assert set(StaffProfile.objects.values_list("role", flat=True)) == set(StaffRole.values)
    for clinic in Clinic.objects.all():
        assert set(Course.objects.filter(clinic=clinic).values_list("stage", flat=True)) == set(
            Stage.values
        )
    # Every course got where it is through the journey service.
    for course in Course.objects.all():
        assert course.events.order_by("-at", "-pk").first().to_stage == course.stage
    before = counts()
    call_command("seed_demo", quiet=True)
    assert counts() == before
