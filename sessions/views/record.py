"""The session record's staff pages: the clinical day, a course's clinical
record (assessments, preparatory sessions, dose plan, series) and a dosing
session's record. The records are for the clinic's clinicians only (a
coordinator sees who and where on the day list and the board, not clinical
content); every read is written to the access log."""

import uuid
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinic.access_log import access_log_record, access_log_record_many
from clinic.formatting import choice_labels, local_when
from clinic.journey import unmet_conditions
from clinic.models import Appointment, AppointmentKind, Course, Stage
from clinic.permissions import (
    is_clinician,
    is_clinician_of,
    is_medical_practitioner_of,
    staff_required,
)

from ..forms import record as forms
from ..models import AssessmentSignOff, DosingSession, VitalsReading
from ..selectors import record as selectors
from ..services import record as services

# --- The clinical day ---------------------------------------------------------------------------


@staff_required
@require_GET
def record_day(request):
    try:
        day = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = None
    page = selectors.record_day(
        user=request.user,
        clinic_slug=request.GET.get("clinic"),
        day=day,
        page=request.GET.get("page"),
    )
    if page is None:
        raise Http404
    # Who is in preparation or dosing at a ketamine clinic is health
    # information: each row shown is a read.
    access_log_record_many(
        actor=request.user,
        request=request,
        items=[(s.series.course.client, s) for s in page["sessions"]]
        + [(p.course.client, p) for p in page["preparations"]]
        + [(c.client, c) for c in page["courses"]],
    )
    return render(
        request,
        "sessions/record/day.html",
        {
            **page,
            "is_clinician": is_clinician_of(request.user, page["clinic"].pk),
            # The rows' labels from the fields' choices, read once (label_of).
            "outcome_labels": choice_labels(DosingSession, "outcome"),
            "status_labels": choice_labels(Appointment, "status"),
            "kind_labels": choice_labels(Appointment, "kind"),
            "stage_labels": choice_labels(Course, "stage"),
        },
    )


def _clinicians_only(request) -> None:
    if not is_clinician(request.user):
        raise PermissionDenied


def _done(request, url: str, notes: list[tuple[int, str]]) -> HttpResponse:
    for level, text in notes:
        messages.add_message(request, level, text)
    return redirect(url)


def _apply(request, form, action) -> HttpResponse | None:
    """Validate the form and run the action; a refusal becomes the form's error."""
    if not form.is_valid():
        return None
    try:
        url, notes = action(form.cleaned_data)
    except services.RecordError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return None
    return _done(request, url, notes)


def _action_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Http404 from exc


# --- A dosing session -------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def session_page(request, session_uuid):
    _clinicians_only(request)
    record = selectors.session_record(user=request.user, session_uuid=session_uuid)
    if record is None:
        raise Http404
    # Vitals, the dose, events and notes are health data: every read is logged.
    access_log_record(
        actor=request.user, client=record.course.client, obj=record.session, request=request
    )
    sent = None
    if request.method == "POST":
        outcome = _session_post(request, record)
        if isinstance(outcome, HttpResponse):
            return outcome
        sent = outcome
    return render(request, "sessions/record/session.html", _session_context(request, record, sent))


