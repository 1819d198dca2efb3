"""The client's questionnaires and chart in the portal; the clinicians'
list and chart. Views parse, call one service or selector, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.access_log import access_log_record, access_log_record_many
from clinic.permissions import client_required, is_clinician, staff_required
from clinic.selectors import client_profile

from . import charts, selectors, services
from .forms import MeasureForms


def _client(request):
    client = client_profile(user=request.user)
    if client is None:
        raise Http404
    return client


def _support_redirect():
    return redirect("measures:support")


@client_required
@never_cache
def portal(request):
    client = _client(request)
    rows = selectors.score_history(client=client)
    return render(
        request,
        "integration/measures/portal.html",
        {
            "invitations": selectors.client_open_invitations(client=client),
            "charts": charts.build_charts(rows, clinician=False, zone=client.clinic.zone),
        },
    )


@client_required
@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, invitation_uuid):
    client = _client(request)
    invitation = selectors.client_invitation(client=client, invitation_uuid=invitation_uuid)
    if invitation is None:
        raise Http404
    forms = MeasureForms(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and forms.is_valid():
        phq9, gad7 = forms.answers()
        try:
            answered = services.invitation_answer(
                invitation=invitation, client=client, phq9=phq9, gad7=gad7
            )
        except services.MeasureError as exc:
            if exc.crisis:
                return _support_redirect()
            messages.warning(request, str(exc))
            return redirect("measures:portal")
        if answered.crisis:
            return _support_redirect()
        messages.success(request, _thanks())
        return redirect("measures:portal")
    if request.method == "POST":
        error = _impossible()
    refusal = services.invitation_refusal(invitation, timezone.now()) or ""
    return render(
        request,
        "integration/measures/answer.html",
        {"invitation": invitation, "forms": forms, "error": error, "closed": refusal},
    )


def _thanks() -> str:
    return _("Thank you: your answers are saved. Your chart shows them below.")


def _impossible() -> str:
    return _(services.MSG_IMPOSSIBLE)


@client_required
@never_cache
def support(request):
    """Shown at once after a risk answer: the screener's page of resources."""
    client = client_profile(user=request.user)
    return render(
        request,
        "eligibility/support.html",
        {
            "next_url": reverse("measures:portal"),
            "continue_label": _("Continue to my questionnaires"),
            "clinic": client.clinic if client else None,
        },
    )


# --- Staff ----------------------------------------------------------------------------


LISTS = ("due", "worsened")


@staff_required
def staff_list(request):
    """Follow-ups due or overdue (the care team), and scores that worsened
    (clinicians: the scores are clinical)."""
    shown = request.GET.get("list", "due")
    if shown not in LISTS:
        shown = "due"
    clinician = is_clinician(request.user)
    if shown == "worsened" and not clinician:
        raise PermissionDenied
    if shown == "due":
        page = selectors.follow_ups_due_page(user=request.user, page=request.GET.get("page"))
        items = [(invitation.client, invitation) for invitation in page]
    else:
        page = selectors.worsened_page(user=request.user, page=request.GET.get("page"))
        items = [(response.client, response) for response in page]
    # Who is in follow-up after ketamine treatment, and their scores, are health data.
    access_log_record_many(actor=request.user, request=request, items=items)
    return render(
        request,
        "integration/measures/staff_list.html",
        {"page": page, "shown": shown, "is_clinician": clinician, "now": timezone.now()},
    )


@staff_required
def staff_chart(request, client_uuid):
    client = selectors.staff_chart_client(user=request.user, client_uuid=client_uuid)
    if client is None:
        raise Http404
    if not is_clinician(request.user):
        raise PermissionDenied
    rows = selectors.score_history(client=client)
    access_log_record(actor=request.user, client=client, obj=client, request=request)
    return render(
        request,
        "integration/measures/staff_chart.html",
        {
            "client": client,
            "charts": charts.build_charts(rows, clinician=True, zone=client.clinic.zone),
        },
    )
