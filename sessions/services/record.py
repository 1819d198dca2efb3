"""The clinical record of preparing and dosing: the medical assessment's
sign-off, the dose plan, and what happens in a dosing session (vitals, the
blood-pressure rule, the dose, adverse events, notes, deferral, discharge),
then the end of the series.

Every record here is append-only: a correction is a new row pointing to the
one it corrects, with who, when and why. Each write is one transaction that
locks the row it hangs from (the session, the assessment, the course or the
series), so two people recording at once are checked one after the other.
Each form carries a one-time `submission` token: the same form sent twice
records once (the second send returns the first row)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic import calendar, journey
from clinic.models import Appointment, AppointmentKind, Course, Stage, User
from clinic.permissions import is_clinician_of, is_medical_practitioner_of

from ..models import (
    Administration,
    AdverseEvent,
    AssessmentSignOff,
    Discharge,
    DosePlan,
    DosingSeries,
    DosingSession,
    PreparationAppointment,
    Route,
    SessionNote,
    VitalsOverride,
    VitalsReading,
)
from ..selectors import gates
from ..selectors.record import (
    PRESSURE_CONFIRM,
    PRESSURE_DEFER,
    PRESSURE_OK,
    dose_plan_in_force,
    dosing_settings,
    session_facts_now,
)


class RecordError(Exception):
    """A record the clinic's rules refuse; `str()` is a sentence for the
    person, `field` the form field it is about (None: the whole form)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


MSG_CLINICIANS_ONLY = gettext_noop(
    "Only the clinic’s therapists and medical practitioners can record this."
)
MSG_PRACTITIONERS_ONLY = gettext_noop("Only a medical practitioner of the clinic can do this.")
MSG_NOT_STARTED = gettext_noop(
    "This session has not started yet: record what happens once it has begun."
)
MSG_NOT_ON = gettext_noop(
    "This session was cancelled or marked as a no-show: nothing can be recorded in it."
)
MSG_SESSION_CLOSED = gettext_noop(
    "This session is closed: no new entry of this kind can be added. A correction can still be "
    "recorded."
)
MSG_ALREADY_CLOSED = gettext_noop("This session is already closed.")
MSG_DEFERRED = gettext_noop("This session is deferred: the dose cannot be recorded as given.")
MSG_CHANGED = gettext_noop("This record changed in the meantime. Reload the page and try again.")
MSG_REASON_REQUIRED = gettext_noop("Give a reason.")
MSG_NOTE_REQUIRED = gettext_noop("Write a note.")
MSG_ALREADY_CORRECTED = gettext_noop(
    "This entry has been corrected already: correct its current version."
)

# Vitals.
MSG_OUT_OF_RANGE = gettext_noop("%(what)s must be between %(low)s and %(high)s: check the reading.")
MSG_SYSTOLIC_NOT_ABOVE = gettext_noop(
    "The systolic pressure must be higher than the diastolic pressure: check the reading."
)
MSG_PRE_DOSE_AFTER_DOSE = gettext_noop(
    "The dose is already recorded: record this reading as after the dose or at discharge."
)
MSG_DOSE_FIRST = gettext_noop("Record the dose before the readings that follow it.")
MSG_AUTO_DEFERRAL = gettext_noop(
    "Blood pressure %(systolic)s/%(diastolic)s before the dose: at or above "
    "%(defer_systolic)s/%(defer_diastolic)s."
)

# The practitioner's confirmation.
MSG_NOTHING_TO_CONFIRM = gettext_noop(
    "The blood pressure before the dose does not need a confirmation."
)
MSG_CONFIRM_TOO_HIGH = gettext_noop(
    "At or above %(systolic)s/%(diastolic)s the session is deferred: it cannot be confirmed."
)
MSG_CONFIRM_NOT_CURRENT = gettext_noop(
    "Confirm the latest reading before the dose: this one was corrected or followed by another."
)
MSG_ALREADY_CONFIRMED = gettext_noop("This reading is confirmed already.")

# The dose.
MSG_VITALS_FIRST = gettext_noop("Record the vitals before the dose first.")
MSG_CONFIRMATION_NEEDED = gettext_noop(
    "The blood pressure before the dose is above %(systolic)s/%(diastolic)s: a medical "
    "practitioner must confirm, with a reason, before the dose is given."
)
MSG_NO_PLAN = gettext_noop(
    "This client has no dose plan: a medical practitioner must set one before the dose is given."
)
MSG_ALREADY_GIVEN = gettext_noop(
    "The dose of this session is recorded already: correct it if it was wrong."
)
MSG_DIFFERS_REASON = gettext_noop("This differs from the dose plan (%(plan)s): say why.")
MSG_GIVEN_AT = gettext_noop(
    "The time the dose was given must be during the session, and not in the future."
)
MSG_DOSE_RANGE = gettext_noop("Enter a dose between 0.01 and 1000 mg, with at most two decimals.")
MSG_ROUTE = gettext_noop("Choose the nasal spray or the sublingual tablet.")

