"""Set-up for the scheduling tests: courses at a stage, rooms, teams, bookings."""

from datetime import datetime

from clinic.models import Course, Room
from clinic.tests.factories import RoomFactory
from sessions.services import scheduling


def in_stage(client, stage: str) -> Course:
    """Test set-up: the client's course put straight into `stage` (the
    journey's own tests cover how a course gets there)."""
    course = client.courses.get()
    Course.objects.filter(pk=course.pk).update(stage=stage)
    return Course.objects.select_related("client__user", "clinic").get(pk=course.pk)


def dosing_room(clinic, name: str = "Salle Fleuve") -> Room:
    return RoomFactory(clinic=clinic, name=name, is_dosing_room=True)


def office(clinic, name: str = "Bureau 2") -> Room:
    return RoomFactory(clinic=clinic, name=name, is_dosing_room=False)


def team(room, therapist, practitioner) -> scheduling.DosingTeam:
    return scheduling.DosingTeam(room=room, therapist=therapist, practitioner=practitioner)


def book_dosing(course, starts: list[datetime], dosing_team, actor):
    return scheduling.dosing_sessions_book(
        course=course, starts=starts, team=dosing_team, actor=actor
    )
