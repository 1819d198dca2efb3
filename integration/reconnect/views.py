"""The clinician's page to close the integration plan; the client's
reconnect page in the portal."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.access_log import access_log_record
from clinic.permissions import client_required, is_clinician, staff_required
from clinic.selectors import client_profile, staff_course_detail

from . import selectors, services
from .models import SUMMARY_MAX


class PlanCloseForm(forms.Form):
    summary = forms.CharField(
        label=gettext_lazy("Summary of the integration"),
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "Kept in the record. A few sentences: what changed, what comes next."
        ),
    )


class ContactForm(forms.Form):
    peer_support = forms.BooleanField(
        label=gettext_lazy("You may contact me about peer support (becoming a support for others)"),
        required=False,
    )
    research = forms.BooleanField(
        label=gettext_lazy("You may contact me about research"), required=False
    )


@staff_required
@require_http_methods(["GET", "POST"])
def plan_close(request, course_uuid):
    course = staff_course_detail(user=request.user, course_uuid=course_uuid)
    if course is None:
        raise Http404
    if not is_clinician(request.user):
        raise PermissionDenied
    plan = selectors.course_plan(course=course)
    access_log_record(actor=request.user, client=course.client, obj=course, request=request)
    form = PlanCloseForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.integration_plan_close(
                course=course, actor=request.user, summary=form.cleaned_data["summary"]
            )
        except services.ReconnectError as exc:
            error = str(exc)
        else:
            messages.success(
                request, _("The integration plan is closed and the course moves on to reconnect.")
            )
            return redirect("reconnect:plan", course_uuid=course.uuid)
    return render(
        request,
        "integration/reconnect/plan.html",
        {"course": course, "plan": plan, "form": form, "error": error},
    )


@client_required
@never_cache
@require_http_methods(["GET", "POST"])
def portal(request):
    client = client_profile(user=request.user)
    if client is None:
        raise Http404
    page = selectors.reconnect_page(client=client)
    contact = ContactForm(
        request.POST if request.POST.get("action") == "contact" else None,
        initial={"peer_support": page.peer_support, "research": client.share_for_research},
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "request":
            try:
                made, new = services.further_treatment_request(client=client)
            except services.ReconnectError as exc:
                messages.warning(request, str(exc))
            else:
                if new:
                    messages.success(
                        request, _("Your request is sent: your care team will contact you.")
                    )
                else:
                    messages.info(request, _("Your request was already sent."))
            return redirect("reconnect:portal")
        if action == "contact" and contact.is_valid():
            services.contact_preferences_set(
                client=client,
                peer_support=contact.cleaned_data["peer_support"],
                research=contact.cleaned_data["research"],
            )
            messages.success(request, _("Your choices are saved."))
            return redirect("reconnect:portal")
        return redirect("reconnect:portal")
    return render(request, "integration/reconnect/portal.html", {"page": page, "contact": contact})
