from datetime import date, timedelta
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.decorators import ratelimit

from clinic import calendar
from clinic import selectors as core_selectors
from clinic.access_log import access_log_record, access_log_record_many
from clinic.formatting import local_when
from clinic.models import Clinic
from clinic.permissions import is_clinician, staff_required

from . import selectors, services
from .forms import BookingForm, CallCorrectionForm, CallOutcomeForm, InterestForm


def _asked_week(request) -> date | None:
    try:
        return date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        return None


def _week_context(request, clinic: Clinic, current=None) -> dict:
    week = selectors.slot_week(clinic=clinic, asked=_asked_week(request), current=current)
    return {"clinic": clinic, **week}


@login_not_required
@require_safe
def start(request):
    return render(request, "intake/start.html", {"clinics": core_selectors.public_clinics()})


@login_not_required
@require_safe
def slots(request, clinic_slug):
    clinic = get_object_or_404(Clinic, slug=clinic_slug)
    asked = _asked_week(request)
    if asked is not None:
        # Bounded, so made-up dates cannot fill the cache with copies of one week.
        today = timezone.localdate(timezone=clinic.zone)
        asked = min(max(asked, today), today + timedelta(days=366))
    # The week is rendered once a minute per clinic, week and language, and
    # again as soon as anything on the calendar changes (its version); the
    # template computes it only when its cached copy is missing.
    return render(
        request,
        "intake/slots.html",
        {
            "clinic": clinic,
            "asked": asked,
            "calendar_version": calendar.calendar_version(),
            "minute": int(timezone.now().timestamp()) // 60,
            "week": partial(selectors.slot_week, clinic=clinic, asked=asked),
        },
    )


