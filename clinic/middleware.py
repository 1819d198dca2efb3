import time

from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from .permissions import is_staff_member
from .signals import MFA_ACTIVATED_SESSION_KEY

# Pages that only staff use: always behind the gate, whatever their view says.
STAFF_PREFIXES = ("/admin/", "/staff/")

# What a staff member whose session has not passed two-factor authentication
# may still open (besides public pages): signing out, the two-factor steps,
# and the invitation pages.
OPEN_BEFORE_MFA = frozenset(
    {
        "account_logout",
        "mfa_authenticate",
        "mfa_reauthenticate",
        "set_language",
        "staff_invitation",
        "staff_invitation_enrol",
        "staff_invitation_needed",
    }
)
# allauth's own pages that add, remove or replace an authenticator. A staff
# member's authenticators change only through an invitation: these pages
# are closed to staff, whoever they are and whatever their session.
AUTHENTICATOR_CHANGES = frozenset(
    {
        "mfa_activate_totp",
        "mfa_deactivate_totp",
        "mfa_generate_recovery_codes",
        "mfa_add_webauthn",
        "mfa_remove_webauthn",
        "mfa_signup_webauthn",
    }
)
INVITATION_SESSION_KEY = "clinic_staff_invitation"


def mfa_enabled(user) -> bool:
    """allauth's is_mfa_enabled, without a query when the person was read
    for this request by clinic.backends (which answers it with the person)."""
    known = getattr(user, "has_authenticator", None)
    return is_mfa_enabled(user) if known is None else bool(known)


def staff_mfa_satisfied(request) -> bool:
    user = request.user
    if not mfa_enabled(user):
        return False
    if request.session.get(MFA_ACTIVATED_SESSION_KEY):
        return True
    return any(
        record.get("method") == "mfa" for record in get_authentication_records(request, user)
    )


def _invitation_or_needed(request):
    """Where a staff member without an authenticator goes: their invitation,
    when they opened a valid one in this session; otherwise the page that
    tells them to ask the privacy officer for one (never an enrolment page)."""
    from .invitations import InvitationError, staff_invitation_get

    try:
        invitation = staff_invitation_get(invitation_id=request.session.get(INVITATION_SESSION_KEY))
    except InvitationError:
        return redirect("staff_invitation_needed")
    if invitation.user_id != request.user.pk:
        return redirect("staff_invitation_needed")
    return redirect("staff_invitation_enrol")


class StaffMFAMiddleware:
    """allauth has no setting that makes MFA mandatory for some users: this is
    it. A staff member whose session has not passed two-factor
    authentication reaches nothing that needs a login (staff pages, admin,
    account settings, allauth's MFA pages) but signing out and the
    two-factor steps; with no authenticator, they are told to ask for an
    invitation. Otherwise a stolen staff password would let a stranger sign
    in and enrol their own authenticator, or change the account's e-mail
    address before an invitation is sent to it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not is_staff_member(user):
            return None
        name = request.resolver_match.view_name if request.resolver_match else ""
        if name in AUTHENTICATOR_CHANGES:
            if mfa_enabled(user):
                return redirect("staff_invitation_needed")
            return _invitation_or_needed(request)
        if name in OPEN_BEFORE_MFA:
            return None
        if not request.path.startswith(STAFF_PREFIXES) and not getattr(
            view_func, "login_required", True
        ):
            return None  # a public page: the same for everyone
        if staff_mfa_satisfied(request):
            return None
        if mfa_enabled(user):
            # MFA set up but not used in this session (e.g. a login from before it).
            return redirect(f"{reverse('mfa_reauthenticate')}?next={request.path}")
        return _invitation_or_needed(request)


class UserLanguageMiddleware:
    """A signed-in person sees the site in the language they chose last."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.preferred_language:
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = user.preferred_language
        return self.get_response(request)


class PrivateCacheMiddleware:
    """Pages shown to a signed-in person may hold health data: no browser or
    proxy keeps a copy (Cache-Control: no-store), whatever the view says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
        return response


STAFF_IDLE_SECONDS = 15 * 60
STAFF_SESSION_MAX_SECONDS = 10 * 60 * 60
_LAST_SEEN = "clinic_staff_last_seen"
_SIGNED_IN = "clinic_staff_signed_in"


class StaffSessionLimitsMiddleware:
    """Staff sessions end after 15 minutes without a request and 10 hours
    after sign-in, whatever happens in between: a staff screen left open in
    a clinic room must not stay open on clients' health data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.contrib import messages
        from django.contrib.auth import logout
        from django.utils.translation import gettext as _

        user = request.user
        if user.is_authenticated and is_staff_member(user):
            now = int(time.time())
            session = request.session
            signed_in = session.setdefault(_SIGNED_IN, now)
            last_seen = session.get(_LAST_SEEN, now)
            if now - last_seen > STAFF_IDLE_SECONDS or now - signed_in > STAFF_SESSION_MAX_SECONDS:
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after a while without activity. Please sign in again."),
                )
                return redirect(f"{reverse('account_login')}?next={request.path}")
            if (
                now - last_seen > 30 or _LAST_SEEN not in session
            ):  # write the session at most every 30 s
                session[_LAST_SEEN] = now
        return self.get_response(request)
