"""Each staff role's Django permissions, held by one auth group per role
(named by the role's value), and a staff member's membership following
their role.

The admin shows a person the models their groups' permissions name, and each
admin then narrows the rows to the person's clinics (and, for clinical
records, to clinicians): the permissions say which kind of record is a
role's work, the admins say whose. `tests/test_permission_matrix.py` holds
the same table from the outside and compares it with the groups.

A stage app whose models are a role's work adds them from its AppConfig.ready()
with `register_role_permissions` (and grants them to the group by name in a
data migration, for databases already migrated)."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from .models import StaffRole, User


def _model(label: str, *actions: str) -> set[str]:
    app_label, model = label.split(".")
    return {f"{app_label}.{action}_{model}" for action in actions}


# What every member of the care team reads to schedule and follow a course
# (not its clinical content: screenings, call notes and consents are the
# clinicians').
_CARE_TEAM = (
    _model("clinic.clientprofile", "view")
    | _model("clinic.course", "view", "change")  # change: the stage-change page
    | _model("clinic.journeyevent", "view")
    | _model("clinic.appointment", "view")
    | _model("clinic.reservation", "view")  # an appointment's people and room
    | _model("dosing.preparationappointment", "view")
    | _model("dosing.dosingseries", "view")
    | _model("dosing.dosingsession", "view")
    | _model("dosing.dosingsettings", "view")
)
_CLINICIAN = _CARE_TEAM | (
    _model("eligibility.screening", "view")
    | _model("intake.intakecall", "view")
    | _model("intake.intakecalloutcome", "view")
    | _model("dosing.consent", "view")
)

ROLE_PERMISSIONS: dict[str, set[str]] = {
    StaffRole.COORDINATOR: _CARE_TEAM
    | _model("intake.availabilitywindow", "view", "add", "change", "delete")
    | _model("intake.availabilityexception", "view", "add", "change", "delete")
    | _model("intake.bookingrules", "view", "change")
    | _model("clinic.room", "view", "add", "change"),
    StaffRole.THERAPIST: set(_CLINICIAN),
    StaffRole.MEDICAL_PRACTITIONER: set(_CLINICIAN),
    StaffRole.PRIVACY_OFFICER: (
        _model("clinic.accesslogentry", "view")
        | _model("clinic.accountclosurerequest", "view", "change")
        | _model("clinic.confidentialityincident", "view", "add", "change")
        | _model("clinic.staffprofile", "view")
        | _model("clinic.staffinvitation", "view")
    ),
}
# Clinic's own table, the one its data migration (0018) grants; ROLE_PERMISSIONS
# gains what the stage apps register (their migrations grant it).
CLINIC_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    role: frozenset(names) for role, names in ROLE_PERMISSIONS.items()
}


def register_role_permissions(role: str, permissions: set[str]) -> None:
    """A stage app's models that are part of `role`'s work ("app.codename")."""
    ROLE_PERMISSIONS[StaffRole(role)] |= set(permissions)


def _permissions(names: set[str], using: str = "default"):
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.using(using).filter(query)


def role_groups_ensure(*, using: str = "default") -> None:
    """Every role's group exists and holds at least its role's permissions.
    Run after every migrate (post_migrate): the data migration made the
    groups, this keeps them after a flush (tests) and adds a permission a
    later version gives a role. It never removes one."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.using(using).get_or_create(name=role)
        group.permissions.add(*_permissions(names, using))


def staff_groups_sync(*, user: User) -> None:
    """The user's role groups follow their staff profile's role: the role's
    group, and no other role's (a person without a staff profile has none).
    Called wherever a staff member is made or their role may have changed:
    staff_profile_create, the staff profiles' admin, an invitation."""
    profile = getattr(user, "staff_profile", None)
    role_groups = Group.objects.filter(name__in=StaffRole.values)
    with transaction.atomic():
        wanted = None
        if profile is not None:
            wanted, created = Group.objects.get_or_create(name=profile.role)
            if created:
                wanted.permissions.add(*_permissions(ROLE_PERMISSIONS[profile.role]))
        user.groups.remove(*role_groups.exclude(pk=getattr(wanted, "pk", None)))
        if wanted is not None:
            user.groups.add(wanted)
    # The permissions Django cached on this user object are stale now.
    for cache in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)
