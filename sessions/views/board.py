"""The room board: the coordinator's main page. A clinic's rooms over a day
or a week; a free cell opens the booking form, a block its details with
move and cancel, in a panel beside the board (htmx) or as their own pages
(without JavaScript). Every client shown is a logged read."""

import json
import uuid
from datetime import date, timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinic.access_log import access_log_record, access_log_record_many
from clinic.formatting import local_when
from clinic.models import AccessLogEntry, Appointment, AppointmentKind, Clinic
from clinic.permissions import staff_required

from ..forms.scheduling import BookingForm, CancelForm, MoveForm
from ..selectors import board as selectors
from ..services import scheduling

BOARD_CHANGED = "board-changed"


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _scope(request: HttpRequest, source) -> tuple[Clinic, list[Clinic]]:
    scope = selectors.board_clinics(user=request.user, clinic_slug=source.get("clinic"))
    if scope is None:
        raise Http404
    return scope


def _asked_day(value: str | None, clinic: Clinic) -> date:
    today = timezone.localdate(timezone=clinic.zone)
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return today
    return day if abs((day - today).days) <= 3650 else today  # ten years either way: a typo


def _log_shown(request: HttpRequest, appointments) -> None:
    """Who is booked for what at a ketamine clinic is health information:
    each client the page shows is a read."""
    access_log_record_many(
        actor=request.user,
        request=request,
        items=[(a.client, a) for a in appointments if a.client is not None],
    )


def _panel(request: HttpRequest, template: str, context: dict, **response) -> HttpResponse:
    """The panel beside the board (an htmx request), or the same content as
    a page of its own (no JavaScript, or a link opened in a new tab)."""
    if _htmx(request):
        return render(request, template, context, **response)
    return render(
        request, "sessions/board/panel_page.html", {**context, "panel": template}, **response
    )


def _changed(request: HttpRequest, template: str, context: dict, message: str, clinic, day):
    """After a booking, move or cancellation: the panel says what was done
    and the board reloads itself (htmx), or back to the board's day."""
    if _htmx(request):
        response = render(request, template, {**context, "message": message})
        response["HX-Trigger"] = json.dumps({BOARD_CHANGED: True})
        return response
    messages.success(request, message)
    return redirect(selectors.board_url(clinic, day))


# --- The board -------------------------------------------------------------------------------


@staff_required
@require_GET
def day(request):
    clinic, clinics = _scope(request, request.GET)
    board = selectors.room_day(clinic=clinic, day=_asked_day(request.GET.get("day"), clinic))
    _log_shown(request, board.appointments)
    return render(
        request,
        "sessions/board/day.html",
        {"board": board, "clinic": clinic, "clinics": clinics},
    )


@staff_required
@require_GET
def week(request):
    clinic, clinics = _scope(request, request.GET)
    asked = _asked_day(request.GET.get("day"), clinic)
    board = selectors.room_week(clinic=clinic, week_start=asked - timedelta(days=asked.weekday()))
    _log_shown(request, board.appointments)
    return render(
        request,
        "sessions/board/week.html",
        {"board": board, "clinic": clinic, "clinics": clinics},
    )


# --- Booking --------------------------------------------------------------------------------


def _booking_form(request, clinic: Clinic) -> BookingForm:
    settings = selectors.dosing_settings(clinic)
    if request.method == "POST":
        return BookingForm(request.POST, clinic=clinic, settings=settings)
    initial = {
        key: request.GET.get(key)
        for key in ("kind", "room", "date", "time")
        if request.GET.get(key)
    }
    initial.setdefault("date", _asked_day(request.GET.get("day"), clinic).isoformat())
    return BookingForm(initial=initial, clinic=clinic, settings=settings)


