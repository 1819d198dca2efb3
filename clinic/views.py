import logging

from allauth.account.decorators import reauthentication_required
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django.views.i18n import set_language

from . import accounts, invitations, journey, privacy, selectors
from .access_log import access_log_record, access_log_record_many
from .formatting import choice_labels
from .forms import (
    ClosureRequestForm,
    CourseTransitionForm,
    InvitationCodeForm,
    InvitationSignInForm,
    LanguageForm,
    SharingForm,
)
from .health import broker_status
from .middleware import INVITATION_SESSION_KEY
from .models import ClientProfile, Course
from .permissions import client_required, is_care_team, is_staff_member, staff_required
from .signals import MFA_ACTIVATED_SESSION_KEY

logger = logging.getLogger(__name__)


# --- Public site ---------------------------------------------------------------


def _public(template: str):
    @login_not_required
    @require_safe
    def view(request):
        return render(request, f"public/{template}.html", {"clinics": selectors.public_clinics()})

    view.__name__ = f"public_{template}"
    return view


home = _public("home")
program = _public("program")
conditions = _public("conditions")
faq = _public("faq")


@login_not_required
@require_safe
def team(request):
    return render(request, "public/team.html", {"team": selectors.public_team()})


ROBOTS = """User-agent: *
Disallow: /portal/
Disallow: /staff/
Disallow: /admin/
Disallow: /accounts/
Disallow: /book/confirm/
Disallow: /book/booked/
Disallow: /book/manage/
"""


@login_not_required
@require_safe
def robots_txt(request):
    """Crawlers may read the public site; nothing behind sign-in or a
    bearer link is theirs (those pages are not reachable to them anyway)."""
    return HttpResponse(ROBOTS, content_type="text/plain; charset=utf-8")


@login_not_required
@require_POST
def language_set(request):
    """Django's set_language, and a signed-in person's choice is remembered."""
    form = LanguageForm(request.POST)
    if form.is_valid() and request.user.is_authenticated:
        accounts.user_language_set(user=request.user, language=form.cleaned_data["language"])
    return set_language(request)


@login_not_required
@never_cache
def healthz(request):
    """Database and broker status for load balancers and compose. The
    database being down is a 503; the broker being down is reported but the
    web still serves (nothing in a request needs the broker)."""
    status = {"database": "ok", "broker": broker_status()}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.exception("health check: database unreachable")
        status["database"] = "down"
    else:
        # The access log's months ahead (beat creates them): reported, the web
        # still serves (an entry without its month waits in the default partition).
        from .access_log_partitions import partitions_health

        problems = partitions_health()
        for problem in problems:
            logger.warning("health check: %s", problem)
        status["access_log_partitions"] = "attention" if problems else "ok"
    code = 200 if status["database"] == "ok" else 503
    return JsonResponse(status, status=code)


def home_after_login(request):
    if is_care_team(request.user):
        return redirect("staff:home")
    if is_staff_member(request.user):
        return redirect("admin:index")  # the privacy officer's tools
    return redirect("portal:home")


# --- Client portal ---------------------------------------------------------------


@login_not_required
def verify_email_needed(request):
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    emails = EmailAddress.objects.filter(user=request.user)
    return render(request, "portal/verify_email.html", {"emails": emails})


@client_required
def portal_home(request):
    overview = selectors.client_portal_overview(user=request.user)
    if overview is None:
        raise Http404
    return render(request, "portal/home.html", {"overview": overview})


# --- Staff pages ------------------------------------------------------------------


@staff_required
def staff_home(request):
    page = selectors.staff_course_page(
        user=request.user, page=request.GET.get("page"), stage=request.GET.get("stage", "")
    )
    # Who is in which stage of treatment is health information: each row shown is a read.
    access_log_record_many(
        actor=request.user, request=request, items=[(course.client, course) for course in page]
    )
    return render(
        request,
        "staff/home.html",
        {
            "page": page,
            "stages": journey.Stage.choices,
            # Each row's stage label from one dict, not get_stage_display per row.
            "stage_labels": choice_labels(Course, "stage"),
            "stage": request.GET.get("stage", ""),
        },
    )


