"""Test set-up for integration groups: a weekly group with its meetings."""

from datetime import date, time

from clinic.models import Course
from clinic.tests.factories import RoomFactory

from ..groups import services
from ..groups.recurrence import weekly_rule


def in_stage(client, stage: str) -> Course:
    course = client.courses.get()
    Course.objects.filter(pk=course.pk).update(stage=stage)
    return Course.objects.get(pk=course.pk)


def group_room(clinic, name: str = "Salle Cercle"):
    return RoomFactory(clinic=clinic, name=name, is_dosing_room=False)


def weekly_group(
    *,
    clinic,
    coordinator,
    facilitators,
    room=None,
    capacity: int = 8,
    first_day: date = date(2026, 6, 2),
    starts_at: time = time(18, 0),
    ends_at: time = time(19, 30),
    count: int = 8,
    name: str = "Tuesday circle",
    **extra,
):
    return services.group_create(
        clinic=clinic,
        actor=coordinator,
        name_en=name,
        name_fr=f"{name} (fr)",
        language="en",
        facilitators=facilitators,
        room=room if room is not None else group_room(clinic),
        capacity=capacity,
        schedule=services.Schedule(
            rule=weekly_rule(count=count), first_day=first_day, starts_at=starts_at, ends_at=ends_at
        ),
        **extra,
    )
