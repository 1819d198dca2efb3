from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.access_log import access_log_record_many
from clinic.permissions import client_required, is_clinician, staff_required
from clinic.selectors import client_profile

from . import screener, selectors, services
from .models import Screening


def _client(request):
    client = client_profile(user=request.user)
    if client is None:
        raise Http404
    return client


def _screening_or_message(client):
    try:
        return services.screening_start(client=client), None
    except services.ScreeningError as exc:
        return None, str(exc)


def _progress(version: int, index: int) -> int:
    total = len(screener.steps(version)) + 1  # the steps, then the review
    return min(100, round(10 * index / total) * 10)


@client_required
@never_cache
def start(request):
    screening, error = _screening_or_message(_client(request))
    if screening is None:
        return render(request, "eligibility/unavailable.html", {"error": error})
    if screening.status == Screening.Status.SUBMITTED:
        return redirect("eligibility:submitted")
    missing = screener.missing_steps(screening.screener_version, screening.answers)
    if not missing:
        return redirect("eligibility:review")
    return redirect("eligibility:step", slug=missing[0].slug)


def _closed_step(request, client, slug, screening, error):
    """A step that cannot take answers any more: the screening was sent, or
    the course has left connect (declined, on hold, moved on). The answers
    are not kept, but a risk of self-harm in them is never ignored."""
    if request.method == "POST":
        latest = screening or selectors.latest_screening(client=client)
        version = latest.screener_version if latest is not None else screener.CURRENT
        current = screener.step_by_slug(version, slug)
        form = current.form(request.POST) if current is not None else None
        if (
            form is not None
            and form.is_valid()
            and services.crisis_signal_unsaved(client=client, answers=form.answers())
        ):
            after = "eligibility:submitted" if screening is not None else "eligibility:screener"
            return redirect(f"{reverse('eligibility:support')}?next={reverse(after)}")
    if screening is None:
        return render(request, "eligibility/unavailable.html", {"error": error})
    return redirect("eligibility:submitted")


@client_required
@never_cache
@require_http_methods(["GET", "POST"])
def step(request, slug):
    client = _client(request)
    screening, error = _screening_or_message(client)
    if screening is None or screening.status != Screening.Status.DRAFT:
        return _closed_step(request, client, slug, screening, error)
    current = screener.step_by_slug(screening.screener_version, slug)
    steps = screener.steps(screening.screener_version)
    if current is None:
        raise Http404
    index = steps.index(current)
    following = steps[index + 1] if index + 1 < len(steps) else None
    next_url = (
        reverse("eligibility:step", args=[following.slug])
        if following
        else reverse("eligibility:review")
    )
    if request.method == "POST":
        form = current.form(request.POST)
        if form.is_valid():
            try:
                screening, crisis = services.screening_save_step(
                    screening=screening, step=current, answers=form.answers()
                )
            except services.ScreeningError as exc:
                # Sent from another tab in the meantime: as for any closed step.
                if services.crisis_signal_unsaved(client=client, answers=form.answers()):
                    return redirect(
                        f"{reverse('eligibility:support')}?next={reverse('eligibility:submitted')}"
                    )
                messages.warning(request, str(exc))
                return redirect("eligibility:submitted")
            if crisis:
                return redirect(f"{reverse('eligibility:support')}?next={next_url}")
            if request.POST.get("save_and_leave"):
                messages.success(
                    request, _("Your answers are saved. You can come back at any time.")
                )
                return redirect("portal:home")
            return redirect(next_url)
    else:
        form = current.form(initial=screener.initial_for(current, screening.answers))
    return render(
        request,
        "eligibility/step.html",
        {
            "screening": screening,
            "form": form,
            "step": current,
            "steps": steps,
            "number": index + 1,
            "total": len(steps),
            "percent": _progress(screening.screener_version, index),
            "previous": steps[index - 1] if index else None,
            "request_for_information": selectors.information_requested(screening),
        },
    )


@client_required
@never_cache
def support(request):
    """Shown at once when an answer signals a risk of self-harm."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("eligibility:screener")
    client = client_profile(user=request.user)
    return render(
        request,
        "eligibility/support.html",
        {"next_url": next_url, "clinic": client.clinic if client else None},
    )


@client_required
@never_cache
@require_http_methods(["GET", "POST"])
def review(request):
    screening, error = _screening_or_message(_client(request))
    if screening is None:
        return render(request, "eligibility/unavailable.html", {"error": error})
    if screening.status != Screening.Status.DRAFT:
        return redirect("eligibility:submitted")
    missing = screener.missing_steps(screening.screener_version, screening.answers)
    if request.method == "POST":
        try:
            services.screening_submit(screening=screening)
        except services.ScreeningError as exc:
            error = str(exc)
        else:
            return redirect("eligibility:submitted")
    return render(
        request,
        "eligibility/review.html",
        {
            "screening": screening,
            "missing": missing,
            "error": error,
            "sections": selectors.draft_sections(screening),
            "request_for_information": selectors.information_requested(screening),
            "percent": _progress(
                screening.screener_version, len(screener.steps(screening.screener_version))
            ),
        },
    )


@client_required
@never_cache
def submitted(request):
    sent = selectors.client_screening_status(user=request.user)
    if sent is None:
        return redirect("eligibility:screener")
    context = {
        "screening": sent.screening,
        "reasons": sent.reasons,
        "decision": sent.decision,
        "submissions": sent.submissions,
    }
    return render(request, "eligibility/submitted.html", context)


@staff_required
def staff_screenings(request):
    """Coordinators see that a screening exists and where it stands, not its
    answers; clinicians open it in the admin review."""
    page = selectors.staff_screening_page(user=request.user, page=request.GET.get("page"))
    # Who is being screened at a ketamine clinic is health information.
    access_log_record_many(
        actor=request.user,
        request=request,
        items=[(screening.course.client, screening) for screening in page],
    )
    return render(
        request,
        "eligibility/staff_list.html",
        {"page": page, "is_clinician": is_clinician(request.user)},
    )
