"""Models of the integrate and reconnect stages, one package per area:
integration groups (`groups/`), individual integration sessions (`individual/`), measurement-based care (`measures/`), and the
end of integration and reconnect (`reconnect/`)."""

from .groups.models import Attendance, Enrolment, GroupMeeting, IntegrationGroup  # noqa: F401
from .individual.models import IndividualSession, IntegrationSessionSettings  # noqa: F401
from .measures.models import MeasureInvitation, MeasureSettings  # noqa: F401
from .reconnect.models import (  # noqa: F401
    ContactPreferences,
    FurtherTreatmentRequest,
    IntegrationPlan,
)
