"""Reads the core pages need, each with a fixed number of queries."""

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from . import journey
from .models import (
    ACTIVE_STAGES,
    JOURNEY_STAGES,
    AccountClosureRequest,
    Appointment,
    AppointmentKind,
    ClientProfile,
    Clinic,
    Course,
    JourneyEvent,
    StaffProfile,
    StaffRole,
    Stage,
    User,
)


@dataclass(frozen=True)
class StageStep:
    stage: Stage
    state: str  # "done", "current" or "todo"


@dataclass(frozen=True)
class PortalOverview:
    client: ClientProfile
    course: Course | None
    steps: list[StageStep]
    percent: int
    next_step: journey.NextStep | None
    # Where each of the stage's conditions stands, when several apps own them.
    tasks: list[journey.StageTask] = field(default_factory=list)


def _steps(course: Course) -> tuple[list[StageStep], int]:
    stage = course.stage_before_hold if course.stage == Stage.ON_HOLD else course.stage
    if stage in JOURNEY_STAGES:
        index = JOURNEY_STAGES.index(stage)
    else:
        # Declined or withdrawn: the bar shows how far the journey got.
        last = next(
            (
                e.from_stage
                for e in course.events.order_by("-at", "-pk")
                if e.from_stage in JOURNEY_STAGES
            ),
            Stage.CONNECT,
        )
        index = JOURNEY_STAGES.index(last)
    steps = [
        StageStep(s, "done" if i < index else "current" if i == index else "todo")
        for i, s in enumerate(JOURNEY_STAGES)
    ]
    return steps, round(100 * (index + 1) / len(JOURNEY_STAGES))


def client_profile(*, user: User) -> ClientProfile | None:
    """The signed-in person's client profile, with their clinic."""
    return ClientProfile.objects.select_related("clinic", "user").filter(user=user).first()


def client_open_closure_requests(*, client: ClientProfile) -> list[AccountClosureRequest]:
    """The client's account-closure requests still open, oldest first."""
    return list(
        AccountClosureRequest.objects.filter(
            client=client, status=AccountClosureRequest.Status.OPEN
        ).order_by("requested_at", "pk")
    )


def active_course(*, client: ClientProfile) -> Course | None:
    """The client's course in progress (on hold included), if any: there is
    at most one (a database constraint)."""
    return (
        Course.objects.filter(client=client, stage__in=ACTIVE_STAGES)
        .select_related("clinic")
        .first()
    )


def client_portal_overview(*, user: User) -> PortalOverview | None:
    client = client_profile(user=user)
    if client is None:
        return None
    # The journey's events are read only for a course that has ended (one
    # more query then): the bar shows how far it got.
    course = (
        Course.objects.filter(client=client).select_related("clinic").order_by("-opened_at").first()
    )
    if course is None:
        return PortalOverview(client, None, [StageStep(s, "todo") for s in JOURNEY_STAGES], 0, None)
    steps, percent = _steps(course)
    progress = journey.stage_progress(course)
    return PortalOverview(client, course, steps, percent, progress.next_step, progress.tasks)


def client_offered_intake_booking(*, user: User) -> bool:
    """Whether the site offers this client to book an intake call: yes with
    no course in progress, or in connect with no intake call booked or held
    on the course; no once the course is past connect or on hold. One query."""
    calls = Appointment.objects.filter(
        client_id=OuterRef("client_id"),
        kind=AppointmentKind.INTAKE_CALL,
        status__in=[Appointment.Status.BOOKED, Appointment.Status.HELD],
        # This course's calls (booked once it was open): one held for an
        # earlier, closed course does not count.
        created_at__gte=OuterRef("opened_at"),
    )
    course = (
        Course.objects.filter(client__user=user, stage__in=ACTIVE_STAGES)
        .annotate(has_call=Exists(calls))
        .values_list("stage", "has_call")
        .first()
    )
    if course is None:
        return True
    stage, has_call = course
    return stage == Stage.CONNECT and not has_call


def public_team() -> QuerySet[StaffProfile]:
    return (
        StaffProfile.objects.filter(
            role__in=[StaffRole.THERAPIST, StaffRole.MEDICAL_PRACTITIONER], user__is_active=True
        )
        .select_related("user")
        .prefetch_related("clinics")
        .order_by("role", "user__last_name", "user__first_name")
    )


def public_clinics() -> QuerySet[Clinic]:
    return Clinic.objects.order_by("name")


def staff_clinic_ids(*, user: User) -> list[int]:
    profile = getattr(user, "staff_profile", None)
    if user.is_superuser and profile is None:
        return list(Clinic.objects.values_list("pk", flat=True))
    if profile is None:
        return []
    return list(profile.clinics.values_list("pk", flat=True))


def staff_clinics(*, user: User) -> QuerySet[Clinic]:
    """The clinics of staff_clinic_ids, read in one query (through the
    person's profile) rather than their ids first."""
    profile = getattr(user, "staff_profile", None)
    if profile is not None:
        return profile.clinics.all()
    return Clinic.objects.filter(pk__in=staff_clinic_ids(user=user))


def staff_course_page(*, user: User, page: int | str | None, stage: str = "") -> Page:
    courses = (
        Course.objects.filter(clinic_id__in=staff_clinic_ids(user=user))
        .select_related("client__user", "clinic")
        .order_by("-stage_changed_at", "-pk")
    )
    if stage in Stage.values:
        courses = courses.filter(stage=stage)
    return Paginator(courses, 25).get_page(page)


def staff_course_detail(*, user: User, course_uuid) -> Course | None:
    return (
        Course.objects.filter(uuid=course_uuid, clinic_id__in=staff_clinic_ids(user=user))
        .select_related("client__user", "clinic")
        .prefetch_related(
            Prefetch(
                "events", queryset=JourneyEvent.objects.select_related("actor").order_by("at", "pk")
            )
        )
        .first()
    )


def recovery_codes(*, user: User, authenticator_id: int | None) -> list[str] | None:
    """The unused recovery codes of this person's recovery-codes
    authenticator (by id, as the invitation page remembers it), or None."""
    from allauth.mfa.models import Authenticator

    if not authenticator_id or not user.is_authenticated:
        return None
    authenticator = Authenticator.objects.filter(
        pk=authenticator_id, user=user, type=Authenticator.Type.RECOVERY_CODES
    ).first()
    return authenticator.wrap().get_unused_codes() if authenticator else None
