"""Who may open which page. Views use these decorators; objects are then
fetched through selectors scoped to the person, so another client's id is a 404."""

from functools import wraps

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect


def is_staff_member(user) -> bool:
    """Staff for every gate (two-factor, staff pages): a staff profile, or
    admin access. One test, so no page is staff-only in one place and not
    behind two-factor in another."""
    return user.is_authenticated and (
        user.is_staff or user.is_superuser or hasattr(user, "staff_profile")
    )


def client_required(view):
    """A signed-in client whose e-mail address is verified."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect("account_login")
        if is_staff_member(user):
            return redirect("home_after_login")
        if not EmailAddress.objects.filter(user=user, verified=True).exists():
            return redirect("portal:verify_email")
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view):
    """A member of the care team (the MFA gate in middleware has already run)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect("account_login")
        if not is_care_team(user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def is_care_team(user) -> bool:
    """Therapists, medical practitioners and coordinators: the people who work
    with clients' courses. The privacy officer's tools are the access log and
    the incident register, in the admin."""
    from .models import StaffRole

    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return user.is_superuser
    return profile.role != StaffRole.PRIVACY_OFFICER


def is_clinician(user) -> bool:
    """A therapist or a medical practitioner: reads clinical content and decides."""
    profile = getattr(user, "staff_profile", None)
    return profile is not None and profile.is_clinician


def works_at(user, clinic_id: int) -> bool:
    """A staff member of this clinic (one query)."""
    profile = getattr(user, "staff_profile", None)
    return profile is not None and profile.clinics.filter(pk=clinic_id).exists()


def is_clinician_of(user, clinic_id: int) -> bool:
    """A therapist or a medical practitioner of this clinic: who reads its
    clients' clinical records and decides for them. The one test every
    service asks (the decision on a screening, an intake call's outcome...)."""
    return is_clinician(user) and works_at(user, clinic_id)


def is_privacy_officer(user) -> bool:
    from .models import StaffRole

    profile = getattr(user, "staff_profile", None)
    return profile is not None and profile.role == StaffRole.PRIVACY_OFFICER


def is_medical_practitioner_of(user, clinic_id: int) -> bool:
    """A medical practitioner of this clinic: who sets dose plans, signs off
    medical assessments and confirms a dose despite a raised blood pressure."""
    from .models import StaffRole

    profile = getattr(user, "staff_profile", None)
    return (
        profile is not None
        and profile.role == StaffRole.MEDICAL_PRACTITIONER
        and works_at(user, clinic_id)
    )