# Adverse events.
MSG_ACTION_REQUIRED = gettext_noop("Say what was done about it.")
MSG_CHOICE = gettext_noop("Choose one of the options.")

# Deferral and discharge.
MSG_DEFER_AFTER_DOSE = gettext_noop(
    "The dose is recorded already: the session can no longer be deferred."
)
MSG_CHECKLIST_INCOMPLETE = gettext_noop(
    "Tick every item of the discharge checklist: the session cannot be closed until each is done."
)
MSG_DISCHARGE_NEEDS_DOSE = gettext_noop("The session cannot be closed before the dose is recorded.")
MSG_DISCHARGE_NEEDS_POST_DOSE = gettext_noop(
    "Record the vitals due %(minutes)s minutes after the dose (from %(time)s) before closing the "
    "session."
)
MSG_DISCHARGE_NEEDS_VITALS = gettext_noop(
    "Record the vitals at discharge before closing the session."
)

# Dose plans.
MSG_PLAN_STAGE = gettext_noop("A dose plan is set while the course is in prepare or dosing.")
MSG_PLAN_CHANGED = gettext_noop(
    "The dose plan was changed while you were editing it: check the plan now in force and try "
    "again."
)
MSG_PLAN_UNCHANGED = gettext_noop("This is the plan in force already: nothing changed.")

# Assessments and preparatory sessions.
MSG_NOT_ASSESSMENT = gettext_noop("Only a medical assessment is signed off.")
MSG_NOT_HELD = gettext_noop("Mark the assessment as held before signing it off.")
MSG_ALREADY_SIGNED = gettext_noop(
    "This assessment is signed off already: record a correction if the conclusion changes."
)
MSG_SIGNED_OFF_TOOK_PLACE = gettext_noop(
    "This assessment is signed off, so it took place: it cannot be marked as a no-show."
)
MSG_SAME_MARK = gettext_noop("The appointment is marked so already.")

# The series.
MSG_SERIES_ENDED = gettext_noop("This series has ended already.")
MSG_SERIES_STAGE = gettext_noop("A series is ended while the course is in dosing.")
MSG_SESSION_IN_PROGRESS = gettext_noop(
    "A session of the series has its dose recorded but is not closed: discharge it first."
)
MSG_SERIES_INCOMPLETE = gettext_noop(
    "The dosing series must be complete (every planned session discharged) or ended early by a "
    "clinician."
)


# The journey events' reasons.
EVENT_SIGNED_OFF = gettext_noop("Medical assessment signed off")
EVENT_SERIES_COMPLETED = gettext_noop("Dosing series completed")
EVENT_SERIES_ENDED = gettext_noop("Dosing series ended early")

# A dose may be given a little before the booked start (the client is ready
# early) and recorded with a few minutes of clock difference.
DOSE_EARLIEST = timedelta(minutes=30)
CLOCK_SKEW = timedelta(minutes=5)

# Physiological bounds of a reading (the database refuses anything outside,
# constraint "vitals_physiological"): outside them it is a typing error.
VITALS_BOUNDS = {
    "systolic": (50, 260, gettext_noop("The systolic pressure (mmHg)")),
    "diastolic": (30, 160, gettext_noop("The diastolic pressure (mmHg)")),
    "heart_rate": (20, 250, gettext_noop("The heart rate (per minute)")),
    "spo2": (50, 100, gettext_noop("The SpO₂ (%)")),
}
DOSE_MAX = Decimal("1000")


# --- Checks shared by the forms and the services ------------------------------------------------


def vitals_problems(*, systolic, diastolic, heart_rate, spo2) -> dict[str, str]:
    """What is wrong with a reading, per field, in the active language."""
    values = {
        "systolic": systolic,
        "diastolic": diastolic,
        "heart_rate": heart_rate,
        "spo2": spo2,
    }
    problems = {}
    for name, (low, high, what) in VITALS_BOUNDS.items():
        value = values[name]
        if value is None or not low <= value <= high:
            problems[name] = _(MSG_OUT_OF_RANGE) % {"what": _(what), "low": low, "high": high}
    if not problems and systolic <= diastolic:
        problems["diastolic"] = _(MSG_SYSTOLIC_NOT_ABOVE)
    return problems


