from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clinic.models import Stage
from sessions import content
from sessions.tests.factories import dosing_room, in_stage, office, team

# The session record's fixtures (a course in dosing, its dose plan, a session under way).
from .record_factories import dose_plan, dosing_course, dosing_session  # noqa: F401

# The recordings' fixtures (a course in dosing, its session, a filming consent, a private folder).
from .recording_factories import (  # noqa: F401
    filming_consent,
    recording_course,
    recording_session,
    recordings_folder,
)


@pytest.fixture(autouse=True)
def preparation_content(db):
    """The modules and consents a clinic starts with. The migration installs
    them, but a transactional test before this one may have flushed them."""
    content.install()


# --- Scheduling (the room board's tests) -----------------------------------------------

MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)  # a Monday morning, clear of DST changes
THURSDAY_9 = datetime(2026, 6, 4, 9, 0, tzinfo=MTL)


@pytest.fixture
def clock():
    """The clock stopped at NOW; tests move it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def room(clinic_qc):
    return dosing_room(clinic_qc)


@pytest.fixture
def room_2(clinic_qc):
    return dosing_room(clinic_qc, "Salle Mont-Royal")


@pytest.fixture
def consult_room(clinic_qc):
    return office(clinic_qc)


@pytest.fixture
def dosing_team(room, therapist, medical_practitioner):
    return team(room, therapist, medical_practitioner)


@pytest.fixture
def course_in_dosing(client_a):
    return in_stage(client_a, Stage.DOSING)


@pytest.fixture
def course_in_prepare(client_b):
    return in_stage(client_b, Stage.PREPARE)
