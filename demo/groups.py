"""Integration groups in the demo and scale data.

`seed_demo_groups`: each clinic's weekly group, through the real services
(each its own transaction), with members, a waitlist and attendance at the
meetings already held; a second run changes nothing.
`fill_groups`: seed_scale's groups, written in bulk."""

import uuid
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentKind,
    ClientProfile,
    Clinic,
    Course,
    Reservation,
    Room,
    StaffRole,
    Stage,
    User,
)
from integration.groups import services
from integration.groups.models import Attendance, Enrolment, GroupMeeting, IntegrationGroup
from integration.groups.recurrence import weekly_rule

DEMO_GROUPS = {
    # slug: (English name, French name, language, weekday, hour, capacity)
    "montreal": ("Tuesday integration circle", "Cercle d’intégration du mardi", "fr", 1, 18, 3),
    "vancouver": ("Thursday integration circle", "Cercle d’intégration du jeudi", "en", 3, 19, 3),
}
MARKS = [Attendance.Mark.PRESENT, Attendance.Mark.PRESENT, Attendance.Mark.ABSENT]


def seed_demo_groups() -> None:
    for slug, (name_en, name_fr, language, weekday, hour, capacity) in DEMO_GROUPS.items():
        clinic = Clinic.objects.filter(slug=slug).first()
        if clinic is None or IntegrationGroup.objects.filter(clinic=clinic).exists():
            continue
        coordinator = User.objects.filter(
            staff_profile__role=StaffRole.COORDINATOR, staff_profile__clinics=clinic
        ).first()
        therapist = User.objects.filter(
            staff_profile__role=StaffRole.THERAPIST, staff_profile__clinics=clinic
        ).first()
        room = (
            Room.objects.filter(clinic=clinic, is_dosing_room=False).first()
            or Room.objects.filter(clinic=clinic).first()
        )
        if coordinator is None or therapist is None:
            continue
        # Three weeks of meetings already held, nine to come.
        today = timezone.localdate(timezone=clinic.zone)
        first_day = today - timedelta(days=21 + (today.weekday() - weekday) % 7)
        group = services.group_create(
            clinic=clinic,
            actor=coordinator,
            name_en=name_en,
            name_fr=name_fr,
            theme_en="Putting the pieces back together, with others who have walked the same path.",
            theme_fr="Rassembler les morceaux, avec d’autres qui ont fait le même chemin.",
            language=language,
            facilitators=[therapist],
            room=room,
            capacity=capacity,
            allowed_stages=[Stage.PREPARE, Stage.DOSING, Stage.INTEGRATE, Stage.RECONNECT],
            schedule=services.Schedule(
                rule=weekly_rule(count=12),
                first_day=first_day,
                starts_at=time(hour),
                ends_at=time(hour + 1, 30),
            ),
        )
        # The clients past connect, in journey order: the first three take
        # the places, the next waits.
        stages: list[str] = [Stage.RECONNECT, Stage.INTEGRATE, Stage.DOSING, Stage.PREPARE]
        courses = sorted(
            Course.objects.filter(clinic=clinic, stage__in=stages).select_related("client"),
            key=lambda c: stages.index(c.stage),
        )
        for course in courses:
            try:
                services.group_enrol(group=group, client=course.client, waitlist=True)
            except services.GroupError:
                continue  # busy at a meeting time: the demo goes on without them
        enrolled = list(Enrolment.objects.filter(group=group, status=Enrolment.Status.ENROLLED))
        now = timezone.now()
        held = GroupMeeting.objects.filter(group=group, appointment__start__lt=now).order_by(
            "number"
        )
        for i, meeting in enumerate(held):
            services.attendance_take(
                meeting=meeting,
                actor=therapist,
                marks={e.pk: MARKS[(i + j) % len(MARKS)] for j, e in enumerate(enrolled)},
                now=now,
            )


# --- Scale -----------------------------------------------------------------------------------

GROUPS_PER_CLINIC = 4
MEETINGS_PER_GROUP = 8
GROUP_CAPACITY = 10
GROUP_WAITLIST = 3


def fill_groups(
    *,
    clinic: Clinic,
    rooms: list[Room],
    therapists: list[User],
    coordinator: User,
    clients: list[ClientProfile],
    today: date,
    now: datetime,
    batch: int,
) -> int:
    """The clinic's evening groups in its rooms that are not for dosing
    (the room board fills them by day): four weekly groups of eight
    meetings, each full with a waitlist, from four weeks ago. The rooms'
    reservations are live and never overlap; people's are not (the scale
    data's other appointments hold them at random times)."""
    offices = [r for r in rooms if not r.is_dosing_room] or rooms
    if not (offices and therapists and clients):
        return 0
    zone = clinic.zone
    start_day = today - timedelta(days=28)
    groups = IntegrationGroup.objects.bulk_create(
        IntegrationGroup(
            clinic=clinic,
            name_en=f"Evening circle {n + 1}",
            name_fr=f"Cercle du soir {n + 1}",
            language="fr" if n % 2 else "en",
            room=offices[n % len(offices)],
            capacity=GROUP_CAPACITY,
            allowed_stages=[Stage.INTEGRATE, Stage.RECONNECT],
            recurrence=weekly_rule(count=MEETINGS_PER_GROUP),
            created_by=coordinator,
            next_ticket=GROUP_CAPACITY + GROUP_WAITLIST + 1,
        )
        for n in range(GROUPS_PER_CLINIC)
    )
    through = IntegrationGroup.facilitators.through
    through.objects.bulk_create(
        through(integrationgroup=g, user=therapists[n % len(therapists)])
        for n, g in enumerate(groups)
    )
    appointments, meetings = [], []
    for n, group in enumerate(groups):
        # Two groups an evening in each office: 18:00 and 19:45, on four weekdays.
        day0 = start_day + timedelta(days=n // (2 * len(offices)) % 4)
        at = time(18) if (n // len(offices)) % 2 == 0 else time(19, 45)
        for k in range(MEETINGS_PER_GROUP):
            start = datetime.combine(day0 + timedelta(weeks=k), at, tzinfo=zone)
            appointments.append(
                Appointment(
                    clinic=clinic,
                    kind=AppointmentKind.GROUP_MEETING,
                    start=start,
                    end=start + timedelta(minutes=90),
                    room=group.room,
                    status=Appointment.Status.HELD if start < now else Appointment.Status.BOOKED,
                )
            )
            meetings.append(GroupMeeting(group=group, number=k + 1))
    Appointment.objects.bulk_create(appointments, batch_size=batch)
    for appointment, meeting in zip(appointments, meetings, strict=True):
        meeting.appointment = appointment
    GroupMeeting.objects.bulk_create(meetings, batch_size=batch)
    Reservation.objects.bulk_create(
        (Reservation(appointment=a, room=a.room, start=a.start, end=a.end) for a in appointments),
        batch_size=batch,
    )
    enrolments: list[Enrolment] = []
    per_group = GROUP_CAPACITY + GROUP_WAITLIST
    for n, group in enumerate(groups):
        for p in range(per_group):
            client = clients[(n * per_group + p) % len(clients)]
            if any(e.group_id == group.pk and e.client_id == client.pk for e in enrolments):
                break
            enrolments.append(
                Enrolment(
                    uuid=uuid.uuid4(),
                    group=group,
                    client=client,
                    status=Enrolment.Status.ENROLLED
                    if p < GROUP_CAPACITY
                    else Enrolment.Status.WAITLISTED,
                    position=p + 1,
                )
            )
    Enrolment.objects.bulk_create(enrolments, batch_size=batch)
    return len(groups)
