"""Reads of integration groups for the staff pages and the portal. Each
has a fixed number of queries whatever the number of groups, meetings and
clients."""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext_lazy as _

from clinic.journey import NextStep
from clinic.models import Appointment, ClientProfile, Course, User
from clinic.selectors import staff_clinic_ids

from .models import Attendance, Enrolment, GroupMeeting, IntegrationGroup

GROUPS_PER_PAGE = 25


def _next_meeting_start():
    return Subquery(
        Appointment.objects.filter(
            group_meeting__group=OuterRef("pk"),
            status=Appointment.Status.BOOKED,
            start__gt=timezone.now(),
        )
        .order_by("start")
        .values("start")[:1]
    )


def _with_counts(groups):
    return groups.annotate(
        enrolled_count=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.ENROLLED)),
        waitlist_count=Count(
            "enrolments", filter=Q(enrolments__status=Enrolment.Status.WAITLISTED)
        ),
        next_start=_next_meeting_start(),
    )


def staff_group_page(*, user: User, page: int | str | None) -> Page:
    """The groups of the person's clinics, next meeting first (ended groups
    last), with places taken, the waitlist and the facilitators: four
    queries (the clinics, the count, the page, its facilitators)."""
    groups = (
        _with_counts(IntegrationGroup.objects.filter(clinic_id__in=staff_clinic_ids(user=user)))
        .select_related("clinic", "room")
        .prefetch_related(
            Prefetch("facilitators", queryset=User.objects.order_by("last_name", "first_name"))
        )
        .order_by("next_start", "name_en", "pk")
    )
    return Paginator(groups, GROUPS_PER_PAGE).get_page(page)


def staff_group(*, user: User, group_uuid) -> IntegrationGroup | None:
    """A group at one of the person's clinics, or None (a 404)."""
    return (
        IntegrationGroup.objects.filter(uuid=group_uuid, clinic_id__in=staff_clinic_ids(user=user))
        .select_related("clinic", "room")
        .prefetch_related("facilitators")
        .first()
    )


def staff_meeting(*, user: User, meeting_uuid) -> GroupMeeting | None:
    return (
        GroupMeeting.objects.filter(
            uuid=meeting_uuid, group__clinic_id__in=staff_clinic_ids(user=user)
        )
        .select_related("appointment", "group__clinic", "group__room")
        .first()
    )


@dataclass
class MeetingRow:
    meeting: GroupMeeting
    start: datetime  # local
    end: datetime  # local
    present: int = 0
    marked: int = 0

    @property
    def is_cancelled(self) -> bool:
        return self.meeting.appointment.status == Appointment.Status.CANCELLED

    @property
    def rate(self) -> int | None:
        return round(100 * self.present / self.marked) if self.marked else None


@dataclass
class MemberRow:
    enrolment: Enrolment
    present: int = 0
    marked: int = 0
    waitlist_position: int | None = None

    @property
    def rate(self) -> int | None:
        return round(100 * self.present / self.marked) if self.marked else None


@dataclass
class GroupOverview:
    group: IntegrationGroup
    meetings: list[MeetingRow]
    members: list[MemberRow]
    waitlist: list[MemberRow]
    present: int = 0
    marked: int = 0

    @property
    def rate(self) -> int | None:
        return round(100 * self.present / self.marked) if self.marked else None

    @property
    def enrolments(self) -> list[Enrolment]:
        return [row.enrolment for row in self.members + self.waitlist]


def group_overview(*, group: IntegrationGroup) -> GroupOverview:
    """The group's meetings with the share present at each, its members with
    their own rate, and its waitlist in order: three queries."""
    zone = group.clinic.zone
    meetings = [
        MeetingRow(
            meeting=m,
            start=timezone.localtime(m.appointment.start, zone),
            end=timezone.localtime(m.appointment.end, zone),
        )
        for m in GroupMeeting.objects.filter(group=group)
        .select_related("appointment")
        .order_by("appointment__start", "number")
    ]
    enrolments = list(
        Enrolment.objects.filter(group=group)
        .exclude(status=Enrolment.Status.LEFT)
        .select_related("client__user")
        .order_by("position")
    )
    by_meeting = {row.meeting.pk: row for row in meetings}
    members = {e.pk: MemberRow(e) for e in enrolments}
    overview = GroupOverview(group=group, meetings=meetings, members=[], waitlist=[])
    for meeting_id, enrolment_id, mark in Attendance.objects.filter(
        meeting__group=group
    ).values_list("meeting_id", "enrolment_id", "mark"):
        present = mark == Attendance.Mark.PRESENT
        for row in (by_meeting.get(meeting_id), members.get(enrolment_id), overview):
            if row is not None:
                row.marked += 1
                row.present += present
    for row in members.values():
        if row.enrolment.status == Enrolment.Status.ENROLLED:
            overview.members.append(row)
        else:
            row.waitlist_position = len(overview.waitlist) + 1
            overview.waitlist.append(row)
    return overview


