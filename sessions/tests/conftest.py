# The session record's fixtures (a course in dosing, its dose plan, a session under way).
from .record_factories import dose_plan, dosing_course, dosing_session  # noqa: F401
