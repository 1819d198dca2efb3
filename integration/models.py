"""Models of the integrate and reconnect stages. Integration groups live in
`groups/models.py`."""

from .groups.models import Attendance, Enrolment, GroupMeeting, IntegrationGroup  # noqa: F401
