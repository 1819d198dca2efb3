"""The session record's reads: a dosing session as its clinicians see it
(vitals, the blood-pressure rule, the dose, events, notes, discharge), a
course's clinical record (assessments, dose plan, series), and the clinical
day list. The rules the pages show and the services enforce are computed
here once, from the same rows (`session_facts`)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from clinic.models import Appointment, AppointmentKind, Clinic, Course, Reservation, Stage, User
from clinic.selectors import staff_clinic_ids, staff_clinics

from ..models import (
    Administration,
    AdverseEvent,
    AssessmentSignOff,
    DosePlan,
    DosingSeries,
    DosingSession,
    DosingSettings,
    PreparationAppointment,
    SessionNote,
    SessionPreferences,
    VitalsOverride,
    VitalsReading,
)
from .clinic_settings import dosing_settings  # noqa: F401  (read here by the stage's services)

# --- The clinic's numbers and the blood-pressure rule ---------------------------------------


PRESSURE_OK = "ok"
PRESSURE_CONFIRM = "confirm"
PRESSURE_DEFER = "defer"


def pressure_verdict(systolic: int, diastolic: int, settings: DosingSettings) -> str:
    """The clinic's blood-pressure rule before a dose. Above the confirmation
    threshold in either number (defaults 140/90: 141/90 and 140/91 are above,
    140/90 is not), a medical practitioner must confirm the dose with a reason;
    at or above the deferral threshold in either number (defaults 160/100),
    the session is deferred."""
    if systolic >= settings.defer_systolic or diastolic >= settings.defer_diastolic:
        return PRESSURE_DEFER
    if systolic > settings.confirm_systolic or diastolic > settings.confirm_diastolic:
        return PRESSURE_CONFIRM
    return PRESSURE_OK


# --- Append-only entries: the current value and its history -----------------------------------


def current_entries(rows) -> list:
    """The current version of each record among `rows` (every entry of one
    kind, corrections included), in the order the records were first made.
    Each carries `history` (the versions it replaced, newest first) and
    `first_at` (when the record was first made: a corrected reading keeps
    its place in time)."""
    by_pk = {row.pk: row for row in rows}
    corrected = {row.corrects_id for row in rows if row.corrects_id}
    current = []
    for row in rows:
        if row.pk in corrected:
            continue
        history = []
        node = row
        while node.corrects_id and node.corrects_id in by_pk:
            node = by_pk[node.corrects_id]
            history.append(node)
        row.history = history
        row.first_at = node.at
        row.first_pk = node.pk
        current.append(row)
    current.sort(key=lambda row: (row.first_at, row.first_pk))
    return current


# --- What a session's record says now ---------------------------------------------------------

NEEDS_VITALS = "needs_vitals"
NEEDS_CONFIRMATION = "needs_confirmation"
NEEDS_PLAN = "needs_plan"
READY_FOR_DOSE = "ready_for_dose"
POST_DOSE_DUE = "post_dose_due"
NEEDS_DISCHARGE_VITALS = "needs_discharge_vitals"
READY_FOR_DISCHARGE = "ready_for_discharge"
DEFERRED = "deferred"
DISCHARGED = "discharged"


@dataclass
class SessionFacts:
    """Where a session stands, computed from its rows: what the page shows
    next and what the services allow."""

    settings: DosingSettings
    outcome: str
    plan: DosePlan | None
    vitals: list[VitalsReading]  # current readings, in order
    pre_dose: VitalsReading | None  # the latest current reading before the dose
    verdict: str | None  # the blood-pressure rule on `pre_dose`
    confirmation: VitalsOverride | None  # a practitioner's go-ahead for `pre_dose`
    administration: Administration | None  # the current dose given
    post_dose_due_at: datetime | None
    post_dose_on_time: VitalsReading | None  # a reading taken once it was due
    discharge_reading: VitalsReading | None

    @property
    def state(self) -> str:
        if self.outcome == DosingSession.Outcome.DEFERRED:
            return DEFERRED
        if self.outcome == DosingSession.Outcome.DISCHARGED:
            return DISCHARGED
        if self.administration is None:
            if self.pre_dose is None:
                return NEEDS_VITALS
            if self.verdict == PRESSURE_CONFIRM and self.confirmation is None:
                return NEEDS_CONFIRMATION
            if self.plan is None:
                return NEEDS_PLAN
            return READY_FOR_DOSE
        if self.post_dose_on_time is None:
            return POST_DOSE_DUE
        if self.discharge_reading is None:
            return NEEDS_DISCHARGE_VITALS
        return READY_FOR_DISCHARGE


def session_facts(
    *,
    settings: DosingSettings,
    outcome: str,
    plan: DosePlan | None,
    vitals_rows,
    override_rows,
    administration_rows,
) -> SessionFacts:
    vitals = current_entries(vitals_rows)
    pre = [r for r in vitals if r.moment == VitalsReading.Moment.PRE_DOSE]
    pre_dose = pre[-1] if pre else None
    verdict = (
        pressure_verdict(pre_dose.systolic, pre_dose.diastolic, settings) if pre_dose else None
    )
    confirmation = (
        next((o for o in override_rows if o.reading_id == pre_dose.pk), None) if pre_dose else None
    )
    given = current_entries(administration_rows)
    administration = given[-1] if given else None
    due_at = on_time = None
    if administration is not None:
        due_at = administration.given_at + timedelta(minutes=settings.post_dose_vitals_minutes)
        on_time = next(
            (
                r
                for r in vitals
                if r.moment == VitalsReading.Moment.POST_DOSE and r.first_at >= due_at
            ),
            None,
        )
    discharge = [r for r in vitals if r.moment == VitalsReading.Moment.DISCHARGE]
    return SessionFacts(
        settings=settings,
        outcome=outcome,
        plan=plan,
        vitals=vitals,
        pre_dose=pre_dose,
        verdict=verdict,
        confirmation=confirmation,
        administration=administration,
        post_dose_due_at=due_at,
        post_dose_on_time=on_time,
        discharge_reading=discharge[-1] if discharge else None,
    )


def dose_plan_in_force(course: Course) -> DosePlan | None:
    """The course's dose plan now: the one no later plan replaces."""
    return (
        DosePlan.objects.filter(course=course, replaced_by__isnull=True)
        .select_related("by")
        .first()
    )


