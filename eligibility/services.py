"""Screening: save a step, submit, and the clinician's decision. One
transaction each; follow-ups are outbox rows in the same transaction."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic import services as core
from clinic.models import ACTIVE_STAGES, Course, Stage, User

from . import rules, screener
from .models import Decision, QuestionnaireResponse, Screening
from .questionnaires import GAD7, PHQ9

CRISIS_ALERT = "eligibility.crisis_alert"
SUBMITTED_NOTICE = "eligibility.submitted"
DECISION_EMAIL = "eligibility.decision"

MSG_NOT_DRAFT = gettext_noop("This screening has already been sent. You can see it in your portal.")
MSG_MISSING = gettext_noop("Some answers are missing: %(steps)s.")
MSG_NO_COURSE = gettext_noop(
    "You have no course in progress with the clinic. Book an intake call to start one."
)
MSG_PAST_CONNECT = gettext_noop("Your course is past the screening stage.")
MSG_CLINICIANS_ONLY = gettext_noop(
    "Only a therapist or a medical practitioner of this clinic can decide."
)
MSG_NOT_SUBMITTED = gettext_noop("This screening has not been sent yet.")
MSG_NOT_CURRENT = gettext_noop(
    "This screening is too old to decide on: the client must fill in the screener again."
)
MSG_NOTE_REQUIRED = gettext_noop("Please write a note with the decision.")
MSG_ALREADY_DECIDED = gettext_noop("This screening already has a decision.")


class ScreeningError(Exception):
    """Something the screening rules refuse; `str()` is a sentence for the person."""


def _active_course(client) -> Course | None:
    return (
        Course.objects.filter(client=client, stage__in=ACTIVE_STAGES)
        .select_related("clinic")
        .first()
    )


def is_current(screening: Screening, now: datetime | None = None) -> bool:
    """Submitted within the clinic's validity period (e.g. six months)."""
    if screening.status != Screening.Status.SUBMITTED or screening.submitted_at is None:
        return False
    now = now or timezone.now()
    return now - screening.submitted_at <= timedelta(days=screening.clinic.screening_valid_days)


def decided(screening: Screening) -> bool:
    """A decision on the answers as last sent (one made before a resubmission
    was about the earlier answers)."""
    return (
        screening.submitted_at is not None
        and screening.decisions.filter(at__gte=screening.submitted_at).exists()
    )


def screening_start(*, client) -> Screening:
    """The client's screening to work on: the draft of their open course, a
    new draft, or their current submitted one (no new screening while one is
    current and awaiting or holding a decision)."""
    course = _active_course(client)
    if course is None:
        raise ScreeningError(_(MSG_NO_COURSE))
    if course.stage != Stage.CONNECT:
        raise ScreeningError(_(MSG_PAST_CONNECT))
    latest = course.screenings.order_by("-started_at").first()
    if latest is not None and (latest.status == Screening.Status.DRAFT or is_current(latest)):
        last_decision = latest.decisions.order_by("-at", "-pk").first()
        reopened = (
            last_decision is not None and last_decision.kind == Decision.Kind.MORE_INFORMATION
        )
        if latest.status == Screening.Status.DRAFT or not reopened:
            return latest
    try:
        with transaction.atomic():
            return Screening.objects.create(
                course=course,
                clinic=course.clinic,
                screener_version=screener.CURRENT,
                rules_version=rules.CURRENT,
                answers=(latest.answers if latest is not None else {}),
            )
    except IntegrityError:
        # A draft created by a second tab at the same moment: use it.
        return Screening.objects.get(course=course, status=Screening.Status.DRAFT)


def screening_save_step(
    *, screening: Screening, step: screener.Step, answers: dict
) -> tuple[Screening, bool]:
    """Save one step's answers into the draft. Returns (screening, crisis):
    `crisis` is True when these answers just signalled a risk of self-harm,
    in which case the clinical team's alert is written in this transaction
    (it goes out when the worker runs, even if the broker is down now)."""
    with transaction.atomic():
        current = Screening.objects.select_for_update().get(pk=screening.pk)
        if current.status != Screening.Status.DRAFT:
            raise ScreeningError(_(MSG_NOT_DRAFT))
        current.answers = {**current.answers, **answers}
        current.current_step = step.slug
        current.updated_at = timezone.now()
        crisis = rules.crisis_signalled(current.answers) and not current.crisis_flag
        if crisis:
            current.crisis_flag = True
            current.crisis_at = current.updated_at
            core.outbox_enqueue(
                kind=CRISIS_ALERT, key=str(current.uuid), payload={"screening": str(current.uuid)}
            )
        current.save(
            update_fields=["answers", "current_step", "updated_at", "crisis_flag", "crisis_at"]
        )
    return current, crisis