def _client_user(request):
    user = request.user
    # The authentication backend reads the client profile with the user: no query here.
    if user.is_authenticated and hasattr(user, "client_profile"):
        return user
    return None


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate="20/h", method="POST", block=False)
def book(request, clinic_slug, slot_key):
    found = selectors.clinic_with_rules(slug=clinic_slug)
    start_at = selectors.parse_slot_key(slot_key)
    if found is None or start_at is None:
        raise Http404
    clinic, rules = found
    user = _client_user(request)
    form = BookingForm(request.POST or None, user=user, initial={"language": request.LANGUAGE_CODE})
    error = None
    existing = None
    if request.method == "POST" and getattr(request, "limited", False):
        error = _(
            "Too many booking attempts from your connection. Please wait a while, or call the clinic."
        )
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        visitor = services.Visitor(
            first_name=data.get("first_name", user.first_name if user else ""),
            last_name=data.get("last_name", user.last_name if user else ""),
            email=data.get("email", user.email if user else ""),
            phone=data["phone"],
            language=data["language"],
        )
        booking = {
            "clinic": clinic,
            "start": start_at,
            "visitor": visitor,
            "concern": data["concern"],
            "consent_to_contact": data["consent_to_contact"],
            "submission": data["submission"],
            "rules": rules,
        }
        try:
            if user is None:
                # Nobody proved this address yet: the booking happens when the
                # link we e-mail to it is opened. The page is the same whoever
                # the address belongs to, so it tells a stranger nothing.
                services.booking_request(**booking)
                return render(
                    request, "intake/check_email.html", {"clinic": clinic, "start": start_at}
                )
            call = services.intake_call_book(**booking, user=user)
        except services.BookingError as exc:
            error = str(exc)
            existing = exc.intake_call if user is not None else None
        else:
            return redirect("intake:booked", token=services.manage_token(call))
    # Read the slot only to show the form again: a booking checks it itself, under lock.
    slot = selectors.intake_slot_at(clinic=clinic, start=start_at, rules=rules)
    if slot is None and error is None and request.method == "GET":
        error = _(services.MSG_SLOT_UNAVAILABLE)
    return render(
        request,
        "intake/book.html",
        {
            "clinic": clinic,
            "slot": slot,
            "start": start_at,
            "form": form,
            "error": error,
            "existing": existing,
            "existing_token": services.manage_token(existing) if existing else None,
        },
        status=200,
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    """The e-mailed link: the person proved the address, now book for real."""
    try:
        booking = services.booking_request_pending(token=token)
    except services.BookingError as exc:
        return render(request, "intake/link_problem.html", {"error": str(exc)}, status=400)
    error = existing_token = None
    if request.method == "POST":
        try:
            call = services.booking_request_confirm(token=token)
        except services.BookingError as exc:
            error = str(exc)
            if exc.intake_call is not None:
                existing_token = services.manage_token(exc.intake_call)
        else:
            return redirect("intake:booked", token=services.manage_token(call))
    return render(
        request,
        "intake/confirm.html",
        {
            "clinic": booking.clinic,
            "start": booking.start,
            "visitor": booking,
            "error": error,
            "existing_token": existing_token,
        },
    )


def _call_from_token(request, token):
    try:
        return services.intake_call_from_token(token), None
    except services.BookingError as exc:
        return None, str(exc)


@login_not_required
@never_cache
@require_safe
def booked(request, token):
    call, error = _call_from_token(request, token)
    if call is None:
        return render(request, "intake/link_problem.html", {"error": error}, status=400)
    if not call.appointment.is_live:
        # A cancelled or past call reached again (the confirmation link or the
        # form sent again, an old bookmark): the manage page says what it is now.
        return redirect("intake:manage", token=token)
    return render(request, "intake/booked.html", {"call": call, "token": token})


# Links this browser has moved a call away from, with where the call went:
# the same confirmed move sent twice (a double click) finds its way.
MOVED_LINKS = "intake_moved_links"


def _already_moved(request, token: str) -> str | None:
    moved = request.session.get(MOVED_LINKS, {}).get(token)
    if moved and moved["slot"] == request.POST.get("slot"):
        return moved["token"]
    return None


def _remember_move(request, *, old_token: str, new_token: str, slot: str) -> None:
    moved = request.session.get(MOVED_LINKS, {})
    moved[old_token] = {"token": new_token, "slot": slot}
    request.session[MOVED_LINKS] = dict(list(moved.items())[-5:])


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def manage(request, token):
    """The e-mailed manage link. Cancelling or moving takes two steps: the
    first POST shows what would happen (the call's time, or its old and new
    times), and only the confirmed one changes the call."""
    call, error = _call_from_token(request, token)
    if call is None:
        moved_to = _already_moved(request, token) if request.method == "POST" else None
        if moved_to is not None:
            messages.info(request, _(services.MSG_ALREADY_MOVED))
            return redirect("intake:manage", token=moved_to)
        return render(request, "intake/link_problem.html", {"error": error}, status=400)
    appointment = call.appointment
    clinic = appointment.clinic
    if request.method == "POST":
        action = request.POST.get("action")
        confirmed = request.POST.get("confirmed") == "yes"
        if action == "cancel" and not appointment.is_live:
            messages.info(request, _(services.MSG_ALREADY_CANCELLED))
            return redirect("intake:manage", token=token)
        confirm = {"call": call, "token": token, "action": action}
        slot_key = request.POST.get("slot", "")
        try:
            if action == "cancel":
                if not confirmed:
                    services.intake_call_change_check(intake_call=call)
                    return render(request, "intake/manage_confirm.html", confirm)
                services.intake_call_cancel(intake_call=call)
                messages.success(
                    request, _("Your intake call is cancelled. We have sent you a confirmation.")
                )
                return redirect("intake:manage", token=token)
            new_start = selectors.parse_slot_key(slot_key)
            if new_start is None:
                raise services.BookingError(_(services.MSG_SLOT_UNAVAILABLE))
            if not confirmed:
                rules = services.intake_call_change_check(intake_call=call)
                if selectors.intake_slot_at(clinic=clinic, start=new_start, rules=rules) is None:
                    raise services.BookingError(_(services.MSG_SLOT_UNAVAILABLE))
                confirm.update(new_start=new_start, slot=slot_key)
                return render(request, "intake/manage_confirm.html", confirm)
            old_start = appointment.start
            try:
                services.intake_call_reschedule(intake_call=call, start=new_start)
            except services.SlotTaken as exc:
                # Taken between the confirmation page and its button: say so, and
                # that the call still stands where it was.
                appointment.refresh_from_db()
                if not appointment.is_live or appointment.start != old_start:
                    raise
                raise services.BookingError(
                    _(services.MSG_TAKEN_MEANWHILE) % {"when": local_when(old_start, clinic)}
                ) from exc
        except services.BookingError as exc:
            error = str(exc)
        else:
            new_token = services.manage_token(call)
            _remember_move(request, old_token=token, new_token=new_token, slot=slot_key)
            messages.success(
                request, _("Your intake call is moved. We have sent you a new confirmation.")
            )
            return redirect("intake:manage", token=new_token)
    context = {"call": call, "token": token, "error": error}
    if appointment.is_live:
        context.update(_week_context(request, clinic, current=appointment))
    return render(request, "intake/manage.html", context)


@login_not_required
@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate="20/h", method="POST", block=False)
def interest(request):
    # Bound on every POST, even an empty one: an error can only be added to a bound form.
    form = InterestForm(
        request.POST if request.method == "POST" else None,
        initial={"language": request.LANGUAGE_CODE, "concern": request.GET.get("concern")},
    )
    if request.method == "POST" and getattr(request, "limited", False):
        form.add_error(None, _("Too many attempts from your connection. Please wait a while."))
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.interest_register(
            name=data["name"],
            email=data["email"],
            concern=data["concern"],
            clinic=data["clinic"],
            language=data["language"],
            consent=data["consent"],
            # The record of consent: on which page, and the words as the person read them.
            consent_page=request.get_full_path(),
            consent_wording=str(form.fields["consent"].label),
        )
        # The same page whatever the address: it tells nobody who has registered.
        return render(request, "intake/interest_done.html", {"concern": data["concern"]})
    return render(request, "intake/interest.html", {"form": form})


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def interest_confirm(request, token):
    """The link e-mailed to a registrant. Opening it shows a button rather
    than confirming at once: mail filters that open every link in a message
    must not confirm on the owner's behalf."""
    try:
        if request.method == "POST":
            services.interest_confirm(token=token)
            return redirect("intake:interest_confirm", token=token)
        registration = services.interest_registration_for_link(token=token)
    except services.InterestError as exc:
        return render(request, "intake/interest_confirm.html", {"error": str(exc)}, status=400)
    return render(request, "intake/interest_confirm.html", {"registration": registration})