def _session_post(request, record):
    """Run the action the page sent: (its key, the form with its errors) when
    refused, or the redirect after it is recorded."""
    session, user, zone = record.session, request.user, record.clinic.zone
    url = reverse("dosing:record_session", args=[session.uuid])
    action = request.POST.get("action", "")
    data = request.POST
    ok = messages.SUCCESS

    if action.startswith("fix:"):
        _fix, kind, pk = (action.split(":") + ["", ""])[:3]
        entry = selectors.session_entry(session=session, kind=kind, pk=pk)
        if entry is None:
            raise Http404
        extra = {"zone": zone} if kind == "administration" else {}
        form = forms.CORRECTION_FORMS[kind](data, prefix=f"fix-{kind}-{entry.pk}", **extra)

        def correct(d):
            common = {
                "session": session,
                "actor": user,
                "corrects": entry,
                "correction_reason": d["correction_reason"],
                "submission": d["submission"],
            }
            if kind == "vitals":
                services.vitals_record(
                    **common,
                    moment=entry.moment,
                    systolic=d["systolic"],
                    diastolic=d["diastolic"],
                    heart_rate=d["heart_rate"],
                    spo2=d["spo2"],
                )
            elif kind == "administration":
                services.administration_record(
                    **common,
                    given_at=d["given_at"],
                    route=d["route"],
                    dose_mg=d["dose_mg"],
                    differs_reason=d["differs_reason"],
                )
            elif kind == "adverse_event":
                services.adverse_event_record(
                    **common,
                    kind=d["kind"],
                    severity=d["severity"],
                    description=d["description"],
                    action_taken=d["action_taken"],
                )
            else:
                services.note_record(**common, text=d["text"])
            return f"{url}#{kind}", [(ok, _("The correction is recorded."))]

        return _apply(request, form, correct) or (("fix", kind, entry.pk), form)

    if action == "vitals":
        form = forms.VitalsForm(data, prefix="vitals")

        def record_vitals(d):
            services.vitals_record(
                session=session,
                actor=user,
                moment=d["moment"],
                systolic=d["systolic"],
                diastolic=d["diastolic"],
                heart_rate=d["heart_rate"],
                spo2=d["spo2"],
                submission=d["submission"],
            )
            notes = [(ok, _("The vitals are recorded."))]
            if session.outcome == DosingSession.Outcome.DEFERRED:
                notes.append((messages.WARNING, _("The session is deferred.")))
            return f"{url}#vitals", notes

        return _apply(request, form, record_vitals) or ("vitals", form)

    if action == "confirm":
        form = forms.ConfirmForm(data, prefix="confirm")

        def confirm(d):
            reading = VitalsReading.objects.filter(session=session, pk=d["reading"]).first()
            if reading is None:
                raise Http404
            services.vitals_confirm(
                session=session,
                reading=reading,
                reason=d["reason"],
                actor=user,
                submission=d["submission"],
            )
            return f"{url}#dose", [(ok, _("Your confirmation is recorded: the dose may be given."))]

        return _apply(request, form, confirm) or ("confirm", form)

    if action == "administration":
        form = forms.AdministrationForm(data, prefix="administration", zone=zone)

        def give(d):
            services.administration_record(
                session=session,
                actor=user,
                given_at=d["given_at"],
                route=d["route"],
                dose_mg=d["dose_mg"],
                differs_reason=d["differs_reason"],
                submission=d["submission"],
            )
            return f"{url}#dose", [(ok, _("The dose is recorded."))]

        return _apply(request, form, give) or ("administration", form)

    if action == "adverse_event":
        form = forms.AdverseEventForm(data, prefix="adverse_event")

        def event(d):
            services.adverse_event_record(
                session=session,
                actor=user,
                kind=d["kind"],
                severity=d["severity"],
                description=d["description"],
                action_taken=d["action_taken"],
                submission=d["submission"],
            )
            return f"{url}#adverse_event", [(ok, _("The adverse event is recorded."))]

        return _apply(request, form, event) or ("adverse_event", form)

    if action == "note":
        form = forms.NoteForm(data, prefix="note")

        def note(d):
            services.note_record(
                session=session, actor=user, text=d["text"], submission=d["submission"]
            )
            return f"{url}#note", [(ok, _("The note is recorded."))]

        return _apply(request, form, note) or ("note", form)

    if action == "defer":
        form = forms.DeferForm(data, prefix="defer")

        def defer(d):
            services.session_defer(session=session, actor=user, reason=d["reason"])
            return url, [(messages.WARNING, _("The session is deferred."))]

        return _apply(request, form, defer) or ("defer", form)

    if action == "discharge":
        form = forms.DischargeForm(data, prefix="discharge")

        def discharge(d):
            closed = services.session_discharge(
                session=session,
                actor=user,
                alert_and_oriented=d["alert_and_oriented"],
                vitals_in_range=d["vitals_in_range"],
                escort_or_ride=d["escort_or_ride"],
                no_driving_acknowledged=d["no_driving_acknowledged"],
                note=d["note"],
                submission=d["submission"],
            )
            notes = [(ok, _("The session is closed: the client is discharged."))]
            if closed.course_moved:
                notes.append((ok, _("The series is complete: the course moved on to integrate.")))
            return url, notes

        return _apply(request, form, discharge) or ("discharge", form)

    return HttpResponseBadRequest()


def _default_moment(facts) -> str:
    if facts.administration is None:
        return VitalsReading.Moment.PRE_DOSE
    if facts.post_dose_on_time is None:
        return VitalsReading.Moment.POST_DOSE
    return VitalsReading.Moment.DISCHARGE


