"""Staff roles as auth groups: made by a data migration, each staff member in
their role's group, and what that gives a coordinator in the admin."""

import importlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from clinic import roles
from clinic.models import Room, StaffProfile, StaffRole
from clinic.tests.factories import UserFactory, staff_create
from intake.models import AvailabilityException, AvailabilityWindow
from intake.tests.factories import rules

pytestmark = pytest.mark.django_db


def group_permissions(name: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_there_is_one_group_per_staff_role_named_by_the_role():
    assert set(Group.objects.values_list("name", flat=True)) >= set(StaffRole.values)


@pytest.mark.parametrize("role", StaffRole.values)
def test_each_group_holds_its_roles_permissions(role):
    assert group_permissions(role) >= roles.ROLE_PERMISSIONS[role]


def test_the_migrations_table_is_clinics_own_table():
    migration = importlib.import_module("clinic.migrations.0018_staff_role_groups")
    assert {r: set(p) for r, p in migration.ROLE_PERMISSIONS.items()} == {
        r: set(p) for r, p in roles.CLINIC_ROLE_PERMISSIONS.items()
    }


@pytest.mark.parametrize("role", StaffRole.values)
def test_a_new_staff_member_is_in_their_roles_group_only(clinic_qc, role):
    user = staff_create(role=role, clinics=[clinic_qc])
    assert list(user.groups.values_list("name", flat=True)) == [role]


def test_a_role_change_moves_the_person_to_the_new_roles_group(clinic_qc, therapist):
    StaffProfile.objects.filter(user=therapist).update(role=StaffRole.COORDINATOR)
    therapist.refresh_from_db()
    roles.staff_groups_sync(user=therapist)
    assert list(therapist.groups.values_list("name", flat=True)) == [StaffRole.COORDINATOR]
    assert therapist.has_perm("intake.add_availabilitywindow")
    assert not therapist.has_perm("eligibility.view_screening")


def test_a_person_without_a_staff_profile_is_in_no_role_group(client_a):
    client_a.user.groups.add(Group.objects.get(name=StaffRole.THERAPIST))
    roles.staff_groups_sync(user=client_a.user)
    assert not client_a.user.groups.exists()


def test_an_invitation_gives_a_profile_made_outside_the_services_its_group(
    clinic_qc, privacy_officer
):
    from clinic import invitations

    user = UserFactory()
    profile = StaffProfile.objects.create(user=user, role=StaffRole.COORDINATOR)
    profile.clinics.set([clinic_qc])
    user.is_staff = True
    user.save()
    assert not user.groups.exists()
    invitations.staff_invitation_issue(user=user, actor=privacy_officer)
    assert list(user.groups.values_list("name", flat=True)) == [StaffRole.COORDINATOR]


def test_a_superuser_changing_a_role_in_the_admin_moves_the_group(
    clinic_qc, therapist, staff_login
):
    admin_user = UserFactory(is_superuser=True, is_staff=True)
    browser = staff_login(admin_user)
    profile = therapist.staff_profile
    response = browser.post(
        f"/admin/clinic/staffprofile/{profile.pk}/change/",
        {
            "user": therapist.pk,
            "role": StaffRole.MEDICAL_PRACTITIONER,
            "clinics": [clinic_qc.pk],
            "profession": "",
            "registration_number": "",
            "bio": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert list(therapist.groups.values_list("name", flat=True)) == [StaffRole.MEDICAL_PRACTITIONER]


def test_the_data_migration_puts_existing_staff_in_their_roles_group(clinic_qc, coordinator):
    coordinator.groups.clear()
    Group.objects.filter(name__in=StaffRole.values).delete()
    migration = importlib.import_module("clinic.migrations.0018_staff_role_groups")
    state = MigrationLoader(connection).project_state(("clinic", "0018_staff_role_groups"))
    with connection.schema_editor() as editor:
        migration.create_groups(state.apps, editor)
    assert list(coordinator.groups.values_list("name", flat=True)) == [StaffRole.COORDINATOR]
    assert (
        group_permissions(StaffRole.COORDINATOR)
        == roles.CLINIC_ROLE_PERMISSIONS[StaffRole.COORDINATOR]
    )


# --- What a coordinator does in the admin -----------------------------------------------


def test_a_coordinator_sees_scheduling_in_the_admin_menu_and_nothing_clinical(
    coordinator, staff_login
):
    response = staff_login(coordinator).get("/admin/")
    assert response.status_code == 200
    models = {
        model["object_name"] for app in response.context["app_list"] for model in app["models"]
    }
    assert {"AvailabilityWindow", "AvailabilityException", "BookingRules", "Room"} <= models
    assert not models & {"Screening", "IntakeCall", "Consent", "AccessLogEntry", "User"}


def test_a_coordinator_sets_a_clinicians_availability_at_their_clinic(
    clinic_qc, coordinator, therapist, staff_login
):
    response = staff_login(coordinator).post(
        "/admin/intake/availabilitywindow/add/",
        {
            "clinic": clinic_qc.pk,
            "staff": therapist.pk,
            "weekday": 2,
            "start_time": "09:00",
            "end_time": "12:00",
            "valid_from": "",
            "valid_until": "",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    assert AvailabilityWindow.objects.filter(clinic=clinic_qc, staff=therapist).exists()


def test_a_coordinator_cannot_set_availability_at_another_clinic(
    clinic_qc, clinic_bc, coordinator, other_clinic_therapist, staff_login
):
    response = staff_login(coordinator).post(
        "/admin/intake/availabilitywindow/add/",
        {
            "clinic": clinic_bc.pk,
            "staff": other_clinic_therapist.pk,
            "weekday": 2,
            "start_time": "09:00",
            "end_time": "12:00",
        },
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert set(form.errors) == {"clinic", "staff"}
    assert not AvailabilityWindow.objects.exists()


def test_a_coordinator_closes_the_clinic_and_changes_booking_rules_and_rooms(
    clinic_qc, coordinator, staff_login
):
    browser = staff_login(coordinator)
    response = browser.post(
        "/admin/intake/availabilityexception/add/",
        {
            "clinic": clinic_qc.pk,
            "staff": "",
            "start_0": "2030-07-01",
            "start_1": "00:00",
            "end_0": "2030-07-02",
            "end_1": "00:00",
            "reason": "Canada Day",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    assert AvailabilityException.objects.get().staff is None
    booking_rules = rules(clinic_qc)
    assert browser.get(f"/admin/intake/bookingrules/{booking_rules.pk}/change/").status_code == 200
    response = browser.post(
        "/admin/clinic/room/add/",
        {"clinic": clinic_qc.pk, "name": "Salle 3", "features": "", "is_active": "on"},
    )
    assert response.status_code == 302, response.content[:3000]
    assert Room.objects.filter(clinic=clinic_qc, name="Salle 3").exists()


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_gets_the_groups_back_after_migrate():
    """A transactional test's flush empties auth_group; post_migrate (sent by
    flush and migrate) makes the groups again, with their permissions."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    for role in StaffRole.values:
        assert group_permissions(role) >= roles.ROLE_PERMISSIONS[role]


def test_availability_and_a_closure_set_in_the_admin_change_the_booking_slots(
    clinic_qc, coordinator, therapist, staff_login
):
    from intake.selectors import intake_slots

    rules(clinic_qc, minimum_notice_hours=0)
    browser = staff_login(coordinator)
    assert not any(intake_slots(clinic=clinic_qc).values())
    for weekday in range(7):
        response = browser.post(
            "/admin/intake/availabilitywindow/add/",
            {
                "clinic": clinic_qc.pk,
                "staff": therapist.pk,
                "weekday": weekday,
                "start_time": "09:00",
                "end_time": "17:00",
            },
        )
        assert response.status_code == 302
    slots = {day: found for day, found in intake_slots(clinic=clinic_qc).items() if found}
    assert slots
    day = sorted(slots)[-1]
    response = browser.post(
        "/admin/intake/availabilityexception/add/",
        {
            "clinic": clinic_qc.pk,
            "staff": "",
            "start_0": day.isoformat(),
            "start_1": "00:00",
            "end_0": (day + timedelta(days=1)).isoformat(),
            "end_1": "00:00",
            "reason": "Closed",
        },
    )
    assert response.status_code == 302
    assert not intake_slots(clinic=clinic_qc).get(day)