# --- Staff ----------------------------------------------------------------------------


@staff_required
@require_safe
def staff_day(request):
    try:
        day = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = None
    page = selectors.staff_intake_day(
        user=request.user, clinic_slug=request.GET.get("clinic"), day=day
    )
    if page is None:
        raise Http404
    # Who is booked at a ketamine clinic is health information: each row shown is a read.
    access_log_record_many(
        actor=request.user,
        request=request,
        items=[(call.course.client, call) for call in page["calls"]],
    )
    return render(
        request,
        "intake/staff_day.html",
        {**page, "is_clinician": is_clinician(request.user)},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_call(request, call_uuid):
    call = selectors.staff_intake_call(user=request.user, call_uuid=call_uuid)
    if call is None:
        raise Http404
    clinician = is_clinician(request.user)
    if request.method == "POST" and not clinician:
        raise PermissionDenied
    # Who is booked at a ketamine clinic is health information: every read is logged
    # (coordinators see the name and phone; clinicians also the concern and notes).
    access_log_record(actor=request.user, client=call.course.client, obj=call, request=request)
    day_url = selectors.staff_day_url(call.appointment)
    # The outcome's notes and history are clinical: read for clinicians only.
    history = selectors.intake_call_outcomes(call) if clinician else []
    current = history[-1] if history else None
    form = action = None
    if clinician:
        posted = request.POST if request.method == "POST" else None
        # The form the person sent, whatever happened since they loaded the
        # page: a first record sent after someone else's is refused, not
        # silently read as a correction.
        action = posted.get("action") if posted is not None else None
        if action not in ("record", "correct"):
            action = "record" if current is None else "correct"
        if action == "record":
            form = CallOutcomeForm(posted)
        else:
            form = CallCorrectionForm(
                posted,
                initial={
                    "outcome": current.outcome if current else None,
                    "notes": current.notes if current else "",
                    "seen_outcome": current.pk if current else None,
                },
            )
        if posted is not None and form.is_valid():
            data = form.cleaned_data
            try:
                if action == "record":
                    services.intake_call_record_outcome(
                        intake_call=call,
                        outcome=data["outcome"],
                        notes=data["notes"],
                        actor=request.user,
                    )
                else:
                    services.intake_call_correct_outcome(
                        intake_call=call,
                        outcome=data["outcome"],
                        notes=data["notes"],
                        reason=data["reason"],
                        actor=request.user,
                        seen_outcome_id=data["seen_outcome"],
                    )
            except services.BookingError as exc:
                form.add_error(None, str(exc))
            else:
                if action == "record":
                    messages.success(request, _("The outcome of the call is recorded."))
                    return redirect(day_url)
                messages.success(request, _("The correction is recorded."))
                return redirect("intake:staff_call", call_uuid=call.uuid)
    return render(
        request,
        "intake/staff_call.html",
        {
            "call": call,
            "form": form,
            "action": action,
            "history": history,
            "current": current,
            "is_clinician": clinician,
            "day_url": day_url,
        },
    )
