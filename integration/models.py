"""Models of this stage arrive with its issue."""

from .measures.models import MeasureInvitation, MeasureSettings  # noqa: F401
