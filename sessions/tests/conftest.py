import pytest

from sessions import content

# The session record's fixtures (a course in dosing, its dose plan, a session under way).
from .record_factories import dose_plan, dosing_course, dosing_session  # noqa: F401


@pytest.fixture(autouse=True)
def preparation_content(db):
    """The modules and consents a clinic starts with. The migration installs
    them, but a transactional test before this one may have flushed them."""
    content.install()
