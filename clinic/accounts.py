"""People's accounts: a client's registration, a staff member's profile, the
first password of an account made for someone, the language they read."""

from datetime import date

from allauth.account.models import EmailAddress
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from .journey import course_open
from .models import ClientProfile, Clinic, StaffProfile, User
from .roles import staff_groups_sync


def client_register(
    *,
    user: User,
    clinic: Clinic,
    phone: str = "",
    date_of_birth: date | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    preferred_language: str | None = None,
) -> ClientProfile:
    """Give a newly signed-up person a client profile and an open course (and
    the name and language the sign-up form asked for), in one transaction."""
    with transaction.atomic():
        details = {
            name: value
            for name, value in (
                ("first_name", first_name),
                ("last_name", last_name),
                ("preferred_language", preferred_language),
            )
            if value is not None
        }
        if details:
            for name, value in details.items():
                setattr(user, name, value)
            user.save(update_fields=list(details))
        profile = ClientProfile(user=user, clinic=clinic, phone=phone, date_of_birth=date_of_birth)
        profile.full_clean()
        profile.save()
        course_open(client=profile, actor=user)
    return profile


def user_language_set(*, user: User, language: str) -> None:
    User.objects.filter(pk=user.pk).exclude(preferred_language=language).update(
        preferred_language=language
    )


def staff_profile_create(
    *,
    user: User,
    role: str,
    clinics: list[Clinic],
    profession: str = "",
    registration_number: str = "",
    **extra,
) -> StaffProfile:
    """Make a user a staff member: a profile with a role and the clinics they
    work at, the role's group (its admin permissions), and admin access
    (behind the MFA gate)."""
    with transaction.atomic():
        profile = StaffProfile(
            user=user,
            role=role,
            profession=profession,
            registration_number=registration_number,
            **extra,
        )
        profile.full_clean(exclude=["clinics"])
        profile.save()
        profile.clinics.set(clinics)
        User.objects.filter(pk=user.pk).update(is_staff=True)
        user.is_staff = True
        staff_groups_sync(user=user)
    return profile


def other_sessions_end(*, user: User, keep_session_key: str | None = None) -> None:
    """End every session of `user` but the one named (signing out on one
    device, using a two-factor invitation). Password changes need no call:
    Django checks each session against the password's hash."""
    from allauth.usersessions.models import UserSession

    for session in UserSession.objects.purge_and_list(user):
        if session.session_key != keep_session_key:
            session.end()


def user_from_activation(*, uidb64: str, token: str) -> User | None:
    """The user an account-activation link is for, if the link is genuine and
    unused (Django's password-reset token: it dies once a password is set)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if (
        user is None
        or user.has_usable_password()
        or not default_token_generator.check_token(user, token)
    ):
        return None
    return user


def account_activate(*, user: User, password: str) -> None:
    """Set the first password and mark the address verified."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