def _status(record) -> tuple[str, str]:
    """What the session needs next, as the page's banner says it: (level, text)."""
    facts, clinic, session = record.facts, record.clinic, record.session
    settings = facts.settings
    state = facts.state
    if state == selectors.DEFERRED:
        return "warning", _("Deferred: %(reason)s") % {"reason": session.deferral_reason}
    if state == selectors.DISCHARGED:
        return "success", _("Discharged on %(when)s.") % {
            "when": local_when(session.outcome_at, clinic)
        }
    if state == selectors.NEEDS_VITALS:
        return "info", _("Record the vitals before the dose.")
    if state == selectors.NEEDS_CONFIRMATION:
        pre = facts.pre_dose
        return "danger", _(
            "Blood pressure %(systolic)s/%(diastolic)s before the dose is above "
            "%(confirm_systolic)s/%(confirm_diastolic)s: a medical practitioner must confirm, "
            "with a reason, before the dose is given."
        ) % {
            "systolic": pre.systolic,
            "diastolic": pre.diastolic,
            "confirm_systolic": settings.confirm_systolic,
            "confirm_diastolic": settings.confirm_diastolic,
        }
    if state == selectors.NEEDS_PLAN:
        return "danger", _(services.MSG_NO_PLAN)
    if state == selectors.READY_FOR_DOSE:
        return "info", _("Ready for the dose.")
    due = timezone.localtime(facts.post_dose_due_at, clinic.zone)
    if state == selectors.POST_DOSE_DUE:
        return "info", _("Vitals after the dose are due at %(time)s.") % {"time": time_format(due)}
    if state == selectors.NEEDS_DISCHARGE_VITALS:
        return "info", _("Record the vitals at discharge, then the discharge checklist.")
    return "info", _("Ready for discharge: complete the checklist.")


def _session_context(request, record, sent) -> dict:
    user, facts, clinic = request.user, record.facts, record.clinic
    zone = clinic.zone
    is_open = not record.session.outcome

    def form(key, cls, show, **kwargs):
        # The form just sent is shown with its refusal, even where the page
        # would offer none now (a deferred session's dose form).
        if sent is not None and sent[0] == key:
            return sent[1]
        return cls(prefix=key, **kwargs) if show else None

    plan = facts.plan
    can_confirm = facts.state == selectors.NEEDS_CONFIRMATION and is_medical_practitioner_of(
        user, clinic.pk
    )
    before_dose = is_open and facts.administration is None
    context = {
        "record": record,
        "session": record.session,
        "appointment": record.session.appointment,
        "course": record.course,
        "clinic": clinic,
        "facts": facts,
        "status": _status(record),
        "vitals_form": form(
            "vitals", forms.VitalsForm, is_open, initial={"moment": _default_moment(facts)}
        ),
        "confirm_form": form(
            "confirm",
            forms.ConfirmForm,
            can_confirm,
            initial={"reading": facts.pre_dose.pk if facts.pre_dose else None},
        ),
        "administration_form": form(
            "administration",
            forms.AdministrationForm,
            before_dose,
            zone=zone,
            initial={"route": plan.route, "dose_mg": plan.dose_mg} if plan else {},
        ),
        "defer_form": form("defer", forms.DeferForm, before_dose),
        "discharge_form": form(
            "discharge", forms.DischargeForm, is_open and facts.administration is not None
        ),
        "adverse_event_form": form("adverse_event", forms.AdverseEventForm, True),
        "note_form": form("note", forms.NoteForm, True),
        "sent": sent[0] if sent else None,
    }
    confirmations = {o.reading_id: o for o in record.overrides}
    for reading in facts.vitals:
        reading.confirmation = confirmations.get(reading.pk)
    for kind, entries in (
        ("vitals", facts.vitals),
        ("administration", record.administrations),
        ("adverse_event", record.adverse_events),
        ("note", record.notes),
    ):
        for entry in entries:
            key = ("fix", kind, entry.pk)
            entry.fix_action = f"fix:{kind}:{entry.pk}"
            entry.fix_open = sent is not None and sent[0] == key
            if entry.fix_open:
                entry.fix_form = sent[1]
            else:
                extra = {"zone": zone} if kind == "administration" else {}
                entry.fix_form = forms.CORRECTION_FORMS[kind](
                    prefix=f"fix-{kind}-{entry.pk}",
                    initial=forms.correction_initial(kind, entry, zone),
                    **extra,
                )
    return context


# --- A course's clinical record -----------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def course_page(request, course_uuid):
    _clinicians_only(request)
    record = selectors.course_record(user=request.user, course_uuid=course_uuid)
    if record is None:
        raise Http404
    # The dose plan, the assessments' conclusions and the series are health data.
    access_log_record(
        actor=request.user, client=record.course.client, obj=record.course, request=request
    )
    sent = None
    if request.method == "POST":
        outcome = _course_post(request, record)
        if isinstance(outcome, HttpResponse):
            return outcome
        sent = outcome
    return render(request, "sessions/record/course.html", _course_context(request, record, sent))