def _client_options(request, form: BookingForm, clinic: Clinic) -> dict:
    """The clients the search shows (each a logged read), the chosen one kept."""
    kind = form.kind_asked()
    query = (form.data.get("q") if form.is_bound else "") or ""
    options = selectors.bookable_clients(clinic=clinic, kind=kind, query=query)
    chosen = (form.data.get("client") if form.is_bound else None) or ""
    if chosen and all(str(course.uuid) != chosen for course in options):
        kept = form.fields["client"].queryset.filter(uuid=chosen) if _is_uuid(chosen) else []
        options = [*kept, *options]
    access_log_record_many(
        actor=request.user,
        request=request,
        items=[(course.client, course) for course in options],
    )
    return {"client_options": options, "chosen_client": chosen}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@staff_required
@require_http_methods(["GET", "POST"])
def booking_new(request):
    source = request.POST if request.method == "POST" else request.GET
    clinic, _clinics = _scope(request, source)
    form = _booking_form(request, clinic)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        course = data["client"]
        start = form.start()  # a valid form has its day and time
        try:
            if data["kind"] == AppointmentKind.DOSING_SESSION:
                sessions = scheduling.dosing_sessions_book(
                    course=course,
                    starts=scheduling.series_starts(
                        clinic=clinic,
                        first=start,
                        count=data["sessions"],
                        every_days=data["every_days"],
                    ),
                    team=_team(data),
                    actor=request.user,
                )
                booked = [session.appointment for session in sessions]
            else:
                preparation = scheduling.preparation_appointment_book(
                    course=course,
                    kind=data["kind"],
                    start=start,
                    minutes=form.length(),
                    staff_member=data["practitioner"]
                    if data["kind"] == AppointmentKind.MEDICAL_ASSESSMENT
                    else data["therapist"],
                    room=data["room"],
                    actor=request.user,
                )
                booked = [preparation.appointment]
        except scheduling.SchedulingError as exc:
            form.add_error(None, str(exc))
        else:
            access_log_record_many(
                actor=request.user,
                request=request,
                items=[(course.client, a) for a in booked],
                action=AccessLogEntry.Action.CHANGE,
            )
            message = (
                _("Booked: %(count)s sessions for %(client)s.")
                % {"count": len(booked), "client": course.client}
                if len(booked) > 1
                else _("Booked: %(kind)s for %(client)s.")
                % {"kind": booked[0].get_kind_display().lower(), "client": course.client}
            )
            return _changed(
                request,
                "sessions/board/_done.html",
                {"clinic": clinic, "appointments": booked},
                message,
                clinic,
                timezone.localtime(booked[0].start, clinic.zone).date(),
            )
    context = {
        "form": form,
        "clinic": clinic,
        "settings": form.settings,
        **_client_options(request, form, clinic),
    }
    return _panel(request, "sessions/board/_booking_form.html", context)


def _team(data) -> scheduling.DosingTeam:
    if data["room"] is None or data["therapist"] is None or data["practitioner"] is None:
        # The service names each missing one; an incomplete team is refused there.
        raise scheduling.SchedulingError(
            " ".join(
                str(message)
                for field, message in (
                    ("room", _(scheduling.MSG_NOT_A_DOSING_ROOM)),
                    ("therapist", _(scheduling.MSG_NEEDS_THERAPIST)),
                    ("practitioner", _(scheduling.MSG_NEEDS_PRACTITIONER)),
                )
                if data[field] is None
            )
        )
    return scheduling.DosingTeam(
        room=data["room"], therapist=data["therapist"], practitioner=data["practitioner"]
    )


@staff_required
@require_GET
def client_options(request):
    """The client list of the booking form, for the kind chosen and the words typed."""
    clinic, _clinics = _scope(request, request.GET)
    settings = selectors.dosing_settings(clinic)
    form = BookingForm(request.GET, clinic=clinic, settings=settings)
    response = render(
        request,
        "sessions/board/_client_select.html",
        {"form": form, **_client_options(request, form, clinic)},
    )
    # The preview follows the client list when it changes with the kind.
    response["HX-Trigger-After-Settle"] = json.dumps({"booking-changed": True})
    return response