def dose_problem(dose_mg) -> str | None:
    """A dose in mg: a positive Decimal of at most two decimals, at most 1000."""
    try:
        dose = Decimal(dose_mg)
    except (InvalidOperation, TypeError, ValueError):
        return _(MSG_DOSE_RANGE)
    if (
        not dose.is_finite()
        or dose <= 0
        or dose > DOSE_MAX
        or int(dose.as_tuple().exponent) < -2  # finite, so the exponent is an int
    ):
        return _(MSG_DOSE_RANGE)
    return None


def plan_label(route: str, dose_mg) -> str:
    return f"{Route(route).label} {dose_mg} mg"


# --- Shared steps -------------------------------------------------------------------------------


def _save(row: models.Model, *, exclude: list[str]) -> None:
    """full_clean() then save(); the row's foreign keys were handed in as rows
    (no query to check them). Its constraints are the database's last line:
    one the service's own checks under the lock did not foresee becomes a
    sentence, not a server error."""
    try:
        row.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise RecordError(messages[0], None if field == "__all__" else field) from exc
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise RecordError(_(MSG_CHANGED)) from exc


def _replayed(model, submission, **owner):
    """The row this form already wrote, when the same form is sent again."""
    if submission is None:
        return None
    row = model.objects.filter(submission=submission).first()
    if row is None:
        return None
    if any(getattr(row, f"{name}_id") != value.pk for name, value in owner.items()):
        raise RecordError(_(MSG_CHANGED))
    return row


def _lock_session(session: DosingSession) -> DosingSession:
    return (
        DosingSession.objects.select_for_update(of=("self",))
        .select_related("appointment__clinic__dosing_settings", "series__course")
        .get(pk=session.pk)
    )


def _check_session(session: DosingSession, actor: User, now: datetime) -> None:
    """A clinician of the clinic, in a session that is on and has begun."""
    appointment = session.appointment
    if not is_clinician_of(actor, appointment.clinic_id):
        raise RecordError(_(MSG_CLINICIANS_ONLY))
    if appointment.status not in (Appointment.Status.BOOKED, Appointment.Status.HELD):
        raise RecordError(_(MSG_NOT_ON))
    if appointment.start > now:
        raise RecordError(_(MSG_NOT_STARTED))


def _check_correction(model, corrects, session: DosingSession, reason: str) -> None:
    if corrects.session_id != session.pk:
        raise RecordError(_(MSG_CHANGED))
    if not reason.strip():
        raise RecordError(_(MSG_REASON_REQUIRED), "correction_reason")
    if model.objects.filter(corrects=corrects).exists():
        raise RecordError(_(MSG_ALREADY_CORRECTED))


def _mark_held(appointment: Appointment, now: datetime) -> None:
    """The client came and the time was spent, whatever the outcome."""
    if appointment.status == Appointment.Status.HELD:
        return
    try:
        calendar.appointment_mark(appointment=appointment, status=Appointment.Status.HELD, now=now)
    except calendar.CalendarConflict as exc:
        raise RecordError(str(exc)) from exc


def _set_outcome(session: DosingSession, outcome: str, now: datetime, **extra) -> None:
    """The outcome is set once (a conditional update: two people closing the
    same session cannot both succeed)."""
    updated = DosingSession.objects.filter(pk=session.pk, outcome="").update(
        outcome=outcome, outcome_at=now, **extra
    )
    if updated != 1:  # pragma: no cover - the session's row lock makes this unreachable
        raise RecordError(_(MSG_ALREADY_CLOSED))
    session.outcome, session.outcome_at = outcome, now
    for name, value in extra.items():
        setattr(session, name, value)


def _defer(session: DosingSession, *, reason: str, actor: User, now: datetime) -> None:
    _set_outcome(
        session,
        DosingSession.Outcome.DEFERRED,
        now,
        deferral_reason=reason,
        deferred_by=actor,
    )
    _mark_held(session.appointment, now)


# --- Vitals ---------------------------------------------------------------------------------------


