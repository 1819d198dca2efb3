"""Models of this stage arrive with its issue."""

from .measures.models import MeasureInvitation, MeasureSettings  # noqa: F401
from .reconnect.models import (  # noqa: F401
    ContactPreferences,
    FurtherTreatmentRequest,
    IntegrationPlan,
)