@staff_required
@require_GET
def booking_check(request):
    """While the form is filled: what would refuse it, and who or what is
    busy when. The save checks all of it again, under the calendar's lock."""
    clinic, _clinics = _scope(request, request.GET)
    settings = selectors.dosing_settings(clinic)
    appointment = None
    if request.GET.get("appointment"):
        appointment = _appointment_or_404(request, request.GET["appointment"])
        clinic = appointment.clinic
        form: BookingForm | MoveForm = MoveForm(request.GET, clinic=clinic)
    else:
        form = BookingForm(request.GET, clinic=clinic, settings=settings)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    start = form.start()
    if appointment is not None:
        kind = appointment.kind
        course = _course_of(appointment)
        count, every = 1, 0
    else:
        kind = data.get("kind") or ""
        course = data.get("client")
        count, every = data.get("sessions") or 1, data.get("every_days") or 0
    if start is None or kind not in selectors.BOOKABLE_STAGES:
        return render(request, "sessions/board/_check.html", {"incomplete": True})
    starts = (
        scheduling.series_starts(clinic=clinic, first=start, count=count, every_days=every)
        if kind == AppointmentKind.DOSING_SESSION and count > 1
        else [start]
    )
    minutes = data.get("minutes") or scheduling.PREPARATION_MINUTES
    arguments = {
        "clinic": clinic,
        "kind": kind,
        "starts": starts,
        "minutes": minutes,
        "room": data.get("room"),
        "therapist": data.get("therapist"),
        "practitioner": data.get("practitioner"),
        "course": course,
        "exclude": appointment,
    }
    problems = scheduling.booking_problems(**arguments)
    if course is None:
        problems.append(_("Choose a client."))
    busy, revealed = scheduling.booking_conflicts(**arguments)
    if course is not None and revealed:
        access_log_record_many(
            actor=request.user, request=request, items=[(course.client, a) for a in revealed]
        )
    series, counted = selectors.client_series(course=course) if course else (None, 0)
    return render(
        request,
        "sessions/board/_check.html",
        {
            "problems": problems,
            "busy": busy,
            "starts": starts,
            "clinic": clinic,
            "series": series if kind == AppointmentKind.DOSING_SESSION else None,
            "counted": counted,
            "settings": settings,
        },
    )


# --- A booking's details, move and cancel ---------------------------------------------------


def _appointment_or_404(request, appointment_uuid) -> Appointment:
    appointment = selectors.board_appointment(user=request.user, appointment_uuid=appointment_uuid)
    if appointment is None:
        raise Http404
    return appointment


def _course_of(appointment: Appointment):
    preparation = getattr(appointment, "preparation", None)
    if preparation is not None:
        return preparation.course
    session = getattr(appointment, "dosing_session", None)
    if session is not None:
        return session.series.course
    return None


def _changeable(appointment: Appointment) -> bool:
    return (
        appointment.kind in selectors.BOOKABLE_STAGES
        and appointment.status == Appointment.Status.BOOKED
        and appointment.start > timezone.now()
        and _course_of(appointment) is not None
    )


def _detail_context(appointment: Appointment) -> dict:
    roles = selectors.staff_roles(appointment.staff.all())
    session = getattr(appointment, "dosing_session", None)
    return {
        "appointment": appointment,
        "clinic": appointment.clinic,
        "staff": sorted(appointment.staff.all(), key=lambda u: (u.last_name, u.first_name)),
        "roles": roles,
        "session": session,
        "changeable": _changeable(appointment),
        "day": timezone.localtime(appointment.start, appointment.clinic.zone).date(),
    }


@staff_required
@require_GET
def appointment_detail(request, appointment_uuid):
    appointment = _appointment_or_404(request, appointment_uuid)
    if appointment.client is not None:
        access_log_record(
            actor=request.user, client=appointment.client, obj=appointment, request=request
        )
    return _panel(request, "sessions/board/_detail.html", _detail_context(appointment))


