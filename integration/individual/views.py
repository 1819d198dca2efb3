"""The client's integration sessions in the portal (pick a time, confirm,
move, cancel) and the staff pages that do the same for a client. The portal
and the staff pages share the pages; only who may and where they go differ."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.access_log import access_log_record
from clinic.models import Appointment
from clinic.permissions import client_required, staff_required
from clinic.selectors import client_profile, staff_clinic_ids, staff_course_detail

from . import selectors, services


def _version(request) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _frame(here: str) -> dict:
    portal = "/portal/" in here
    return {"portal": portal, "base": "base.html" if portal else "staff/base.html"}


def _book_or_move(request, dosing, *, back: str, here: str):
    """The shared page: GET without a time lists the free ones, GET with
    one asks to confirm, POST books (or moves the booked session)."""
    now = timezone.now()
    booked = selectors.live_session(dosing)
    therapist = booked.therapist if booked else selectors.session_therapist(dosing)
    start = selectors.parse_slot_key(request.POST.get("slot") or request.GET.get("slot"))
    if request.method == "POST":
        if start is None:
            messages.warning(request, _(services.MSG_NOT_OFFERED))
            return redirect(here)
        try:
            if booked is None:
                services.integration_session_book(
                    dosing_session=dosing, start=start, actor=request.user, now=now
                )
                messages.success(request, _("The integration session is booked."))
            else:
                version = _version(request)
                if version is None:
                    messages.warning(request, _(services.MSG_ALREADY_BOOKED))
                    return redirect(back)
                services.integration_session_move(
                    session=booked, start=start, actor=request.user, version=version, now=now
                )
                messages.success(request, _("The integration session is moved."))
        except services.IntegrationSessionError as exc:
            messages.warning(request, str(exc))
            return redirect(here)
        return redirect(back)
    slots = []
    held = dosing.appointment.status == Appointment.Status.HELD
    in_stage = dosing.series.course.stage in selectors.STAGES
    if held and therapist is not None and in_stage:
        slots = selectors.free_slots(
            dosing_session=dosing,
            therapist=therapist,
            settings=selectors.session_settings(dosing.appointment.clinic),
            now=now,
            exclude=booked.appointment if booked else None,
        )
    chosen = next((s for s in slots if start is not None and s.start == start), None)
    return render(
        request,
        "integration/individual/book.html",
        {
            "dosing": dosing,
            "clinic": dosing.appointment.clinic,
            "booked": booked,
            "therapist": therapist,
            "slots": slots,
            "chosen": chosen,
            "asked_unavailable": start is not None and chosen is None,
            "in_stage": in_stage,
            "held": held,
            "back": back,
            "here": here,
            **_frame(here),
        },
    )


def _cancel(request, dosing, *, back: str, here: str):
    booked = selectors.live_session(dosing)
    if booked is None:
        messages.info(request, _("There is no integration session to cancel."))
        return redirect(back)
    if request.method == "POST":
        version = _version(request)
        try:
            services.integration_session_cancel(
                session=booked, actor=request.user, version=version if version is not None else -1
            )
        except services.IntegrationSessionError as exc:
            messages.warning(request, str(exc))
        else:
            messages.success(request, _("The integration session is cancelled."))
        return redirect(back)
    return render(
        request,
        "integration/individual/cancel.html",
        {
            "booked": booked,
            "clinic": dosing.appointment.clinic,
            "back": back,
            "here": here,
            **_frame(here),
        },
    )


# --- The portal ---------------------------------------------------------------------------


def _own(request, session_uuid):
    client = client_profile(user=request.user)
    dosing = client and selectors.client_dosing_session(client=client, session_uuid=session_uuid)
    if not dosing:
        raise Http404
    return dosing


@client_required
@never_cache
def portal(request):
    client = client_profile(user=request.user)
    if client is None:
        raise Http404
    return render(
        request,
        "integration/individual/portal.html",
        {"offers": selectors.client_offers(client=client), "clinic": client.clinic},
    )


@client_required
@never_cache
@require_http_methods(["GET", "POST"])
def portal_book(request, session_uuid):
    dosing = _own(request, session_uuid)
    here = reverse("individual:portal_book", args=[session_uuid])
    return _book_or_move(request, dosing, back=reverse("individual:portal"), here=here)


@client_required
@never_cache
@require_http_methods(["GET", "POST"])
def portal_cancel(request, session_uuid):
    dosing = _own(request, session_uuid)
    here = reverse("individual:portal_cancel", args=[session_uuid])
    return _cancel(request, dosing, back=reverse("individual:portal"), here=here)


# --- Staff --------------------------------------------------------------------------------


def _staff_dosing(request, session_uuid):
    dosing = selectors.staff_dosing_session(
        clinic_ids=staff_clinic_ids(user=request.user), session_uuid=session_uuid
    )
    if dosing is None:
        raise Http404
    # The page shows the client's treatment times (a dosing session, its
    # integration): a read of their record.
    access_log_record(
        actor=request.user, client=dosing.appointment.client, obj=dosing, request=request
    )
    return dosing


@staff_required
@never_cache
def staff_course(request, course_uuid):
    course = staff_course_detail(user=request.user, course_uuid=course_uuid)
    if course is None:
        raise Http404
    access_log_record(actor=request.user, client=course.client, obj=course, request=request)
    return render(
        request,
        "integration/individual/staff_course.html",
        {"course": course, "offers": selectors.offers(courses=[course]), "clinic": course.clinic},
    )


def _staff_back(dosing) -> str:
    return reverse("individual:staff_course", args=[dosing.series.course.uuid])


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_book(request, session_uuid):
    dosing = _staff_dosing(request, session_uuid)
    here = reverse("individual:staff_book", args=[session_uuid])
    return _book_or_move(request, dosing, back=_staff_back(dosing), here=here)


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_cancel(request, session_uuid):
    dosing = _staff_dosing(request, session_uuid)
    here = reverse("individual:staff_cancel", args=[session_uuid])
    return _cancel(request, dosing, back=_staff_back(dosing), here=here)