def session_facts_now(session: DosingSession, settings: DosingSettings) -> SessionFacts:
    """The facts read afresh (the services call it under the session's lock)."""
    return session_facts(
        settings=settings,
        outcome=session.outcome,
        plan=dose_plan_in_force(session.series.course),
        vitals_rows=list(VitalsReading.objects.filter(session=session).order_by("at", "pk")),
        override_rows=list(VitalsOverride.objects.filter(session=session)),
        administration_rows=list(
            Administration.objects.filter(session=session).order_by("at", "pk")
        ),
    )


def session_preferences(course: Course) -> SessionPreferences | None:
    """The client's set-and-setting preferences for their sessions. The same
    read as the prepare area's selector of the client's preferences (by
    course, one query), which the portal uses."""
    return SessionPreferences.objects.filter(course=course).first()


# --- The session page ---------------------------------------------------------------------------


@dataclass
class SessionRecord:
    session: DosingSession
    course: Course
    clinic: Clinic
    staff: list[User]
    preferences: SessionPreferences | None
    facts: SessionFacts
    overrides: list[VitalsOverride]
    administrations: list[Administration]
    adverse_events: list[AdverseEvent]
    notes: list[SessionNote]
    position: int  # this session's number in the series


def _by(model):
    return model.objects.select_related("by").order_by("at", "pk")


