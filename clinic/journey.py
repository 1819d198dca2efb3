"""The journey's rules: which stage may follow which, and the hooks stage apps
plug into (guards on a transition, the client's next step in a stage, and
where each condition of a stage stands).

The core never imports a stage app. An app registers its conditions from its
AppConfig.ready(): eligibility guards CONNECT -> PREPARE with "an eligible
decision on a current screening", the sessions app guards PREPARE -> DOSING,
and so on.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import cast

from django.db import IntegrityError, transaction
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from .models import ClientProfile, Clinic, Course, JourneyEvent, StaffRole, Stage, User
from .permissions import works_at

FORWARD: dict[str, Stage] = {
    Stage.CONNECT: Stage.PREPARE,
    Stage.PREPARE: Stage.DOSING,
    Stage.DOSING: Stage.INTEGRATE,
    Stage.INTEGRATE: Stage.RECONNECT,
}
TERMINAL = frozenset({Stage.DECLINED, Stage.WITHDRAWN})
# A course can be paused or ended from any stage that is still in progress.
PAUSABLE = frozenset({Stage.CONNECT, Stage.PREPARE, Stage.DOSING, Stage.INTEGRATE})


def allowed_targets(course: Course) -> set[str]:
    """The stages this course may move to next, before guards are asked."""
    stage = course.stage
    if stage in TERMINAL:
        return set()
    if stage == Stage.ON_HOLD:
        return {course.stage_before_hold, Stage.WITHDRAWN}
    targets: set[str] = {Stage.WITHDRAWN}
    if stage in FORWARD:
        targets.add(FORWARD[stage])
    if stage in PAUSABLE:
        targets.add(Stage.ON_HOLD)
    if stage == Stage.CONNECT:
        targets.add(Stage.DECLINED)
    return targets


Guard = Callable[[Course], list[str]]
_guards: dict[tuple[str, str], list[Guard]] = defaultdict(list)


def register_guard(from_stage: str, to_stage: str, guard: Guard) -> None:
    """`guard(course)` returns the conditions still unmet (sentences a
    clinician can act on); an empty list lets the transition through."""
    if guard not in _guards[(from_stage, to_stage)]:
        _guards[(from_stage, to_stage)].append(guard)


def unregister_guard(from_stage: str, to_stage: str, guard: Guard) -> None:
    _guards[(from_stage, to_stage)].remove(guard)


EnteredHook = Callable[[Course, str], None]
_entered_hooks: dict[str, list[EnteredHook]] = defaultdict(list)


def register_stage_entered(stage: str, hook: EnteredHook) -> None:
    """`hook(course, from_stage)` runs inside the transition's transaction
    once the course has entered `stage` (the row and its event written): a
    stage app writes the rows the new stage starts with (integration's
    follow-up questionnaires when the course leaves dosing), in the same
    commit as the move, so a move never lacks them and a refused move
    leaves none."""
    if hook not in _entered_hooks[stage]:
        _entered_hooks[stage].append(hook)


def unregister_stage_entered(stage: str, hook: EnteredHook) -> None:
    _entered_hooks[stage].remove(hook)


def unmet_conditions(course: Course, to_stage: str) -> list[str]:
    unmet: list[str] = []
    for guard in _guards.get((course.stage, to_stage), []):
        unmet.extend(guard(course))
    return unmet


@dataclass(frozen=True)
class NextStep:
    title: str | Promise
    text: str | Promise
    url: str | Promise = ""  # a path, not a URL name
    link_text: str | Promise = ""


NextStepProvider = Callable[[Course], NextStep | None]
_next_step_providers: dict[str, list[NextStepProvider]] = defaultdict(list)


def register_next_step(stage: str, provider: NextStepProvider) -> None:
    """A stage one app owns says what the client should do next in it; the
    first provider with an answer wins, then the core's default. (A stage
    whose conditions belong to several apps uses register_stage_tasks.)"""
    if provider not in _next_step_providers[stage]:
        _next_step_providers[stage].append(provider)


class TaskState(StrEnum):
    TODO = "todo"  # the client's move
    WAITING = "waiting"  # the clinic's move, or a date to come
    DONE = "done"


@dataclass(frozen=True)
class StageTask:
    """One condition of a stage as the client reads it: what it is, where it
    stands, and the next step it offers while it is not done."""

    label: str
    status: str
    state: TaskState
    step: NextStep | None = None
    # Among the open tasks offering a step, the client's moves come first,
    # then the lowest urgency (a clinician's question before a booking).
    urgency: int = 50


TaskProvider = Callable[[Course], list[StageTask]]
_task_providers: dict[str, list[TaskProvider]] = defaultdict(list)


def register_stage_tasks(stage: str, provider: TaskProvider) -> None:
    """A stage whose conditions belong to several apps (connect: the intake
    call, the screener), met in any order: each app says where its own part
    stands, and the portal shows them all with the most pressing one's step
    as the next step. The providers run in the order the apps are installed."""
    if provider not in _task_providers[stage]:
        _task_providers[stage].append(provider)


def unregister_stage_tasks(stage: str, provider: TaskProvider) -> None:
    _task_providers[stage].remove(provider)


DEFAULT_NEXT_STEPS: dict[str, NextStep] = {
    Stage.CONNECT: NextStep(
        _("Book your free intake call"),
        _("Meet the team and find out together whether the program fits you."),
        reverse_lazy("intake:start"),
        _("Book an intake call"),
    ),
    Stage.PREPARE: NextStep(
        _("Prepare for your sessions"),
        _("Your care team will guide you through the preparation modules and your consent."),
    ),
    Stage.DOSING: NextStep(
        _("Your dosing sessions"),
        _("Your coordinator schedules each dosing session with you."),
    ),
    Stage.INTEGRATE: NextStep(
        _("Integrate your experience"),
        _("Your integration sessions help you put the pieces back together."),
    ),
    Stage.RECONNECT: NextStep(
        _("Stay connected"),
        _("Join an integration group, or ask us about further treatment."),
    ),
    Stage.ON_HOLD: NextStep(
        _("Your course is on hold"),
        _("Your care team will contact you before anything resumes."),
    ),
    Stage.DECLINED: NextStep(
        _("The program is not the right fit at present"),
        _("Your care team has written to you with the reasons and other options."),
    ),
    Stage.WITHDRAWN: NextStep(
        _("Your course has ended"),
        _("If you would like to come back, contact the clinic: we will be glad to hear from you."),
    ),
}


# Every condition of the stage met, and the course not moved on yet (another
# condition, or a clinician's hand, is awaited).
ALL_TASKS_DONE = NextStep(
    _("You are ready for the next stage"),
    _("Your care team will move your course on and tell you what comes next."),
)


@dataclass(frozen=True)
class StageProgress:
    next_step: NextStep
    tasks: list[StageTask]  # empty for a stage whose app gives one next step


def stage_progress(course: Course) -> StageProgress:
    """The client's next step in the course's stage, and where each of the
    stage's conditions stands when apps registered tasks for it."""
    tasks = [
        task for provider in _task_providers.get(course.stage, []) for task in provider(course)
    ]
    if tasks:
        open_steps = [t for t in tasks if t.state != TaskState.DONE and t.step is not None]
        if not open_steps:
            done = all(t.state == TaskState.DONE for t in tasks)
            return StageProgress(ALL_TASKS_DONE if done else _default(course), tasks)
        first = min(open_steps, key=lambda t: (t.state != TaskState.TODO, t.urgency))
        return StageProgress(cast(NextStep, first.step), tasks)  # open steps offer one
    return StageProgress(_default(course), [])