def _course_post(request, record):
    course, user = record.course, request.user
    url = reverse("dosing:record_course", args=[course.uuid])
    action = request.POST.get("action", "")
    data = request.POST
    ok = messages.SUCCESS
    name, _sep, target = action.partition(":")

    if name == "plan":
        form = forms.DosePlanForm(data, prefix="plan")

        def plan(d):
            services.dose_plan_set(
                course=course,
                actor=user,
                route=d["route"],
                dose_mg=d["dose_mg"],
                notes=d["notes"],
                seen=d["seen"],
                submission=d["submission"],
            )
            return f"{url}#plan", [(ok, _("The dose plan is saved."))]

        return _apply(request, form, plan) or ("plan", form)

    if name in ("mark", "signoff"):
        preparation = selectors.preparation_of_course(course=course, uuid=_action_uuid(target))
        if preparation is None:
            raise Http404
        key = (name, preparation.uuid)
        if name == "mark":
            form = forms.MarkForm(data, prefix=f"mark-{preparation.uuid}")

            def mark(d):
                services.preparation_mark(
                    preparation=preparation, actor=user, status=d["status"], was=d["was"]
                )
                return f"{url}#preparation", [(ok, _("The appointment is marked."))]

            return _apply(request, form, mark) or (key, form)

        form = forms.SignOffForm(data, prefix=f"signoff-{preparation.uuid}")

        def sign_off(d):
            corrects = None
            if d["corrects"] is not None:
                corrects = AssessmentSignOff.objects.filter(
                    assessment=preparation, pk=d["corrects"]
                ).first()
                if corrects is None:
                    raise Http404
            signed = services.assessment_sign_off(
                assessment=preparation,
                actor=user,
                cleared=d["cleared"],
                note=d["note"],
                corrects=corrects,
                reason=d["reason"],
                submission=d["submission"],
            )
            notes = [(ok, _("The conclusion of the assessment is recorded."))]
            if signed.advance is not None:
                if signed.advance.moved:
                    notes.append((ok, _("The course moved on to dosing.")))
                else:
                    notes.append(
                        (
                            messages.INFO,
                            _("The course moves on to dosing once this is done too: %(unmet)s")
                            % {"unmet": " ".join(signed.advance.unmet)},
                        )
                    )
            return f"{url}#preparation", notes

        return _apply(request, form, sign_off) or (key, form)

    if name == "end_series" and record.series is not None:
        form = forms.SeriesEndForm(data, prefix="end_series")

        def end(d):
            services.series_end(series=record.series, actor=user, reason=d["reason"])
            return url, [(ok, _("The series has ended: the course moved on to integrate."))]

        return _apply(request, form, end) or ("end_series", form)

    return HttpResponseBadRequest()


def _course_context(request, record, sent) -> dict:
    user, course = request.user, record.course
    is_md = is_medical_practitioner_of(user, course.clinic_id)
    now = timezone.now()

    def form(key, cls, prefix, show, **kwargs):
        # The form just sent is shown with its refusal, even to someone the
        # page would offer none (a therapist's dose plan: "practitioners only").
        if sent is not None and sent[0] == key:
            return sent[1]
        return cls(prefix=prefix, **kwargs) if show else None

    plan = record.plan
    for row in record.preparations:
        preparation, conclusion = row.preparation, row.conclusion
        appointment = preparation.appointment
        row.mark_form = form(
            ("mark", preparation.uuid),
            forms.MarkForm,
            f"mark-{preparation.uuid}",
            appointment.start <= now and appointment.status != Appointment.Status.CANCELLED,
            initial={
                "was": appointment.status,
                "status": Appointment.Status.NO_SHOW
                if appointment.status == Appointment.Status.HELD
                else Appointment.Status.HELD,
            },
        )
        row.is_assessment = appointment.kind == AppointmentKind.MEDICAL_ASSESSMENT
        row.sign_off_form = form(
            ("signoff", preparation.uuid),
            forms.SignOffForm,
            f"signoff-{preparation.uuid}",
            is_md and row.is_assessment and appointment.status == Appointment.Status.HELD,
            initial={"corrects": conclusion.pk if conclusion else None},
        )
        row.sent = sent is not None and sent[0] in (
            ("mark", preparation.uuid),
            ("signoff", preparation.uuid),
        )
    series = record.series
    return {
        "record": record,
        "course": course,
        "clinic": course.clinic,
        "plan": plan,
        "plan_form": form(
            "plan",
            forms.DosePlanForm,
            "plan",
            is_md and course.stage in (Stage.PREPARE, Stage.DOSING),
            initial={
                "seen": plan.pk if plan else None,
                **(
                    {"route": plan.route, "dose_mg": plan.dose_mg, "notes": plan.notes}
                    if plan
                    else {}
                ),
            },
        ),
        "end_form": form(
            "end_series",
            forms.SeriesEndForm,
            "end_series",
            series is not None and series.ended_at is None and course.stage == Stage.DOSING,
        ),
        "unmet": unmet_conditions(course, Stage.DOSING) if course.stage == Stage.PREPARE else [],
        "discharged": sum(
            1 for s in record.sessions if s.outcome == DosingSession.Outcome.DISCHARGED
        ),
        "sent": sent[0] if sent else None,
    }