def _move_initial(appointment: Appointment) -> dict:
    zone = appointment.clinic.zone
    local = timezone.localtime(appointment.start, zone)
    staff = list(appointment.staff.all())
    roles = selectors.staff_roles(staff)
    return {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "minutes": int((appointment.end - appointment.start).total_seconds() // 60),
        "room": appointment.room_id,
        "therapist": next((u.pk for u in staff if roles.get(u.pk) == "therapist"), None),
        "practitioner": next(
            (u.pk for u in staff if roles.get(u.pk) == "medical_practitioner"), None
        ),
        "version": appointment.version,
    }


@staff_required
@require_http_methods(["GET", "POST"])
def appointment_move(request, appointment_uuid):
    appointment = _appointment_or_404(request, appointment_uuid)
    if appointment.client is not None:
        access_log_record(
            actor=request.user, client=appointment.client, obj=appointment, request=request
        )
    clinic = appointment.clinic
    form = MoveForm(
        request.POST if request.method == "POST" else None,
        initial=_move_initial(appointment),
        clinic=clinic,
    )
    context = {**_detail_context(appointment), "form": form}
    if not context["changeable"]:
        form.add_error(None, _(scheduling.MSG_CHANGED))
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        start = form.start()  # a valid form has its day and time
        try:
            if appointment.kind == AppointmentKind.DOSING_SESSION:
                scheduling.dosing_session_move(
                    session=appointment.dosing_session,
                    start=start,
                    team=_team(data),
                    actor=request.user,
                    version=data["version"],
                )
            else:
                scheduling.preparation_appointment_move(
                    preparation=appointment.preparation,
                    start=start,
                    minutes=form.length(),
                    staff_member=data["practitioner"]
                    if appointment.kind == AppointmentKind.MEDICAL_ASSESSMENT
                    else data["therapist"],
                    room=data["room"],
                    actor=request.user,
                    version=data["version"],
                )
        except scheduling.SchedulingError as exc:
            form.add_error(None, str(exc))
        else:
            appointment = _appointment_or_404(request, appointment_uuid)
            _log_change(request, appointment)
            return _changed(
                request,
                "sessions/board/_done.html",
                {"clinic": clinic, "appointments": [appointment]},
                _("Moved to %(when)s.") % {"when": _when(appointment)},
                clinic,
                timezone.localtime(appointment.start, clinic.zone).date(),
            )
    return _panel(request, "sessions/board/_move_form.html", context)


def _when(appointment: Appointment) -> str:
    return local_when(appointment.start, appointment.clinic)


def _log_change(request, appointment: Appointment) -> None:
    if appointment.client is not None:
        access_log_record(
            actor=request.user,
            client=appointment.client,
            obj=appointment,
            request=request,
            action=AccessLogEntry.Action.CHANGE,
        )


@staff_required
@require_http_methods(["GET", "POST"])
def appointment_cancel(request, appointment_uuid):
    """A confirmation first; the cancellation on its POST."""
    appointment = _appointment_or_404(request, appointment_uuid)
    if appointment.client is not None:
        access_log_record(
            actor=request.user, client=appointment.client, obj=appointment, request=request
        )
    clinic = appointment.clinic
    form = CancelForm(
        request.POST if request.method == "POST" else None,
        initial={"version": appointment.version},
    )
    context = {**_detail_context(appointment), "form": form}
    if appointment.status == Appointment.Status.CANCELLED and request.method == "POST":
        # The same confirmation sent twice: it is cancelled, as asked.
        return _changed(
            request,
            "sessions/board/_done.html",
            {"clinic": clinic, "appointments": []},
            _("This appointment is cancelled."),
            clinic,
            context["day"],
        )
    if not context["changeable"]:
        form.add_error(None, _(scheduling.MSG_CHANGED))
    elif request.method == "POST" and form.is_valid():
        try:
            scheduling.booking_cancel(
                appointment=appointment, actor=request.user, version=form.cleaned_data["version"]
            )
        except scheduling.SchedulingError as exc:
            form.add_error(None, str(exc))
        else:
            _log_change(request, appointment)
            return _changed(
                request,
                "sessions/board/_done.html",
                {"clinic": clinic, "appointments": []},
                _("Cancelled: %(kind)s of %(when)s. The client is told by e-mail.")
                % {"kind": appointment.get_kind_display().lower(), "when": _when(appointment)},
                clinic,
                context["day"],
            )
    return _panel(request, "sessions/board/_cancel.html", context)