def _default(course: Course) -> NextStep:
    for provider in _next_step_providers.get(course.stage, []):
        step = provider(course)
        if step is not None:
            return step
    return DEFAULT_NEXT_STEPS[course.stage]


def next_step(course: Course) -> NextStep:
    return stage_progress(course).next_step


# --- Moving a course -------------------------------------------------------------------


class JourneyError(Exception):
    """A stage change that the journey's rules refuse. `str()` is a sentence
    for the person who tried it."""


def _msg_not_allowed(course: Course, to_stage: str) -> str:
    return gettext("A course in the %(current)s stage cannot move to %(target)s.") % {
        "current": Stage(course.stage).label,
        "target": Stage(to_stage).label,
    }


MSG_STALE = gettext_noop(
    "This course changed while you were looking at it. Reload the page and try again."
)
MSG_NOT_PERMITTED = gettext_noop("You are not allowed to make this change to the course.")
MSG_ACTIVE_COURSE_EXISTS = gettext_noop("This client already has a course in progress.")
MSG_REASON_REQUIRED = gettext_noop("Please give a reason for this change.")


def is_administrative(from_stage: str, to_stage: str) -> bool:
    """Pausing a course, resuming it where it paused, or ending it: the
    clinic's organisation, not a clinical judgement. Every other transition
    (eligible, cleared for dosing, series complete, integration closed,
    declined) is clinical."""
    return to_stage in (Stage.ON_HOLD, Stage.WITHDRAWN) or from_stage == Stage.ON_HOLD


def needs_reason(from_stage: str, to_stage: str) -> bool:
    """An administrative change, or a decline, is always explained."""
    return to_stage == Stage.DECLINED or is_administrative(from_stage, to_stage)


# Who besides the clinic's clinicians may make an administrative change.
ADMINISTRATIVE_ROLES = frozenset({StaffRole.COORDINATOR})


def _actor_may(actor: User | None, course: Course, from_stage: str, to_stage: str) -> bool:
    """Who may move a course: clinical transitions belong to the clinicians
    of its clinic; administrative ones (hold, resume, withdraw) to them and
    the clinic's coordinators; a client may withdraw from their own course.
    The privacy officer moves no course. `None` is the system acting for a
    stage app whose own service already checked the person."""
    if actor is None:
        return True
    profile = getattr(actor, "staff_profile", None)
    if profile is not None:
        if not works_at(actor, course.clinic_id):
            return False
        if profile.is_clinician:
            return True
        return profile.role in ADMINISTRATIVE_ROLES and is_administrative(from_stage, to_stage)
    client = getattr(actor, "client_profile", None)
    return client is not None and client.pk == course.client_id and to_stage == Stage.WITHDRAWN