@staff_required
def staff_course(request, course_uuid):
    course = selectors.staff_course_detail(user=request.user, course_uuid=course_uuid)
    if course is None:
        raise Http404
    access_log_record(actor=request.user, client=course.client, obj=course, request=request)
    form = CourseTransitionForm(request.POST or None, course=course)
    if request.method == "POST":
        message = form.apply(actor=request.user)
        if message:
            messages.success(request, message)
            return redirect("staff:course", course_uuid=course.uuid)
    return render(
        request,
        "staff/course.html",
        {"course": course, "form": form},
    )


@login_not_required
@never_cache
def account_activate(request, uidb64, token):
    """A person whose account was made for them (booking an intake call) sets
    a password here; the link proves the e-mail address is theirs."""
    user = accounts.user_from_activation(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "account/activate_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.account_activate(user=user, password=form.cleaned_data["new_password1"])
        login(request, user, backend="clinic.backends.ModelBackend")
        messages.success(request, _("Your password is set. Welcome!"))
        return redirect("portal:home")
    return render(request, "account/activate.html", {"form": form, "activated_user": user})


# --- Two-factor invitations (staff) --------------------------------------------
# The link in the e-mail opens the invitation (its token goes into the
# session, and out of the address bar); the person signs in with their
# password if they are not signed in, enrols an authenticator app with a code
# it shows, and sees their recovery codes. See clinic/invitations.py.

_ENROLMENT_TOTP = "clinic_invitation_totp"
_INVITATION_CODES = "clinic_invitation_recovery_codes"


def _invitation_refused(request, message: str, status: int = 400):
    return render(
        request, "account/staff_invitation_invalid.html", {"message": message}, status=status
    )


@login_not_required
@never_cache
def staff_invitation(request, token):
    try:
        invitation = invitations.staff_invitation_find(token=token)
    except invitations.InvitationError as error:
        return _invitation_refused(request, str(error))
    request.session[INVITATION_SESSION_KEY] = invitation.pk
    request.session.pop(_ENROLMENT_TOTP, None)
    return redirect("staff_invitation_enrol")


@login_not_required
@never_cache
def staff_invitation_enrol(request):
    try:
        invitation = invitations.staff_invitation_get(
            invitation_id=request.session.get(INVITATION_SESSION_KEY)
        )
    except invitations.InvitationError as error:
        return _invitation_refused(request, str(error))
    if not request.user.is_authenticated:
        form = InvitationSignInForm(request.POST or None, request=request, user=invitation.user)
        if request.method == "POST" and form.is_valid():
            # Password and the e-mailed link: enough to enrol, nothing more
            # (the MFA gate keeps every other page closed until then).
            login(request, form.user)
            return redirect("staff_invitation_enrol")
        return render(
            request,
            "account/staff_invitation_sign_in.html",
            {"form": form, "invitation": invitation},
        )
    if request.user.pk != invitation.user_id:
        return _invitation_refused(request, gettext(invitations.MSG_OTHER_USER), status=403)
    secret = request.session.get(_ENROLMENT_TOTP) or generate_totp_secret()
    request.session[_ENROLMENT_TOTP] = secret
    form = InvitationCodeForm(request.POST or None, request=request, secret=secret)
    if request.method == "POST" and form.is_valid():
        try:
            codes = invitations.staff_invitation_redeem(
                invitation=invitation,
                user=request.user,
                totp_secret=secret,
                keep_session_key=request.session.session_key,
            )
        except invitations.InvitationError as error:
            return _invitation_refused(request, str(error))
        for key in (INVITATION_SESSION_KEY, _ENROLMENT_TOTP):
            request.session.pop(key, None)
        # The code just proved the new authenticator: this session has passed
        # two-factor authentication.
        request.session[MFA_ACTIVATED_SESSION_KEY] = True
        request.session[_INVITATION_CODES] = codes.pk
        return redirect("staff_invitation_done")
    return render(
        request,
        "account/staff_invitation_enrol.html",
        {"form": form, "invitation": invitation, "secret": secret, **totp_picture(request, secret)},
    )


@never_cache
def staff_invitation_done(request):
    """The recovery codes of the authenticator just enrolled, then on to work."""
    codes = selectors.recovery_codes(
        user=request.user, authenticator_id=request.session.get(_INVITATION_CODES)
    )
    if codes is None:
        return redirect("home_after_login")
    return render(request, "account/staff_invitation_done.html", {"codes": codes})


def staff_invitation_needed(request):
    """Where a staff member without an authenticator lands (and one who tries
    allauth's own enrolment or removal pages): only an invitation helps."""
    if not is_staff_member(request.user):
        return redirect("home_after_login")
    return render(
        request,
        "account/staff_invitation_needed.html",
        {"has_authenticator": invitations.has_authenticator(request.user)},
    )


def totp_picture(request, secret: str) -> dict:
    """The QR code an authenticator app scans (an inline SVG image)."""
    import base64

    from allauth.mfa.adapter import get_adapter as get_mfa_adapter

    adapter = get_mfa_adapter()
    url = adapter.build_totp_url(request.user, secret)
    svg = adapter.build_totp_svg(url)
    return {
        "totp_svg_data_uri": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    }


@login_not_required
def admin_login(request, extra_context=None):
    """Stands in for the admin's login form: sign in through allauth."""
    target = request.GET.get("next") or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("admin:index")
    if request.user.is_authenticated:
        if is_staff_member(request.user):
            return redirect(target)
        raise PermissionDenied
    return redirect(f"{reverse('account_login')}?next={target}")


# --- The client's own data ---------------------------------------------------------


def _client_or_404(request) -> ClientProfile:
    client = selectors.client_profile(user=request.user)
    if client is None:
        raise Http404
    return client


@client_required
def my_data(request):
    client = _client_or_404(request)
    if request.method == "POST":
        if request.POST.get("action") == "sharing":
            sharing = SharingForm(request.POST)
            sharing.is_valid()  # two tick boxes: anything sent reads as ticked or not
            privacy.client_sharing_set(
                client=client,
                research=sharing.cleaned_data["research"],
                marketing=sharing.cleaned_data["marketing"],
            )
            messages.success(request, _("Your choices are saved."))
        elif request.POST.get("action") == "close":
            closure = ClosureRequestForm(request.POST)
            if closure.is_valid():
                _request, new = privacy.account_closure_request(
                    client=client, reason=closure.cleaned_data["reason"]
                )
                messages.success(
                    request,
                    _("Your request is recorded. Our privacy officer will write to you.")
                    if new
                    else _(
                        "This request was already recorded. Our privacy officer will write to you."
                    ),
                )
            else:
                for error in closure.errors.values():
                    messages.error(request, error[0])
        return redirect("portal:my_data")
    return render(
        request,
        "portal/my_data.html",
        {
            "client": client,
            "open_requests": selectors.client_open_closure_requests(client=client),
        },
    )


def _export_for(request):
    from . import exports

    client = _client_or_404(request)
    return client, exports.client_export(client)


@client_required
@reauthentication_required
@never_cache
def my_data_download(request):
    """All the client's data as JSON (after confirming their password)."""
    import json

    from django.http import HttpResponse

    _client, data = _export_for(request)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@client_required
@reauthentication_required
@never_cache
def my_data_summary(request):
    """The same, as a page a person can read and print."""
    from . import exports

    client, data = _export_for(request)
    return render(
        request,
        "portal/my_data_summary.html",
        {"client": client, "sections": exports.readable(data, zone=client.clinic.zone)},
    )
