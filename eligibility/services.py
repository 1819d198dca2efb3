"""Screening: save a step, submit, and the clinician's decision. One
transaction each; follow-ups are outbox rows in the same transaction."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic import journey
from clinic.models import (
    MINIMUM_AGE_BY_PROVINCE,
    Course,
    OutboxMessage,
    Stage,
    User,
)
from clinic.outbox import outbox_enqueue
from clinic.permissions import is_clinician_of
from clinic.selectors import active_course

from . import rules, screener, selectors
from .models import Decision, QuestionnaireResponse, Screening, ScreeningSubmission
from .questionnaires import GAD7, PHQ9, QUESTIONNAIRES
from .selectors import is_current

CRISIS_ALERT = "eligibility.crisis_alert"
CRISIS_ALERT_ONE = "eligibility.crisis_alert.one"  # one row per clinician alerted
SUBMITTED_NOTICE = "eligibility.submitted"
SUBMITTED_NOTICE_ONE = "eligibility.submitted.one"
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
MSG_REOPEN_PAST_CONNECT = gettext_noop(
    "The decision is not recorded: the client's course is no longer at the screening stage "
    "(%(stage)s), so the screener cannot be reopened for more information."
)
MSG_REOPEN_NEWER_SCREENING = gettext_noop(
    "The decision is not recorded: the client has started a newer screening. "
    "Decide on that one once it is sent."
)
MSG_NOT_DECLINED = gettext_noop(
    "The decision is not recorded: the course cannot be closed as not eligible. %(why)s"
)
# The journey event says what moved the course, not the clinical note: every
# staff member of the clinic reads the journey, only clinicians the note.
DECISION_EVENT_REASON = gettext_noop(
    "Eligibility decision on the screening (the note is in the clinical review)."
)


class ScreeningError(Exception):
    """Something the screening rules refuse; `str()` is a sentence for the person."""


# Answers that do not go stale: a re-screening asks everything else again
# (mood, safety, health and medications change).
LASTING_ANSWERS = ("date_of_birth", "province")


def screening_start(*, client) -> Screening:
    """The client's screening to work on: the draft of their open course
    (also one reopened by "more information"), their current submitted one
    (no new screening while one is current), or a new draft when there is none
    or the last one is no longer current."""
    course = active_course(client=client)
    if course is None:
        raise ScreeningError(_(MSG_NO_COURSE))
    if course.stage != Stage.CONNECT:
        raise ScreeningError(_(MSG_PAST_CONNECT))
    with transaction.atomic():
        Course.objects.select_for_update().filter(pk=course.pk).first()  # two tabs make one draft
        latest = course.screenings.order_by("-started_at").first()
        if latest is not None and (latest.status == Screening.Status.DRAFT or is_current(latest)):
            return latest
        kept = {
            k: latest.answers[k]
            for k in LASTING_ANSWERS
            if latest is not None and k in latest.answers
        }
        return Screening.objects.create(
            course=course,
            clinic=course.clinic,
            screener_version=screener.CURRENT,
            rules_version=rules.CURRENT,
            answers=kept,
        )


def _step_signals_crisis(step_answers: dict, before: dict) -> tuple[bool, bool]:
    """(risk signalled by these answers, and newly so compared with before)."""
    now = rules.crisis_signalled(step_answers)
    if not now:
        return False, False
    merged_before = {k: before.get(k) for k in step_answers}
    return True, not rules.crisis_signalled(merged_before)


def _crisis_alert(screening: Screening, moment, *, key: str = "") -> None:
    """Flag the screening and alert the clinical team, in the caller's transaction."""
    Screening.objects.filter(pk=screening.pk).update(crisis_flag=True, crisis_at=moment)
    screening.crisis_flag, screening.crisis_at = True, moment
    outbox_enqueue(
        kind=CRISIS_ALERT,
        key=key or f"{screening.uuid}:{moment.isoformat()}",
        payload={"screening": str(screening.uuid)},
    )


def _signal(answers: dict) -> str:
    """Which answers signal the risk (the safety question, PHQ-9 item 9), as
    a stable name for the alert they cause."""
    return "+".join(sorted(k for k in answers if rules.crisis_signalled({k: answers[k]})))


