"""The client's preparation in the portal (modules, consents, preferences,
upcoming appointments) and the staff page of a course's preparation.

Every client page acts on the signed-in client's own course (never an id
from the request), so another client's course cannot be reached; a consent
answer is looked up among the client's own (another's uuid is a 404)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinic.access_log import access_log_record_many
from clinic.net import client_ip
from clinic.permissions import client_required, is_clinician, staff_required

from ..forms.prepare import (
    ConsentDeclineForm,
    ConsentSignForm,
    ModuleReadForm,
    PreferencesForm,
)
from ..models import ConsentDocument
from ..selectors import prepare as selectors
from ..services import prepare as services


def _course(request):
    course = selectors.client_course(user=request.user)
    if course is None:
        raise Http404
    return course


def _language() -> str:
    return selectors.language_of(translation.get_language())


@client_required
@never_cache
def portal(request):
    course = _course(request)
    overview = selectors.client_preparation(course=course, language=_language())
    return render(request, "sessions/portal/home.html", {"overview": overview})


@client_required
@never_cache
@require_http_methods(["GET", "POST"])
def module(request, module_slug):
    course = _course(request)
    page = selectors.module_page(course=course, slug=module_slug, language=_language())
    if page is None:
        raise Http404
    if request.method == "POST":
        form = ModuleReadForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Something was missing from the form. Please try again."))
            return redirect("dosing:module", module_slug=module_slug)
        try:
            _completion, created = services.module_complete(
                course=course,
                module=page.version.module,
                version_number=form.cleaned_data["version"],
            )
        except services.PrepareError as exc:
            messages.error(request, str(exc))
            return redirect("dosing:module", module_slug=module_slug)
        if created:
            messages.success(request, _("“%(title)s” is marked as read.") % {"title": page.title})
        if page.following is not None:
            return redirect("dosing:module", module_slug=page.following.slug)
        return redirect("dosing:portal")
    return render(
        request,
        "sessions/portal/module.html",
        {"page": page, "course": course, "open": course.stage in selectors.OPEN_STAGES},
    )


@client_required
@never_cache
@require_http_methods(["GET", "POST"])
def consent(request, kind):
    course = _course(request)
    language = _language()
    page = selectors.consent_page(course=course, kind=kind, language=language)
    if page is None:
        raise Http404
    sign_form = ConsentSignForm()
    error = ""
    if request.method == "POST":
        decline = request.POST.get("action") == "decline" and kind == ConsentDocument.Kind.FILMING
        form = ConsentDeclineForm(request.POST) if decline else ConsentSignForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if decline:
                    _consent, created = services.filming_decline(
                        course=course,
                        language=data["language"],
                        shown_sha256=data["sha256"],
                        ip=client_ip(request),
                    )
                else:
                    _consent, created = services.consent_sign(
                        course=course,
                        kind=kind,
                        language=data["language"],
                        shown_sha256=data["sha256"],
                        typed_name=data["typed_name"],
                        agreed=data["agree"],
                        ip=client_ip(request),
                    )
            except services.PrepareError as exc:
                error = str(exc)
            else:
                if decline:
                    messages.success(
                        request,
                        _("Your answer is recorded: your sessions will not be filmed."),
                    )
                else:
                    messages.success(request, _("Thank you: your signature is recorded."))
                return redirect("dosing:portal")
        elif decline:
            error = _("Something was missing from the form. Please try again.")
        else:
            sign_form = form
        # Whatever was refused, the page shows the text in force now.
        page = selectors.consent_page(course=course, kind=kind, language=language)
    return render(
        request,
        "sessions/portal/consent.html",
        {
            "page": page,
            "course": course,
            "sign_form": sign_form,
            "error": error,
            "open": course.stage in selectors.OPEN_STAGES,
            "is_filming": kind == ConsentDocument.Kind.FILMING,
        },
    )


@client_required
@require_POST
def filming_withdraw(request):
    course = _course(request)
    try:
        _withdrawal, _created = services.filming_withdraw(course=course, ip=client_ip(request))
    except services.PrepareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _(
                "Your consent to filming is withdrawn. Your sessions will not be filmed, "
                "and recordings already made will be deleted."
            ),
        )
    return redirect("dosing:portal")


@client_required
@never_cache
def consent_answer(request, consent_uuid):
    """The exact version of the document the client answered, to read again."""
    course = _course(request)
    answer = selectors.consent_of_client(course=course, consent_uuid=consent_uuid)
    if answer is None:
        raise Http404
    from ..text import blocks

    return render(
        request,
        "sessions/portal/consent_answer.html",
        {"answer": answer, "blocks": blocks(answer.document.body)},
    )


@client_required
@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request):
    course = _course(request)
    instance = selectors.preferences_for(course)
    form = PreferencesForm(request.POST or None, instance=instance)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.preferences_save(
                course=course,
                eye_shades=data["eye_shades"],
                sound=data["sound"],
                escort_name=data["escort_name"],
                escort_phone=data["escort_phone"],
                notes=data["notes"],
            )
        except services.PrepareError as exc:
            error = str(exc)
        else:
            messages.success(request, _("Your session preferences are saved."))
            return redirect("dosing:portal")
    return render(
        request,
        "sessions/portal/preferences.html",
        {"form": form, "error": error, "open": course.stage in selectors.OPEN_STAGES},
    )


# --- Staff ---------------------------------------------------------------------------------


@staff_required
def staff_preparation(request, course_uuid):
    """A course's preparation: its clinic's clinicians only (consents and
    preferences are health data; coordinators see the course's stage on
    the course page). Every consent and the preferences shown are logged."""
    if not is_clinician(request.user):
        raise PermissionDenied
    preparation = selectors.staff_preparation(
        user=request.user, course_uuid=course_uuid, language=_language()
    )
    if preparation is None:
        raise Http404
    client = preparation.course.client
    shown = [preparation.course, *preparation.history]
    if preparation.preferences is not None:
        shown.append(preparation.preferences)
    access_log_record_many(
        actor=request.user, request=request, items=[(client, obj) for obj in shown]
    )
    return render(
        request,
        "sessions/staff/preparation.html",
        {"preparation": preparation, "course_url": reverse("staff:course", args=[course_uuid])},
    )