def _locked(course_pk: int) -> Course:
    """The course, its row locked until the transaction ends: a second
    transition of the same course waits here, then reads the stage the first
    one left (and is refused as stale)."""
    return Course.objects.select_for_update().select_related("client").get(pk=course_pk)


def _apply(current: Course, changes: dict) -> bool:
    """Write the change only if the stage is still the one read: the last
    line, should two transitions ever read the same stage at once."""
    return Course.objects.filter(pk=current.pk, stage=current.stage).update(**changes) == 1


def _transition(
    *, course: Course, to_stage: Stage, actor: User | None, reason: str, check_actor: bool
) -> Course:
    seen_stage = course.stage
    with transaction.atomic():
        current = _locked(course.pk)
        if current.stage != seen_stage:
            raise JourneyError(gettext(MSG_STALE))
        if to_stage not in allowed_targets(current):
            raise JourneyError(_msg_not_allowed(current, to_stage))
        if check_actor and not _actor_may(actor, current, current.stage, to_stage):
            raise JourneyError(gettext(MSG_NOT_PERMITTED))
        if check_actor and needs_reason(current.stage, to_stage) and not reason:
            raise JourneyError(gettext(MSG_REASON_REQUIRED))
        unmet = unmet_conditions(current, to_stage)
        if unmet:
            raise JourneyError(" ".join(str(u) for u in unmet))
        now = timezone.now()
        changes = {"stage": to_stage, "stage_changed_at": now}
        if to_stage == Stage.ON_HOLD:
            changes["stage_before_hold"] = current.stage
        elif current.stage == Stage.ON_HOLD:
            changes["stage_before_hold"] = ""
        if not _apply(current, changes):
            raise JourneyError(gettext(MSG_STALE))
        JourneyEvent.objects.create(
            course=current,
            from_stage=current.stage,
            to_stage=to_stage,
            actor=actor,
            reason=reason,
            at=now,
        )
        current.stage, current.stage_changed_at = to_stage, now
        for hook in _entered_hooks.get(to_stage, []):
            hook(current, seen_stage)
    course.refresh_from_db()
    course._loaded_stage = course.stage
    return course


def course_transition(
    *, course: Course, to_stage: str, actor: User | None, reason: str = ""
) -> Course:
    """Move a course to another stage, or raise JourneyError saying why not.

    Locks the course row, re-reads its stage, checks the transition table, the
    actor and every guard a stage app registered, then applies the change with
    a conditional update so two concurrent transitions cannot both apply.
    """
    target = Stage(to_stage)
    reason = reason.strip()
    # Asked again under the lock, on the stage as it is then (a resume's
    # reason depends on the course being on hold).
    if needs_reason(course.stage, target) and not reason:
        raise JourneyError(gettext(MSG_REASON_REQUIRED))
    return _transition(course=course, to_stage=target, actor=actor, reason=reason, check_actor=True)


@dataclass(frozen=True)
class Advance:
    """What `course_advance` did: whether the course moved on, and if not,
    the conditions of the next stage still unmet."""

    moved: bool
    unmet: list[str] = field(default_factory=list)


def course_advance(*, course: Course, cause: str, by: User | None = None) -> Advance:
    """An action has just made one of the conditions of the course's next
    stage true (a call held, a decision recorded, a consent signed): move the
    course on if every condition of that gate now holds.

    Every stage app calls this from the service whose action may complete a
    gate, inside that action's transaction, so the journey moves by itself
    whatever order the conditions are met in. The move is the journey's own
    (the person acted on a call or a consent, not on the stage, and their
    service checked them): no actor rule applies, and the event names the
    action (`cause`) and who did it (`by`)."""
    try:
        with transaction.atomic():
            # The stage as it is now, whatever the caller read before its action.
            fresh = _locked(course.pk)
            if fresh.stage not in FORWARD:
                return Advance(False)
            target = FORWARD[fresh.stage]
            _transition(course=fresh, to_stage=target, actor=by, reason=cause, check_actor=False)
    except JourneyError as exc:
        return Advance(False, [str(exc)])
    course.refresh_from_db()
    course._loaded_stage = course.stage
    return Advance(True)


def course_open(
    *, client: ClientProfile, actor: User | None, clinic: Clinic | None = None
) -> Course:
    """Start a client's course in the connect stage."""
    try:
        with transaction.atomic():
            course = Course(client=client, clinic=clinic or client.clinic, stage=Stage.CONNECT)
            course.full_clean(validate_constraints=False)
            course.save()
            JourneyEvent.objects.create(
                course=course, from_stage="", to_stage=Stage.CONNECT, actor=actor
            )
    except IntegrityError as exc:
        raise JourneyError(gettext(MSG_ACTIVE_COURSE_EXISTS)) from exc
    return course