def session_record(*, user: User, session_uuid) -> SessionRecord | None:
    """A dosing session of one of the staff member's clinics, with everything
    recorded in it, in a fixed number of queries whatever its size."""
    session = (
        DosingSession.objects.filter(
            uuid=session_uuid, appointment__clinic_id__in=staff_clinic_ids(user=user)
        )
        .select_related(
            "appointment__clinic__dosing_settings",
            "appointment__room",
            "series__course__client__user",
            "deferred_by",
            "discharge__by",
        )
        .prefetch_related(
            Prefetch("vitals", queryset=_by(VitalsReading)),
            Prefetch("overrides", queryset=_by(VitalsOverride)),
            Prefetch("administrations", queryset=_by(Administration).select_related("plan")),
            Prefetch("adverse_events", queryset=_by(AdverseEvent)),
            Prefetch("notes", queryset=_by(SessionNote)),
            Prefetch(
                "appointment__reservations",
                queryset=Reservation.objects.filter(staff__isnull=False)
                .select_related("staff")
                .order_by("pk"),
            ),
        )
        .first()
    )
    if session is None:
        return None
    appointment = session.appointment
    course = session.series.course
    settings = dosing_settings(appointment.clinic)
    overrides = list(session.overrides.all())
    administrations = list(session.administrations.all())
    facts = session_facts(
        settings=settings,
        outcome=session.outcome,
        plan=dose_plan_in_force(course),
        vitals_rows=list(session.vitals.all()),
        override_rows=overrides,
        administration_rows=administrations,
    )
    position = (
        DosingSession.objects.filter(series_id=session.series_id)
        .filter(
            Q(appointment__start__lt=appointment.start)
            | Q(appointment__start=appointment.start, pk__lte=session.pk)
        )
        .exclude(appointment__status=Appointment.Status.CANCELLED)
        .count()
    )
    return SessionRecord(
        session=session,
        course=course,
        clinic=appointment.clinic,
        staff=[r.staff for r in appointment.reservations.all() if r.staff is not None],
        preferences=session_preferences(course),
        facts=facts,
        overrides=overrides,
        administrations=current_entries(administrations),
        adverse_events=current_entries(list(session.adverse_events.all())),
        notes=current_entries(list(session.notes.all())),
        position=position,
    )