def screening_submit(*, screening: Screening, now: datetime | None = None) -> Screening:
    """Score the draft under its rule version and send it for review. A
    double submit finds it already sent and changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        current = (
            Screening.objects.select_for_update()
            .select_related("clinic", "course__client")
            .get(pk=screening.pk)
        )
        if current.status != Screening.Status.DRAFT:
            raise ScreeningError(_(MSG_NOT_DRAFT))
        missing = screener.missing_steps(current.screener_version, current.answers)
        if missing:
            raise ScreeningError(
                _(MSG_MISSING) % {"steps": ", ".join(str(s.title) for s in missing)}
            )
        answers = current.answers
        context = rules.Context(
            minimum_age=current.clinic.minimum_client_age,
            on=timezone.localtime(now, current.clinic.zone).date(),
        )
        outcome = rules.evaluate(answers, context, current.rules_version)
        current.outcome = outcome.code
        current.reasons = list(outcome.reasons)
        current.phq9_score = PHQ9.score(answers["phq9"])
        current.gad7_score = GAD7.score(answers["gad7"])
        current.status = Screening.Status.SUBMITTED
        current.submitted_at = now
        current.full_clean()
        current.save()
        for questionnaire, score in ((PHQ9, current.phq9_score), (GAD7, current.gad7_score)):
            QuestionnaireResponse.objects.create(
                client=current.course.client,
                screening=current,
                questionnaire=questionnaire.code,
                answers=answers[questionnaire.code],
                score=score,
                band=questionnaire.band(score).code,
                at=now,
            )
        core.outbox_enqueue(
            kind=SUBMITTED_NOTICE,
            key=f"{current.uuid}:{now.isoformat()}",
            payload={"screening": str(current.uuid)},
        )
    return current


def decision_record(
    *, screening: Screening, clinician: User, kind: str, note: str
) -> tuple[Decision, str]:
    """A clinician decides. Eligible moves the course from connect to
    prepare through the journey (when its other conditions, such as a held
    intake call, are met); not eligible declines it with the reason; more
    information reopens the screener for the client. Returns the decision
    and a sentence for the clinician about the course."""
    profile = getattr(clinician, "staff_profile", None)
    if (
        profile is None
        or not profile.is_clinician
        or not profile.clinics.filter(pk=screening.clinic_id).exists()
    ):
        raise ScreeningError(_(MSG_CLINICIANS_ONLY))
    if not note.strip():
        raise ScreeningError(_(MSG_NOTE_REQUIRED))
    with transaction.atomic():
        current = (
            Screening.objects.select_for_update()
            .select_related("clinic", "course")
            .get(pk=screening.pk)
        )
        if current.status != Screening.Status.SUBMITTED:
            raise ScreeningError(_(MSG_NOT_SUBMITTED))
        if decided(current):
            raise ScreeningError(_(MSG_ALREADY_DECIDED))
        if kind == Decision.Kind.ELIGIBLE and not is_current(current):
            raise ScreeningError(_(MSG_NOT_CURRENT))
        decision = Decision(screening=current, clinician=clinician, kind=kind, note=note.strip())
        decision.full_clean()
        decision.save()
        course = current.course
        message = _("The decision is recorded.")
        if kind == Decision.Kind.ELIGIBLE and course.stage == Stage.CONNECT:
            try:
                with transaction.atomic():
                    core.course_transition(
                        course=course, to_stage=Stage.PREPARE, actor=clinician, reason=note
                    )
                message = _(
                    "The decision is recorded and the client moves on to the prepare stage."
                )
            except core.JourneyError as exc:
                message = _(
                    "The decision is recorded. The course moves on once this is done: %(what)s"
                ) % {"what": exc}
        elif kind == Decision.Kind.NOT_ELIGIBLE and course.stage == Stage.CONNECT:
            core.course_transition(
                course=course, to_stage=Stage.DECLINED, actor=clinician, reason=note
            )
            message = _("The decision is recorded and the course is closed as not eligible.")
        elif kind == Decision.Kind.MORE_INFORMATION:
            Screening.objects.filter(pk=current.pk).update(
                status=Screening.Status.DRAFT, outcome="", submitted_at=None
            )
        core.outbox_enqueue(
            kind=DECISION_EMAIL, key=f"decision:{decision.pk}", payload={"decision": decision.pk}
        )
    return decision, message


def eligible_decision_guard(course: Course) -> list[str]:
    """Connect -> prepare needs an eligible decision on a current screening
    (registered in EligibilityConfig.ready)."""
    latest = (
        course.screenings.filter(status=Screening.Status.SUBMITTED)
        .order_by("-submitted_at")
        .first()
    )
    if latest is not None and is_current(latest):
        decision = (
            latest.decisions.filter(at__gte=latest.submitted_at).order_by("-at", "-pk").first()
        )
        if decision is not None and decision.kind == Decision.Kind.ELIGIBLE:
            return []
    return [_("A clinician must record an eligible decision on a current screening.")]
