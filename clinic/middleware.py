import time

from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from .permissions import is_staff_member
from .signals import MFA_ACTIVATED_SESSION_KEY

# Pages that only staff use. Staff reach none of them until they have set up
# two-factor authentication and used it in this session.
STAFF_PREFIXES = ("/admin/", "/staff/")


def staff_mfa_satisfied(request) -> bool:
    user = request.user
    if not is_mfa_enabled(user):
        return False
    if request.session.get(MFA_ACTIVATED_SESSION_KEY):
        return True
    return any(
        record.get("method") == "mfa" for record in get_authentication_records(request, user)
    )


class StaffMFAMiddleware:
    """allauth has no setting that makes MFA mandatory for some users: this is it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            request.path.startswith(STAFF_PREFIXES)
            and is_staff_member(user)
            and not staff_mfa_satisfied(request)
        ):
            if is_mfa_enabled(user):
                # MFA set up but not used in this session (e.g. a login from before it).
                return redirect(f"{reverse('mfa_reauthenticate')}?next={request.path}")
            return redirect(f"{reverse('mfa_activate_totp')}?next={request.path}")
        return self.get_response(request)


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