def session_entry(*, session: DosingSession, kind: str, pk) -> Any:
    """One entry of a session (for a correction), or None: an id from another
    session, client or clinic finds nothing."""
    model = ENTRY_MODELS.get(kind)
    if model is None:
        return None
    try:
        return model.objects.filter(session=session, pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


ENTRY_MODELS: dict[str, Any] = {
    "vitals": VitalsReading,
    "administration": Administration,
    "adverse_event": AdverseEvent,
    "note": SessionNote,
}


# --- A course's clinical record ------------------------------------------------------------------


@dataclass
class PlanChange:
    plan: DosePlan
    before: DosePlan | None  # the plan it replaced


@dataclass
class PreparationRow:
    preparation: PreparationAppointment
    conclusion: AssessmentSignOff | None  # the current sign-off, with its `history`


@dataclass
class CourseRecord:
    course: Course
    preferences: SessionPreferences | None
    plans: list[PlanChange]  # oldest first
    plan: DosePlan | None
    preparations: list[PreparationRow]
    series: DosingSeries | None
    sessions: list[DosingSession]
    settings: DosingSettings


def course_record(*, user: User, course_uuid) -> CourseRecord | None:
    """A course of one of the staff member's clinics with its assessments and
    preparatory sessions (each with its sign-offs), every dose plan, and its
    dosing series, in a fixed number of queries."""
    course = (
        Course.objects.filter(uuid=course_uuid, clinic_id__in=staff_clinic_ids(user=user))
        .select_related("client__user", "clinic__dosing_settings")
        .first()
    )
    if course is None:
        return None
    plans = list(DosePlan.objects.filter(course=course).select_related("by").order_by("at", "pk"))
    by_pk = {plan.pk: plan for plan in plans}
    replaced = {plan.replaces_id for plan in plans}
    preparations = list(
        PreparationAppointment.objects.filter(course=course)
        .select_related("appointment")
        .prefetch_related(
            Prefetch("sign_offs", queryset=AssessmentSignOff.objects.select_related("by"))
        )
        .order_by("appointment__start", "pk")
    )
    rows = []
    for preparation in preparations:
        sign_offs = current_entries(list(preparation.sign_offs.all()))
        rows.append(PreparationRow(preparation, sign_offs[-1] if sign_offs else None))
    series = DosingSeries.objects.filter(course=course).select_related("ended_by").first()
    sessions = []
    if series is not None:
        sessions = list(
            DosingSession.objects.filter(series=series)
            .select_related("appointment__room")
            .order_by("appointment__start", "pk")
        )
    return CourseRecord(
        course=course,
        preferences=session_preferences(course),
        plans=[
            PlanChange(plan, by_pk[plan.replaces_id] if plan.replaces_id else None)
            for plan in plans
        ],
        plan=next((plan for plan in plans if plan.pk not in replaced), None),
        preparations=rows,
        series=series,
        sessions=sessions,
        settings=dosing_settings(course.clinic),
    )


def preparation_of_course(*, course: Course, uuid) -> PreparationAppointment | None:
    """An assessment or preparatory session of this course (another course's
    id finds nothing)."""
    return (
        PreparationAppointment.objects.filter(course=course, uuid=uuid)
        .select_related("appointment", "course")
        .first()
    )


# --- The clinical day -------------------------------------------------------------------------------


def day_courses(*, clinic: Clinic) -> QuerySet[Course]:
    """The clinic's courses in prepare and dosing, by stage then latest
    change: read in that order from course_prepare_dosing_idx, a page at a
    time (its condition is this filter, word for word)."""
    return (
        Course.objects.filter(clinic=clinic, stage__in=[Stage.PREPARE, Stage.DOSING])
        .select_related("client__user")
        .only("uuid", "stage", *_named("client__user"))
        .order_by("stage", "-stage_changed_at", "-pk")
    )


# The clinical day reads of each row what it shows (a time, a room, a
# client's name, a status) and the ids its links and access log entries
# need: not the client's profile, the session's deferral reason or the
# series' plan. Thirty rows' unused columns made into model fields were a
# third of the page's time (issue 15).
def _named(user_path: str) -> tuple[str, ...]:
    """A person as the day shows them (User.__str__: the name, else the e-mail)."""
    return tuple(f"{user_path}__{name}" for name in ("first_name", "last_name", "email"))


_DAY_APPOINTMENT = ("appointment__start", "appointment__status")


def record_day(
    *, user: User, clinic_slug: str | None, day: date | None, page: int | str | None = None
) -> dict | None:
    """A staff member's clinical day: the dosing sessions, medical assessments
    and preparatory sessions of one of their clinics on a local day, and the
    clinic's courses in prepare and dosing (paginated). None when they work
    at no clinic."""
    clinics = list(staff_clinics(user=user))
    if not clinics:
        return None
    clinic = next((c for c in clinics if c.slug == clinic_slug), clinics[0])
    today = timezone.localdate(timezone=clinic.zone)
    if day is None or abs((day - today).days) > 3650:  # ten years either way: a typo
        day = today
    start = datetime.combine(day, time.min, tzinfo=clinic.zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=clinic.zone)
    on_the_day = Q(
        appointment__clinic=clinic, appointment__start__gte=start, appointment__start__lt=end
    )
    sessions = list(
        DosingSession.objects.filter(on_the_day)
        .exclude(appointment__status=Appointment.Status.CANCELLED)
        .select_related("appointment__room", "series__course__client__user")
        .only(
            "uuid",
            "outcome",
            *_DAY_APPOINTMENT,
            "appointment__room__name",
            *_named("series__course__client__user"),
        )
        .order_by("appointment__start", "pk")
    )
    preparations = list(
        PreparationAppointment.objects.filter(on_the_day)
        .exclude(appointment__status=Appointment.Status.CANCELLED)
        .select_related("appointment", "course__client__user")
        .only(
            "uuid",
            *_DAY_APPOINTMENT,
            "appointment__kind",
            "course__uuid",
            *_named("course__client__user"),
        )
        .order_by("appointment__start", "pk")
    )
    courses: Page = Paginator(day_courses(clinic=clinic), 25).get_page(page)
    return {
        "clinic": clinic,
        "clinics": clinics,
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "sessions": sessions,
        "preparations": preparations,
        "courses": courses,
        "assessment_kind": AppointmentKind.MEDICAL_ASSESSMENT,
    }