def crisis_signal_unsaved(*, client, answers: dict) -> bool:
    """Answers that can no longer be saved (the screening was sent, the
    course was declined, put on hold or has moved on: a back button, a tab
    left open) are not stored, but a risk of self-harm they signal is never
    ignored. Returns True when they signal one: the crisis resources are shown
    every time.

    The clinical team is alerted on the client's latest screening, whatever
    its state, when the signal is new: not already in the answers it holds
    (the team was alerted when those were saved) and not already posted
    unsaved (a double click or a refresh alerts once, as a signal saved twice
    in a draft does)."""
    if not rules.crisis_signalled(answers):
        return False
    with transaction.atomic():
        latest = (
            Screening.objects.select_for_update(of=("self",))
            .filter(course__client=client)
            .order_by("-started_at", "-pk")
            .first()
        )
        if latest is None:
            # Never opened the screener (a hand-made post): nothing for the
            # team to open, but the resources are still shown.
            return True
        _crisis, new_signal = _step_signals_crisis(answers, latest.answers)
        key = f"{latest.uuid}:unsaved:{_signal(answers)}"
        # The screening row's lock makes this check and the insert one step.
        if new_signal and not OutboxMessage.objects.filter(kind=CRISIS_ALERT, key=key).exists():
            _crisis_alert(latest, timezone.now(), key=key)
    return True


def screening_save_step(
    *, screening: Screening, step: screener.Step, answers: dict
) -> tuple[Screening, bool]:
    """Save one step's answers into the draft. Returns (screening, crisis):
    `crisis` is True whenever these answers signal a risk of self-harm (the
    crisis resources are shown every time). Each new signal alerts the
    clinical team in this transaction: the alert goes out when the worker
    runs, even if the broker is down now."""
    with transaction.atomic():
        current = Screening.objects.select_for_update().get(pk=screening.pk)
        if current.status != Screening.Status.DRAFT:
            raise ScreeningError(_(MSG_NOT_DRAFT))
        crisis, new_signal = _step_signals_crisis(answers, current.answers)
        current.answers = {**current.answers, **answers}
        current.current_step = step.slug
        current.updated_at = timezone.now()
        current.save(update_fields=["answers", "current_step", "updated_at"])
        if new_signal or (crisis and not current.crisis_flag):
            _crisis_alert(current, current.updated_at)
    return current, crisis


def screening_submit(*, screening: Screening, now: datetime | None = None) -> Screening:
    """Score the draft under its rule version and send it for review: a new
    submission that keeps the answers as sent (a resubmission after "more
    information" points to the one before). A double submit finds it
    already sent and changes nothing."""
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
        # The higher of the clinic's minimum age and that of the province the
        # client lives in (an 18-year-old from British Columbia is not old
        # enough there, whichever clinic they call).
        province_minimum = MINIMUM_AGE_BY_PROVINCE.get(answers.get("province"), 0)
        context = rules.Context(
            minimum_age=max(current.clinic.minimum_client_age, province_minimum),
            on=timezone.localtime(now, current.clinic.zone).date(),
        )
        # Scored under the rules in force when it is sent, whenever it was started.
        current.rules_version = rules.CURRENT
        outcome = rules.evaluate(answers, context, current.rules_version)
        if rules.crisis_signalled(answers) and not current.crisis_flag:
            _crisis_alert(current, now)
        current.outcome = outcome.code
        current.reasons = list(outcome.reasons)
        current.phq9_score = PHQ9.score(answers["phq9"])
        current.gad7_score = GAD7.score(answers["gad7"])
        current.status = Screening.Status.SUBMITTED
        current.submitted_at = now
        current.full_clean()
        current.save()
        # What was sent, kept as sent: the draft may be reopened and edited
        # after "more information", this row never is.
        previous = current.submissions.order_by("-number").first()
        ScreeningSubmission.objects.create(
            screening=current,
            number=previous.number + 1 if previous else 1,
            previous=previous,
            answers=answers,
            rules_version=current.rules_version,
            outcome=current.outcome,
            reasons=current.reasons,
            phq9_score=current.phq9_score,
            gad7_score=current.gad7_score,
            crisis_flag=current.crisis_flag,
            submitted_at=now,
        )
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
        outbox_enqueue(
            kind=SUBMITTED_NOTICE,
            key=f"{current.uuid}:{now.isoformat()}",
            payload={"screening": str(current.uuid)},
        )
    return current


def screening_lock(screening: Screening) -> Screening:
    """The screening, with its clinic and course, locked until the caller's
    transaction ends: two clinicians deciding at once, or a decision and a
    resubmission, take turns."""
    return (
        Screening.objects.select_for_update()
        .select_related("clinic", "course")
        .get(pk=screening.pk)
    )


