import pytest

from sessions import content

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