@dataclass
class SheetRow:
    enrolment: Enrolment
    mark: str


def attendance_sheet(*, meeting: GroupMeeting) -> list[SheetRow]:
    """Everyone enrolled in the group (and anyone marked at this meeting who
    has left since), with the mark recorded, by name: two queries."""
    marks = dict(Attendance.objects.filter(meeting=meeting).values_list("enrolment_id", "mark"))
    enrolments = (
        Enrolment.objects.filter(group_id=meeting.group_id)
        .filter(Q(status=Enrolment.Status.ENROLLED) | Q(pk__in=list(marks)))
        .select_related("client__user")
        .order_by("client__user__last_name", "client__user__first_name", "pk")
    )
    return [SheetRow(e, marks.get(e.pk, "")) for e in enrolments]


# --- The portal --------------------------------------------------------------------------------


@dataclass
class PortalGroup:
    group: IntegrationGroup
    places_left: int
    next_start: datetime | None  # in the client's zone
    enrolment: Enrolment | None = None
    waitlist_position: int | None = None
    may_join: bool = True

    @property
    def schedule(self) -> str:
        """Every Tuesday at 6:00 p.m., in the client's zone and language."""
        if self.next_start is None:
            return ""
        return _("every %(day)s at %(time)s") % {
            "day": date_format(self.next_start, "l"),
            "time": time_format(self.next_start, "TIME_FORMAT"),
        }

    @property
    def is_full(self) -> bool:
        return self.places_left <= 0


@dataclass
class PortalGroups:
    client: ClientProfile
    mine: list[PortalGroup] = field(default_factory=list)
    open: list[PortalGroup] = field(default_factory=list)


def _client_course(client: ClientProfile) -> Course | None:
    return Course.objects.filter(client=client).order_by("-opened_at", "-pk").first()


def portal_groups(*, client: ClientProfile) -> PortalGroups:
    """The groups the client is in or waiting for, and the open groups
    their clinic and stage allow, with places left and the next meeting in
    the client's own zone: four queries."""
    zone = client.clinic.zone
    course = _client_course(client)
    stage = course.stage if course else ""
    mine = {
        e.group_id: e
        for e in Enrolment.objects.filter(client=client).exclude(status=Enrolment.Status.LEFT)
    }
    groups = (
        _with_counts(
            IntegrationGroup.objects.filter(
                Q(pk__in=list(mine))
                | (
                    Q(is_open=True)
                    & (Q(clinic_id=client.clinic_id) | Q(other_clinics_may_join=True))
                )
            )
        )
        .select_related("clinic", "room")
        .order_by("next_start", "pk")
    )
    result = PortalGroups(client=client)
    waiting_ahead: dict[int, int] = {}
    waiting = [e for e in mine.values() if e.status == Enrolment.Status.WAITLISTED]
    if waiting:
        counts = Enrolment.objects.filter(status=Enrolment.Status.WAITLISTED).filter(
            Q(*[Q(group_id=e.group_id, position__lt=e.position) for e in waiting], _connector=Q.OR)
        )
        for group_id in counts.values_list("group_id", flat=True):
            waiting_ahead[group_id] = waiting_ahead.get(group_id, 0) + 1
    for group in groups:
        if group.next_start is None and group.pk not in mine:
            continue  # over
        row = PortalGroup(
            group=group,
            places_left=max(0, group.capacity - group.enrolled_count),
            next_start=timezone.localtime(group.next_start, zone) if group.next_start else None,
        )
        enrolment = mine.get(group.pk)
        if enrolment is not None:
            row.enrolment = enrolment
            if enrolment.status == Enrolment.Status.WAITLISTED:
                row.waitlist_position = waiting_ahead.get(group.pk, 0) + 1
            result.mine.append(row)
        elif stage in group.allowed_stages:
            result.open.append(row)
    return result


def portal_enrolment(*, client: ClientProfile, enrolment_uuid) -> Enrolment | None:
    """The client's own enrolment, or None (another client's id is a 404)."""
    return (
        Enrolment.objects.filter(uuid=enrolment_uuid, client=client).select_related("group").first()
    )


def portal_group(*, client: ClientProfile, group_uuid) -> IntegrationGroup | None:
    """A group this client could see in the portal (their clinic's, or one
    open to every clinic), or None."""
    return (
        IntegrationGroup.objects.filter(uuid=group_uuid)
        .filter(Q(clinic_id=client.clinic_id) | Q(other_clinics_may_join=True))
        .select_related("clinic")
        .first()
    )


def groups_next_step(course: Course) -> NextStep | None:
    """In integrate and reconnect: join an integration group (or see the
    ones the client is in)."""
    return NextStep(
        _("Join an integration group"),
        _(
            "Meet others who have been through the program, with a facilitator, on a regular schedule."
        ),
        reverse("groups:portal_list"),
        _("See the groups"),
    )