def decision_record(
    *, screening: Screening, clinician: User, kind: str, note: str
) -> tuple[Decision, str]:
    """A clinician decides. Eligible moves the course from connect to
    prepare through the journey (when its other conditions, such as a held
    intake call, are met); not eligible declines it with the reason; more
    information reopens the screener for the client. Returns the decision
    and a sentence for the clinician about the course.

    Refused (nothing recorded, nothing sent) where the decision cannot do
    what it says: more information when the screener would not take the
    client's answers (the course has left connect, or the client has started
    a newer screening), not eligible when the journey will not close the
    course."""
    if not is_clinician_of(clinician, screening.clinic_id):
        raise ScreeningError(_(MSG_CLINICIANS_ONLY))
    if not note.strip():
        raise ScreeningError(_(MSG_NOTE_REQUIRED))
    with transaction.atomic():
        current = screening_lock(screening)
        if current.status != Screening.Status.SUBMITTED:
            raise ScreeningError(_(MSG_NOT_SUBMITTED))
        submission = current.submissions.order_by("-number").first()
        if submission is None or submission.decisions.exists():
            raise ScreeningError(_(MSG_ALREADY_DECIDED))
        if kind == Decision.Kind.ELIGIBLE and not is_current(current):
            raise ScreeningError(_(MSG_NOT_CURRENT))
        course = current.course  # locked with the screening
        if kind == Decision.Kind.MORE_INFORMATION:
            # The client is asked to answer again in the screener: refused
            # where the screener would not take their answers.
            if course.stage != Stage.CONNECT:
                raise ScreeningError(
                    _(MSG_REOPEN_PAST_CONNECT) % {"stage": Stage(course.stage).label}
                )
            latest = course.screenings.order_by("-started_at", "-pk").values_list("pk").first()
            if latest != (current.pk,):
                raise ScreeningError(_(MSG_REOPEN_NEWER_SCREENING))
        decision = Decision(
            screening=current,
            submission=submission,
            clinician=clinician,
            kind=kind,
            note=note.strip(),
        )
        decision.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                decision.save()
        except IntegrityError as exc:
            # Only without the lock above (a shell, a future caller): the
            # database's one-decision-per-submission constraint still holds.
            raise ScreeningError(_(MSG_ALREADY_DECIDED)) from exc
        message = _("The decision is recorded.")
        if kind == Decision.Kind.ELIGIBLE and course.stage == Stage.CONNECT:
            advance = journey.course_advance(
                course=course, cause=_(DECISION_EVENT_REASON), by=clinician
            )
            if advance.moved:
                message = _(
                    "The decision is recorded and the client moves on to the prepare stage."
                )
            else:
                message = _(
                    "The decision is recorded. The course moves on by itself once this is done: "
                    "%(what)s"
                ) % {"what": " ".join(advance.unmet)}
        elif kind == Decision.Kind.NOT_ELIGIBLE and course.stage == Stage.CONNECT:
            try:
                journey.course_transition(
                    course=course,
                    to_stage=Stage.DECLINED,
                    actor=clinician,
                    reason=_(DECISION_EVENT_REASON),
                )
            except journey.JourneyError as exc:
                # The decision and its e-mail go back with it: the client is
                # never told "not eligible" about a course still open.
                raise ScreeningError(_(MSG_NOT_DECLINED) % {"why": exc}) from exc
            message = _("The decision is recorded and the course is closed as not eligible.")
        elif kind == Decision.Kind.MORE_INFORMATION:
            # The client edits a copy of the answers they sent; the
            # submission keeps the originals.
            Screening.objects.filter(pk=current.pk).update(
                status=Screening.Status.DRAFT,
                outcome="",
                submitted_at=None,
                answers=submission.answers,
            )
        outbox_enqueue(
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
        decision = selectors.current_decision(latest)
        if decision is not None and decision.kind == Decision.Kind.ELIGIBLE:
            return []
    return [_("A clinician must record an eligible decision on a current screening.")]


def questionnaire_record(
    *, client, questionnaire: str, answers: list[int], at: datetime | None = None
) -> QuestionnaireResponse:
    """A PHQ-9 or GAD-7 answered outside the screener (before a dosing
    session, a follow-up), scored by the same definition as the screener's.
    Raises ValueError on impossible answers (a wrong count, a value outside
    0 to 3): the caller's form refuses them first."""
    definition = QUESTIONNAIRES[questionnaire]
    answers = [int(a) for a in answers]
    score = definition.score(answers)
    return QuestionnaireResponse.objects.create(
        client=client,
        questionnaire=definition.code,
        answers=answers,
        score=score,
        band=definition.band(score).code,
        at=at or timezone.now(),
    )