def vitals_record(
    *,
    session: DosingSession,
    actor: User,
    moment: str,
    systolic: int,
    diastolic: int,
    heart_rate: int,
    spo2: int,
    corrects: VitalsReading | None = None,
    correction_reason: str = "",
    submission: uuid.UUID | None = None,
    now: datetime | None = None,
) -> VitalsReading:
    """Record a reading (before the dose, after it, or at discharge), or
    correct one (same moment, with a reason).

    A reading before the dose at or above the clinic's deferral threshold
    defers the session at once (DosingSettings, defaults 160/100): the dose
    can no longer be recorded as given. Above the confirmation threshold
    (defaults 140/90) the dose waits for a medical practitioner's
    confirmation (`vitals_confirm`)."""
    now = now or timezone.now()
    problems = vitals_problems(
        systolic=systolic, diastolic=diastolic, heart_rate=heart_rate, spo2=spo2
    )
    if problems:
        field, message = next(iter(problems.items()))
        raise RecordError(message, field)
    if corrects is None and moment not in VitalsReading.Moment.values:
        raise RecordError(_(MSG_CHOICE), "moment")
    with transaction.atomic():
        locked = _lock_session(session)
        _check_session(locked, actor, now)
        replayed = _replayed(VitalsReading, submission, session=locked)
        if replayed is not None:
            return replayed
        settings = dosing_settings(locked.appointment.clinic)
        facts = session_facts_now(locked, settings)
        if corrects is not None:
            _check_correction(VitalsReading, corrects, locked, correction_reason)
            moment = corrects.moment
        else:
            if locked.outcome:
                raise RecordError(_(MSG_SESSION_CLOSED))
            if moment == VitalsReading.Moment.PRE_DOSE and facts.administration is not None:
                raise RecordError(_(MSG_PRE_DOSE_AFTER_DOSE), "moment")
            if moment != VitalsReading.Moment.PRE_DOSE and facts.administration is None:
                raise RecordError(_(MSG_DOSE_FIRST), "moment")
        reading = VitalsReading(
            session=locked,
            by=actor,
            at=now,
            moment=moment,
            systolic=systolic,
            diastolic=diastolic,
            heart_rate=heart_rate,
            spo2=spo2,
            corrects=corrects,
            correction_reason=correction_reason.strip() if corrects else "",
            submission=submission,
        )
        _save(reading, exclude=["session", "by", "corrects"])
        if moment == VitalsReading.Moment.PRE_DOSE and not locked.outcome:
            facts = session_facts_now(locked, settings)
            pre = facts.pre_dose
            if facts.administration is None and pre is not None and facts.verdict == PRESSURE_DEFER:
                _defer(
                    locked,
                    reason=_(MSG_AUTO_DEFERRAL)
                    % {
                        "systolic": pre.systolic,
                        "diastolic": pre.diastolic,
                        "defer_systolic": settings.defer_systolic,
                        "defer_diastolic": settings.defer_diastolic,
                    },
                    actor=actor,
                    now=now,
                )
    session.outcome = locked.outcome
    return reading


def vitals_confirm(
    *,
    session: DosingSession,
    reading: VitalsReading,
    reason: str,
    actor: User,
    submission: uuid.UUID | None = None,
    now: datetime | None = None,
) -> VitalsOverride:
    """A medical practitioner's explicit go-ahead to give the dose although
    the blood pressure before it is above the confirmation threshold (below
    the deferral one), with a reason. It holds for that reading only: a new
    or corrected reading needs its own."""
    now = now or timezone.now()
    if not reason.strip():
        raise RecordError(_(MSG_REASON_REQUIRED), "reason")
    with transaction.atomic():
        locked = _lock_session(session)
        if not is_medical_practitioner_of(actor, locked.appointment.clinic_id):
            raise RecordError(_(MSG_PRACTITIONERS_ONLY))
        _check_session(locked, actor, now)
        replayed = _replayed(VitalsOverride, submission, session=locked)
        if replayed is not None:
            return replayed
        if locked.outcome == DosingSession.Outcome.DEFERRED:
            raise RecordError(_(MSG_DEFERRED))
        if locked.outcome:
            raise RecordError(_(MSG_SESSION_CLOSED))
        settings = dosing_settings(locked.appointment.clinic)
        facts = session_facts_now(locked, settings)
        if facts.administration is not None:
            raise RecordError(_(MSG_ALREADY_GIVEN))
        if facts.pre_dose is None or facts.pre_dose.pk != reading.pk:
            raise RecordError(_(MSG_CONFIRM_NOT_CURRENT))
        if facts.verdict == PRESSURE_OK:
            raise RecordError(_(MSG_NOTHING_TO_CONFIRM))
        if facts.verdict == PRESSURE_DEFER:  # pragma: no cover - deferred when recorded
            raise RecordError(
                _(MSG_CONFIRM_TOO_HIGH)
                % {"systolic": settings.defer_systolic, "diastolic": settings.defer_diastolic}
            )
        if facts.confirmation is not None:
            raise RecordError(_(MSG_ALREADY_CONFIRMED))
        override = VitalsOverride(
            session=locked,
            reading=reading,
            reason=reason.strip(),
            by=actor,
            at=now,
            submission=submission,
        )
        _save(override, exclude=["session", "reading", "by"])
    return override


