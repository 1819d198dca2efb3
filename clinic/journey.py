"""The journey's rules: which stage may follow which, and the hooks stage apps
plug into (guards on a transition, the client's next step in a stage).

The core never imports a stage app. An app registers its conditions from its
AppConfig.ready(): eligibility guards CONNECT -> PREPARE with "an eligible
decision on a current screening", the sessions app guards PREPARE -> DOSING,
and so on.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from .models import Course, Stage

FORWARD = {
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
    targets = {Stage.WITHDRAWN}
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


def unmet_conditions(course: Course, to_stage: str) -> list[str]:
    unmet: list[str] = []
    for guard in _guards.get((course.stage, to_stage), []):
        unmet.extend(guard(course))
    return unmet


@dataclass(frozen=True)
class NextStep:
    title: str
    text: str
    url: str = ""  # a path, not a URL name
    link_text: str = ""


NextStepProvider = Callable[[Course], NextStep | None]
_next_step_providers: dict[str, list[NextStepProvider]] = defaultdict(list)


def register_next_step(stage: str, provider: NextStepProvider) -> None:
    """Stage apps say what the client should do next in their stage; the
    first provider with an answer wins, then the core's default."""
    if provider not in _next_step_providers[stage]:
        _next_step_providers[stage].append(provider)


DEFAULT_NEXT_STEPS = {
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


def next_step(course: Course) -> NextStep:
    for provider in _next_step_providers.get(course.stage, []):
        step = provider(course)
        if step is not None:
            return step
    return DEFAULT_NEXT_STEPS[course.stage]