# --- The dose -------------------------------------------------------------------------------------


def administration_record(
    *,
    session: DosingSession,
    actor: User,
    given_at: datetime,
    route: str,
    dose_mg: Decimal,
    differs_reason: str = "",
    corrects: Administration | None = None,
    correction_reason: str = "",
    submission: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Administration:
    """Record the dose given (when, route, mg, by whom: the clinician
    recording it), or correct it.

    Refused before the vitals before the dose, in a deferred or closed
    session, above the confirmation threshold without a practitioner's
    confirmation, and without a dose plan. A route or dose other than the
    plan in force needs a reason. A correction keeps the plan the dose was
    given under and is measured against it."""
    now = now or timezone.now()
    problem = dose_problem(dose_mg)
    if problem:
        raise RecordError(problem, "dose_mg")
    if route not in Route.values:
        raise RecordError(_(MSG_ROUTE), "route")
    with transaction.atomic():
        locked = _lock_session(session)
        _check_session(locked, actor, now)
        replayed = _replayed(Administration, submission, session=locked)
        if replayed is not None:
            return replayed
        if corrects is not None:
            _check_correction(Administration, corrects, locked, correction_reason)
            plan = corrects.plan
        else:
            plan = _dose_allowed(locked)
        start = locked.appointment.start
        if not start - DOSE_EARLIEST <= given_at <= now + CLOCK_SKEW:
            raise RecordError(_(MSG_GIVEN_AT), "given_at")
        differs = route != plan.route or Decimal(dose_mg) != plan.dose_mg
        if differs and not differs_reason.strip():
            raise RecordError(
                _(MSG_DIFFERS_REASON) % {"plan": plan_label(plan.route, plan.dose_mg)},
                "differs_reason",
            )
        administration = Administration(
            session=locked,
            by=actor,
            at=now,
            given_at=given_at,
            route=route,
            dose_mg=Decimal(dose_mg),
            plan=plan,
            differs_reason=differs_reason.strip() if differs else "",
            corrects=corrects,
            correction_reason=correction_reason.strip() if corrects else "",
            submission=submission,
        )
        _save(administration, exclude=["session", "by", "plan", "corrects"])
    return administration


def _dose_allowed(session: DosingSession) -> DosePlan:
    """The plan a first dose is given under, or why no dose may be given now."""
    if session.outcome == DosingSession.Outcome.DEFERRED:
        raise RecordError(_(MSG_DEFERRED))
    if session.outcome:
        raise RecordError(_(MSG_SESSION_CLOSED))
    settings = dosing_settings(session.appointment.clinic)
    facts = session_facts_now(session, settings)
    if facts.administration is not None:
        raise RecordError(_(MSG_ALREADY_GIVEN))
    if facts.pre_dose is None:
        raise RecordError(_(MSG_VITALS_FIRST))
    if facts.verdict == PRESSURE_DEFER:  # pragma: no cover - deferred when recorded
        raise RecordError(_(MSG_DEFERRED))
    if facts.verdict == PRESSURE_CONFIRM and facts.confirmation is None:
        raise RecordError(
            _(MSG_CONFIRMATION_NEEDED)
            % {"systolic": settings.confirm_systolic, "diastolic": settings.confirm_diastolic}
        )
    if facts.plan is None:
        raise RecordError(_(MSG_NO_PLAN))
    return facts.plan


# --- Adverse events and notes -----------------------------------------------------------------------


def adverse_event_record(
    *,
    session: DosingSession,
    actor: User,
    kind: str,
    severity: str,
    action_taken: str,
    description: str = "",
    corrects: AdverseEvent | None = None,
    correction_reason: str = "",
    submission: uuid.UUID | None = None,
    now: datetime | None = None,
) -> AdverseEvent:
    """An adverse event (kind, severity, what was done), or its correction.
    Recorded at any time once the session has begun, closed or not."""
    now = now or timezone.now()
    if kind not in AdverseEvent.Kind.values:
        raise RecordError(_(MSG_CHOICE), "kind")
    if severity not in AdverseEvent.Severity.values:
        raise RecordError(_(MSG_CHOICE), "severity")
    if not action_taken.strip():
        raise RecordError(_(MSG_ACTION_REQUIRED), "action_taken")
    with transaction.atomic():
        locked = _lock_session(session)
        _check_session(locked, actor, now)
        replayed = _replayed(AdverseEvent, submission, session=locked)
        if replayed is not None:
            return replayed
        if corrects is not None:
            _check_correction(AdverseEvent, corrects, locked, correction_reason)
        event = AdverseEvent(
            session=locked,
            by=actor,
            at=now,
            kind=kind,
            severity=severity,
            description=description.strip(),
            action_taken=action_taken.strip(),
            corrects=corrects,
            correction_reason=correction_reason.strip() if corrects else "",
            submission=submission,
        )
        _save(event, exclude=["session", "by", "corrects"])
    return event


def note_record(
    *,
    session: DosingSession,
    actor: User,
    text: str,
    corrects: SessionNote | None = None,
    correction_reason: str = "",
    submission: uuid.UUID | None = None,
    now: datetime | None = None,
) -> SessionNote:
    """A clinician's note on the session (often written after it), or its correction."""
    now = now or timezone.now()
    if not text.strip():
        raise RecordError(_(MSG_NOTE_REQUIRED), "text")
    with transaction.atomic():
        locked = _lock_session(session)
        _check_session(locked, actor, now)
        replayed = _replayed(SessionNote, submission, session=locked)
        if replayed is not None:
            return replayed
        if corrects is not None:
            _check_correction(SessionNote, corrects, locked, correction_reason)
        note = SessionNote(
            session=locked,
            by=actor,
            at=now,
            text=text.strip(),
            corrects=corrects,
            correction_reason=correction_reason.strip() if corrects else "",
            submission=submission,
        )
        _save(note, exclude=["session", "by", "corrects"])
    return note


# --- Deferral and discharge --------------------------------------------------------------------------


def session_defer(
    *, session: DosingSession, actor: User, reason: str, now: datetime | None = None
) -> DosingSession:
    """A clinician defers the session before the dose (the client is unwell,
    has no escort...), with a reason. The outcome is set once; the
    appointment is held (the client came, the time was spent)."""
    now = now or timezone.now()
    if not reason.strip():
        raise RecordError(_(MSG_REASON_REQUIRED), "reason")
    with transaction.atomic():
        locked = _lock_session(session)
        _check_session(locked, actor, now)
        if locked.outcome:
            raise RecordError(_(MSG_ALREADY_CLOSED))
        if Administration.objects.filter(session=locked).exists():
            raise RecordError(_(MSG_DEFER_AFTER_DOSE))
        _defer(locked, reason=reason.strip(), actor=actor, now=now)
    session.refresh_from_db()
    return session


@dataclass(frozen=True)
class Closed:
    discharge: Discharge
    course_moved: bool  # the series is complete and the course moved to integrate


def session_discharge(
    *,
    session: DosingSession,
    actor: User,
    alert_and_oriented: bool,
    vitals_in_range: bool,
    escort_or_ride: bool,
    no_driving_acknowledged: bool,
    note: str = "",
    submission: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Closed:
    """Close the session: the discharge checklist, every item ticked (the
    database refuses an incomplete one, constraint
    "discharge_checklist_complete"). Needs the dose, the vitals due after it
    (taken once due: DosingSettings.post_dose_vitals_minutes, default 40) and
    the vitals at discharge. Sets the outcome once, marks the appointment
    held, and when this was the series' last planned session moves the
    course on to integrate."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_session(session)
        _check_session(locked, actor, now)
        replayed = _replayed(Discharge, submission, session=locked)
        if replayed is not None:
            return Closed(replayed, False)
        if locked.outcome:
            raise RecordError(_(MSG_ALREADY_CLOSED))
        settings = dosing_settings(locked.appointment.clinic)
        facts = session_facts_now(locked, settings)
        if facts.administration is None:
            raise RecordError(_(MSG_DISCHARGE_NEEDS_DOSE))
        if facts.post_dose_on_time is None:
            due_at = facts.administration.given_at + timedelta(
                minutes=settings.post_dose_vitals_minutes
            )
            due = timezone.localtime(due_at, locked.appointment.clinic.zone)
            raise RecordError(
                _(MSG_DISCHARGE_NEEDS_POST_DOSE)
                % {"minutes": settings.post_dose_vitals_minutes, "time": time_format(due)}
            )
        if facts.discharge_reading is None:
            raise RecordError(_(MSG_DISCHARGE_NEEDS_VITALS))
        if not (
            alert_and_oriented and vitals_in_range and escort_or_ride and no_driving_acknowledged
        ):
            raise RecordError(_(MSG_CHECKLIST_INCOMPLETE))
        discharge = Discharge(
            session=locked,
            alert_and_oriented=alert_and_oriented,
            vitals_in_range=vitals_in_range,
            escort_or_ride=escort_or_ride,
            no_driving_acknowledged=no_driving_acknowledged,
            note=note.strip(),
            by=actor,
            at=now,
            submission=submission,
        )
        _save(discharge, exclude=["session", "by"])
        _set_outcome(locked, DosingSession.Outcome.DISCHARGED, now)
        _mark_held(locked.appointment, now)
        course = locked.series.course
        moved = False
        if course.stage == Stage.DOSING and gates.series_complete(course):
            moved = journey.course_advance(
                course=course, cause=_(EVENT_SERIES_COMPLETED), by=actor
            ).moved
    session.refresh_from_db()
    return Closed(discharge, moved)


# --- The dosing series ----------------------------------------------------------------------------------


def series_end(
    *, series: DosingSeries, actor: User, reason: str, now: datetime | None = None
) -> DosingSeries:
    """A clinician ends the series before its planned sessions are done,
    with a reason (recorded once). Sessions still ahead are cancelled (their
    room, people and reminders freed); the course moves on to integrate."""
    now = now or timezone.now()
    if not reason.strip():
        raise RecordError(_(MSG_REASON_REQUIRED), "reason")
    with transaction.atomic():
        locked = (
            DosingSeries.objects.select_for_update(of=("self",))
            .select_related("course")
            .get(pk=series.pk)
        )
        course = locked.course
        if not is_clinician_of(actor, course.clinic_id):
            raise RecordError(_(MSG_CLINICIANS_ONLY))
        if locked.ended_at is not None:
            raise RecordError(_(MSG_SERIES_ENDED))
        if course.stage != Stage.DOSING:
            raise RecordError(_(MSG_SERIES_STAGE))
        if DosingSession.objects.filter(
            series=locked, outcome="", administrations__isnull=False
        ).exists():
            raise RecordError(_(MSG_SESSION_IN_PROGRESS))
        DosingSeries.objects.filter(pk=locked.pk, ended_at__isnull=True).update(
            ended_at=now, ended_by=actor, end_reason=reason.strip()
        )
        ahead = Appointment.objects.filter(
            dosing_session__series=locked, status=Appointment.Status.BOOKED, start__gt=now
        )
        for appointment in ahead:
            calendar.appointment_cancel(appointment=appointment)
        journey.course_advance(course=course, cause=_(EVENT_SERIES_ENDED), by=actor)
    series.refresh_from_db()
    return series


def series_complete_guard(course: Course) -> list[str]:
    """Dosing -> integrate needs the series complete: every planned session
    discharged, or the series ended early by a clinician (registered in
    DosingConfig.ready)."""
    if gates.series_complete(course):
        return []
    return [_(MSG_SERIES_INCOMPLETE)]


# --- Dose plans -------------------------------------------------------------------------------------------


def dose_plan_set(
    *,
    course: Course,
    actor: User,
    route: str,
    dose_mg: Decimal,
    notes: str = "",
    seen: int | None,
    submission: uuid.UUID | None = None,
    now: datetime | None = None,
) -> DosePlan:
    """A medical practitioner of the clinic sets the client's dose plan, or
    changes it: the change is a new plan that replaces the one in force
    (`seen`, the plan the practitioner was looking at: if another change
    came in between, this one is refused rather than silently replacing it)."""
    now = now or timezone.now()
    if not is_medical_practitioner_of(actor, course.clinic_id):
        raise RecordError(_(MSG_PRACTITIONERS_ONLY))
    problem = dose_problem(dose_mg)
    if problem:
        raise RecordError(problem, "dose_mg")
    if route not in Route.values:
        raise RecordError(_(MSG_ROUTE), "route")
    with transaction.atomic():
        locked = Course.objects.select_for_update().get(pk=course.pk)
        replayed = _replayed(DosePlan, submission, course=locked)
        if replayed is not None:
            return replayed
        if locked.stage not in (Stage.PREPARE, Stage.DOSING):
            raise RecordError(_(MSG_PLAN_STAGE))
        current = dose_plan_in_force(locked)
        if (current.pk if current else None) != seen:
            raise RecordError(_(MSG_PLAN_CHANGED))
        notes = notes.strip()
        if current is not None and (current.route, current.dose_mg, current.notes) == (
            route,
            Decimal(dose_mg),
            notes,
        ):
            raise RecordError(_(MSG_PLAN_UNCHANGED))
        plan = DosePlan(
            course=locked,
            route=route,
            dose_mg=Decimal(dose_mg),
            notes=notes,
            by=actor,
            at=now,
            replaces=current,
            submission=submission,
        )
        _save(plan, exclude=["course", "by", "replaces"])
    return plan


# --- Assessments and preparatory sessions -------------------------------------------------------------------


def preparation_mark(
    *,
    preparation: PreparationAppointment,
    actor: User,
    status: str,
    was: str = Appointment.Status.BOOKED,
    now: datetime | None = None,
) -> PreparationAppointment:
    """A clinician of the clinic records that a medical assessment or a
    preparatory session took place (held) or that the client did not come
    (no-show); `was` is the mark being corrected. A signed-off assessment
    took place: it cannot become a no-show."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            PreparationAppointment.objects.select_for_update(of=("self",))
            .select_related("appointment")
            .get(pk=preparation.pk)
        )
        appointment = locked.appointment
        if not is_clinician_of(actor, appointment.clinic_id):
            raise RecordError(_(MSG_CLINICIANS_ONLY))
        if status == was:
            raise RecordError(_(MSG_SAME_MARK))
        if status not in calendar.MARKS:
            raise RecordError(_(MSG_CHOICE), "status")
        if (
            status == Appointment.Status.NO_SHOW
            and AssessmentSignOff.objects.filter(assessment=locked).exists()
        ):
            raise RecordError(_(MSG_SIGNED_OFF_TOOK_PLACE))
        try:
            calendar.appointment_mark(appointment=appointment, status=status, now=now, was=was)
        except calendar.CalendarConflict as exc:
            raise RecordError(str(exc)) from exc
    preparation.appointment.refresh_from_db()
    return preparation


@dataclass(frozen=True)
class SignedOff:
    sign_off: AssessmentSignOff
    advance: journey.Advance | None  # None: the course was not waiting in prepare


def assessment_sign_off(
    *,
    assessment: PreparationAppointment,
    actor: User,
    cleared: bool,
    note: str,
    corrects: AssessmentSignOff | None = None,
    reason: str = "",
    submission: uuid.UUID | None = None,
    now: datetime | None = None,
) -> SignedOff:
    """A medical practitioner of the clinic concludes a held medical
    assessment: cleared for dosing or not, with a note. A changed conclusion
    is a correction of the current one, with a reason. A cleared conclusion
    is one of the conditions for leaving prepare: when it is the last one
    met, the course moves on to dosing in the same transaction."""
    now = now or timezone.now()
    if not note.strip():
        raise RecordError(_(MSG_NOTE_REQUIRED), "note")
    with transaction.atomic():
        locked = (
            PreparationAppointment.objects.select_for_update(of=("self",))
            .select_related("appointment", "course")
            .get(pk=assessment.pk)
        )
        appointment = locked.appointment
        if not is_medical_practitioner_of(actor, appointment.clinic_id):
            raise RecordError(_(MSG_PRACTITIONERS_ONLY))
        if appointment.kind != AppointmentKind.MEDICAL_ASSESSMENT:
            raise RecordError(_(MSG_NOT_ASSESSMENT))
        replayed = _replayed(AssessmentSignOff, submission, assessment=locked)
        if replayed is not None:
            return SignedOff(replayed, None)
        if appointment.status != Appointment.Status.HELD:
            raise RecordError(_(MSG_NOT_HELD))
        if corrects is None:
            if AssessmentSignOff.objects.filter(assessment=locked).exists():
                raise RecordError(_(MSG_ALREADY_SIGNED))
        else:
            if corrects.assessment_id != locked.pk:
                raise RecordError(_(MSG_CHANGED))
            if not reason.strip():
                raise RecordError(_(MSG_REASON_REQUIRED), "reason")
            if AssessmentSignOff.objects.filter(corrects=corrects).exists():
                raise RecordError(_(MSG_ALREADY_CORRECTED))
        sign_off = AssessmentSignOff(
            assessment=locked,
            cleared=cleared,
            note=note.strip(),
            by=actor,
            at=now,
            corrects=corrects,
            reason=reason.strip() if corrects else "",
            submission=submission,
        )
        _save(sign_off, exclude=["assessment", "by", "corrects"])
        advance = None
        if cleared and locked.course.stage == Stage.PREPARE:
            advance = journey.course_advance(
                course=locked.course, cause=_(EVENT_SIGNED_OFF), by=actor
            )
    return SignedOff(sign_off, advance)
